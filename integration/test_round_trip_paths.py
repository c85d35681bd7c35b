"""The round-trip matrix of integration/test_exchange.py on every path a value can take
between Python and R, in Tandem's shapes: a Python value comes back equal, dtype
and all; an R value comes back `identical()`.

Each test runs every case of one path in one kernel and reports all the cases
that did not survive, so that one failing case does not hide the others.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_cell, running_kernel
from test_exchange import HELPERS, PY_CASES, R_CASES

# Python -> R -> Python: code that sets `back` from `original`.
PY_PATHS = {
    "r.x": "r.v = original\nback = r.v",
    "r(...)": "r.v = original\nback = r('v')",
    "%%R -i/-o": "get_ipython().run_cell_magic('R', '-i v=original -o back', 'back <- v')",
    "%Rpush/%Rget": "v = original\nget_ipython().run_line_magic('Rpush', 'v')\nback = get_ipython().run_line_magic('Rget', 'v')",
    "%R -i": "v = original\nback = get_ipython().run_line_magic('R', '-i v v')",
    "py$": "get_ipython().run_cell_magic('R', '', 'x <- py$original\\npy$back <- x')",
    "submit_r": "back = tandem.submit_r('v', v=original).result(timeout=60)",
}

# R -> Python -> R: R code that sets `back` from `original`.
R_PATHS = {
    "py$": "py$v <- original\nback <- py$v",
    "%%R -o/-i": None,  # two cells: -o to Python, then -i back
    "r.x": None,  # Python reads r.original, assigns it as r.back
    "py_future": "back <- future::value(py_future('v', v = original))",
}


def _python_path_failures(kc, path: str) -> dict[str, str]:
    """The cases that did not survive, each with why."""
    failures = {}
    for expr, _, _ in PY_CASES:
        code = f"original = {expr}\n{PY_PATHS[path]}\nsame(original, back)"
        content, outputs = run_cell(kc, code, timeout=60)
        if content["status"] != "ok":
            failures[expr] = f"{content.get('ename')}: {content.get('evalue', '')[:200]}"
    return failures


def _r_path_failures(kc, path: str) -> dict[str, str]:
    """The cases that did not survive, each with why."""
    failures = {}
    check = "\nif (!identical(back, original)) stop('not identical: ', paste(deparse(back), collapse = ''))"
    for expr in R_CASES:
        cells = [f"%%R\noriginal <- {expr}"]
        if path == "%%R -o/-i":
            cells += ["%%R -o v\nv <- original", f"%%R -i v\nback <- v{check}"]
        elif path == "r.x":
            cells += ["r.back = r.original", f"%%R\n{check}"]
        else:
            cells[0] += f"\n{R_PATHS[path]}{check}"
        for code in cells:
            content, outputs = run_cell(kc, code, timeout=60)
            if content["status"] != "ok":
                failures[expr] = content.get("evalue", "")[:200]
                break
    return failures


# The paths whose shapes do not depend on rpy2's extension being loaded; the
# magics' paths in rpy2's shapes are checked against rpy2 itself below.
SHAPE_FREE = {"r.x", "r(...)", "py$", "submit_r", "py_future"}


@pytest.fixture(scope="module")
def shared(request):
    """A kernel in Tandem's shapes, or in a notebook that loaded rpy2.ipython."""
    setup = HELPERS + "\nimport tandem" + ("\n%load_ext rpy2.ipython" if request.param == "rpy2" else "")
    with running_kernel(setup=setup) as (km, kc):
        yield kc


def _combinations(paths: dict) -> list[tuple[str, str]]:
    return [("tandem", path) for path in paths] + [("rpy2", path) for path in paths if path in SHAPE_FREE]


@pytest.mark.parametrize(("shared", "path"), _combinations(PY_PATHS), indirect=["shared"])
def test_python_values_come_back_equal(shared, path):
    failures = _python_path_failures(shared, path)
    assert not failures, json.dumps(failures, indent=1)


@pytest.mark.parametrize(("shared", "path"), _combinations(R_PATHS), indirect=["shared"])
def test_r_values_come_back_identical(shared, path):
    failures = _r_path_failures(shared, path)
    assert not failures, json.dumps(failures, indent=1)


# In a notebook that loaded rpy2.ipython the magics give rpy2's shapes; a value
# must then survive wherever rpy2 itself keeps it (run side by side with rpy2).
RPY2_PY_PATHS = ["%%R -i/-o", "%Rpush/%Rget"]
RPY2_R_PATHS = ["%%R -o/-i"]


def _kept(kc, python_paths: list[str], r_paths: list[str]) -> set[tuple[str, str]]:
    kept = set()
    for path in python_paths:
        failed = _python_path_failures(kc, path)
        kept |= {(path, expr) for expr, _, _ in PY_CASES if expr not in failed}
    for path in r_paths:
        failed = _r_path_failures(kc, path)
        kept |= {(path, expr) for expr in R_CASES if expr not in failed}
    return kept


def test_rpy2_mode_keeps_every_value_rpy2_keeps():
    from test_differential import ANCHOR_PYTHON

    from conftest import install_anchor_kernels

    anchor, tandem = install_anchor_kernels(ANCHOR_PYTHON)
    setup = HELPERS + "\n%load_ext rpy2.ipython"
    with running_kernel(anchor, setup=setup) as (_, kc):
        by_rpy2 = _kept(kc, RPY2_PY_PATHS, RPY2_R_PATHS)
    with running_kernel(tandem, setup=setup) as (_, kc):
        by_tandem = _kept(kc, RPY2_PY_PATHS, RPY2_R_PATHS)
    assert len(by_rpy2) >= 10  # rpy2 itself keeps a good part of the matrix
    assert not by_rpy2 - by_tandem, sorted(by_rpy2 - by_tandem)
