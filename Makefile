# Tandem: `make run` and `make test` work on a fresh Debian machine (as root).
# Every step is idempotent and skipped when nothing changed.

SHELL := /bin/bash
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
BENCH_VENV := $(ROOT)/.venv-bench
PY := $(VENV)/bin/python
# Debian's own python3, not whatever python3 is first on PATH.
SYSTEM_PYTHON := $(shell command -p -v python3 || echo /usr/bin/python3)
SWIFT_CONFIG ?= release
# A static Swift runtime starts faster and keeps the installed kernel self-contained.
SWIFT_FLAGS := -c $(SWIFT_CONFIG) --static-swift-stdlib
BIN_DIR = $(shell swift build $(SWIFT_FLAGS) --show-bin-path)
TANDEM = $(BIN_DIR)/tandem
APT_PACKAGES := libzmq3-dev libssl-dev libpython3-dev python3-venv pkg-config gcc make \
  r-base-core r-cran-pbdzmq r-cran-jsonlite r-cran-repr r-cran-irdisplay \
  r-cran-bit64 r-cran-irkernel r-cran-reticulate r-cran-testthat \
  r-cran-future r-cran-future.apply r-cran-furrr r-cran-progressr chromium chromium-driver \
  r-cran-ggplot2 r-cran-tidyverse r-cran-data.table r-cran-broom prometheus
R_LIBRARY := $(VENV)/R-library
R_SOURCES := $(shell find r/tandem -type f ! -name '*.o' ! -name '*.so')
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT := $(ROOT)/out


.PHONY: run test setup apt venv rlib pycache build kernelspec install wheel unit integration bench bench-venv clean

run: setup build kernelspec
	@mkdir -p $(OUT)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute notebooks/tour.ipynb \
	  --ExecutePreprocessor.kernel_name=tandem --output-dir $(OUT) --output tour.ipynb
	@echo "Executed notebook: $(OUT)/tour.ipynb"

test: setup build kernelspec unit integration

setup: apt venv rlib

apt: .build/apt.stamp
# Re-checked when the Makefile (and so the package list) changes.
.build/apt.stamp: Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@mkdir -p .build && touch $@

venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements.txt python/pyproject.toml python/setup.py python/tandem/_strings.c python/tandem/_murmur.c .build/apt.stamp
	[ -x $(PY) ] || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --config-settings editable_mode=compat -e python
	touch $@

# Tandem's R package, in a library the kernel puts first on .libPaths().
rlib: $(R_LIBRARY)/.stamp
$(R_LIBRARY)/.stamp: $(R_SOURCES) .build/apt.stamp $(VENV)/.stamp
	mkdir -p $(R_LIBRARY)
	R CMD INSTALL --clean --no-test-load --no-html -l $(R_LIBRARY) r/tandem
	touch $@

build: .build/apt.stamp
	swift build $(SWIFT_FLAGS)

# Tandem's Python half, byte-compiled here: the kernel imports it at every start, and
# where PYTHONDONTWRITEBYTECODE is set (CI machines) nothing else would cache it.
pycache: .build/pycache.stamp
.build/pycache.stamp: $(wildcard python/tandem/*.py) $(VENV)/.stamp
	$(PY) -m compileall -q python/tandem
	@mkdir -p .build && touch $@

kernelspec: build venv rlib pycache
	$(TANDEM) install --user --python $(PY) --resources $(ROOT)/kernelspec

# An installation that stands without the source tree: the program and its kernel
# library, Tandem's R package in a library the kernel puts first on .libPaths(),
# the Python half as an abi3 wheel (one for every CPython 3.10-3.13) and the logos. Then
# `PREFIX/bin/tandem install --python ENV/bin/python` for each environment.
PREFIX ?= /usr/local
install: build venv
	install -d $(PREFIX)/bin $(PREFIX)/lib/tandem/R-library $(PREFIX)/share/tandem/python $(PREFIX)/share/tandem/kernelspec
	install -m 755 $(TANDEM) $(BIN_DIR)/libTandemMain.so $(PREFIX)/bin
	R CMD INSTALL --clean --no-test-load --no-html -l $(PREFIX)/lib/tandem/R-library r/tandem
	rm -f $(PREFIX)/share/tandem/python/tandem-*.whl
	$(PY) -m pip wheel -q --disable-pip-version-check --no-deps -w $(PREFIX)/share/tandem/python ./python
	install -m 644 kernelspec/logo-* $(PREFIX)/share/tandem/kernelspec
	@echo "Installed Tandem in $(PREFIX); add a Python environment with: $(PREFIX)/bin/tandem install --python ENV/bin/python"

# The binary wheel: `pip install dist/tandem_kernel-*.whl`, then `tandem install`.
# It carries the stripped program and kernel library, the Python half, the R
# package's source and the logos; auditwheel copies in the libraries the kernel
# links beyond its policy (libzmq, libcrypto and theirs) and tags the wheel with
# the glibc it needs.
WHEEL_STAGE := $(ROOT)/.build/wheel
wheel: build venv
	rm -rf $(WHEEL_STAGE) && mkdir -p $(WHEEL_STAGE)/payload/bin $(WHEEL_STAGE)/payload/kernelspec $(WHEEL_STAGE)/raw
	strip -o $(WHEEL_STAGE)/payload/bin/tandem $(TANDEM)
	strip -o $(WHEEL_STAGE)/payload/bin/libTandemMain.so $(BIN_DIR)/libTandemMain.so
	tar -C r -c --exclude='*.o' --exclude='*.so' tandem | tar -C $(WHEEL_STAGE)/payload -x --one-top-level=r
	install -m 644 kernelspec/logo-* $(WHEEL_STAGE)/payload/kernelspec
	tar -c --exclude=build --exclude='*.egg-info' --exclude=__pycache__ --exclude='*.so' python \
	  | tar -C $(WHEEL_STAGE) -x
	TANDEM_WHEEL_PAYLOAD=$(WHEEL_STAGE)/payload $(PY) -m pip wheel -q --disable-pip-version-check --no-deps \
	  -w $(WHEEL_STAGE)/raw $(WHEEL_STAGE)/python
	mkdir -p dist && rm -f dist/tandem_kernel-*.whl
	PATH=$(VENV)/bin:$$PATH auditwheel repair -w dist $(WHEEL_STAGE)/raw/tandem_kernel-*.whl
	@echo "Wheel: $$(ls dist/tandem_kernel-*.whl)"

# Unit tests of the pure parts: Swift (Tests/), the Python half (python/tests/),
# the R half (testthat); `integration` drives the built kernel.
unit: .build/apt.stamp rlib venv
	swift test
	$(PY) -m pytest python/tests -q
	R_LIBS=$(R_LIBRARY) Rscript -e 'testthat::test_dir("r/tandem/tests/testthat", package = "tandem", load_package = "installed", stop_on_failure = TRUE)' 

# bench-venv: integration/test_differential.py runs notebooks under ipykernel + rpy2 there.
integration: build venv bench-venv
	TANDEM_BIN=$(TANDEM) TANDEM_PYTHON=$(PY) \
	  TANDEM_ANCHOR_PYTHON=$(BENCH_VENV)/bin/python $(PY) -m pytest integration -q

# The anchors (rpy2, reticulate, ipykernel + rpy2) need pandas 2: their own venv.
bench-venv: $(BENCH_VENV)/.stamp
$(BENCH_VENV)/.stamp: bench/requirements.txt python/pyproject.toml python/setup.py python/tandem/_strings.c python/tandem/_murmur.c .build/apt.stamp
	[ -x $(BENCH_VENV)/bin/python ] || $(SYSTEM_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-cache-dir -r bench/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps --config-settings editable_mode=compat -e python
	touch $@

bench: setup build bench-venv
	TANDEM_BIN=$(TANDEM) TANDEM_PYTHON=$(PY) $(PY) bench/latency.py
	TANDEM_BIN=$(TANDEM) $(PY) bench/transfer.py --python $(BENCH_VENV)/bin/python --r-library $(R_LIBRARY)
	TANDEM_BIN=$(TANDEM) TANDEM_PYTHON=$(PY) $(PY) bench/futures.py
	TANDEM_BIN=$(TANDEM) TANDEM_PYTHON=$(PY) $(PY) bench/python_speed.py
	TANDEM_BIN=$(TANDEM) TANDEM_PYTHON=$(PY) $(PY) bench/idle.py
	TANDEM_BIN=$(TANDEM) TANDEM_PYTHON=$(PY) $(PY) bench/large_values.py

clean:
	rm -rf .build $(VENV) $(BENCH_VENV) $(OUT) dist
