"""Public notebooks run under the kernel they were written for and under Tandem, in
one environment, and compared cell by cell: what the user sees must be the same.

The corpus (`integration/corpus/`, origins, licences and edits in its SOURCES.md)
has a folder per incumbent:

- `python/`: ipykernel 7.4 and the `tandem` kernel, both in the project's `.venv`;
- `r/`: IRkernel 1.3.2 and the `tandem-r` kernel, on the same R;
- `rpy2/`: ipykernel with rpy2 3.5 and Tandem embedding that same environment
  (`.venv-bench`).

For every code cell the two runs must agree on: the text of stdout and of stderr,
each result's `text/plain` and set of mimetypes, whether the cell failed (and the
error's name), and the pixel size of each PNG, whose content must not be blank
where the incumbent's is not. A first cell, not compared, fixes the seeds of
Python's and R's random numbers. Before comparing, text is normalised only for
what differs between any two runs of one kernel (addresses, timings, the random
tips of ggplot2) and for the differences the README lists with their reasons
(`LISTED` below names each). Any folder in `TANDEM_CORPUS` (with the same
subfolders) is run the same way.
"""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

from conftest import PYTHON, ROOT, install_anchor_kernels, install_ipykernel, install_irkernel

ANCHOR_PYTHON = os.environ.get("TANDEM_ANCHOR_PYTHON") or str(ROOT / ".venv-bench" / "bin" / "python")
CORPORA = [Path(__file__).parent / "corpus"] + [Path(p) for p in os.environ.get("TANDEM_CORPUS", "").split(":") if p]
KINDS = ("python", "r", "rpy2")
NOTEBOOKS = [(kind, path) for corpus in CORPORA for kind in KINDS for path in sorted((corpus / kind).glob("*.ipynb"))]

# The first cell of each run, not compared: seeds fixed as the author's run had them.
PYTHON_SEEDS = "import random as _r; _r.seed(0)\ntry:\n    import numpy as _np; _np.random.seed(0)\nexcept ImportError:\n    pass"
SEEDS = {
    "python": (PYTHON_SEEDS, PYTHON_SEEDS),
    "r": ("set.seed(0)", "set.seed(0)"),
    # (rpy2's R warns here that Debian's first site library is empty, in the place
    # of the first %R cell's result otherwise.)
    "rpy2": (PYTHON_SEEDS + "\n%load_ext rpy2.ipython\n%R set.seed(0)",) * 2,
}

# What differs between two runs of one kernel.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RUN_TO_RUN = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0x?"),  # addresses
    (re.compile(r"<environment: [^>]+>"), "<environment>"),
    # Timings (%%time, %timeit): the numbers and units of durations.
    # IPython writes times with %g: "2.1 ms", "1e+03 ns".
    (re.compile(r"\b\d+(\.\d+)?(e[+-]?\d+)?\s*(ns|[µμ]s|us|ms|s|min)(?!\w)"), "<time>"),
]
# ggplot2's attach tip (`ggplot2:::random_tip()`), shown at random one time in ten
# in an interactive R (rpy2's embedded R is one): random text.
_GGPLOT2_TIPS = [
    "RStudio Community is a great place to get help: https://community.rstudio.com/c/tidyverse",
    "Learn more about the underlying theory at https://ggplot2-book.org/",
    "Keep up to date with changes at https://www.tidyverse.org/blog/",
    "Use suppressPackageStartupMessages() to eliminate package startup messages",
    "Need help? Try Stackoverflow: https://stackoverflow.com/tags/ggplot2",
    "Need help getting started? Try the R Graphics Cookbook: https://r-graphics.org",
    "Want to understand how all the pieces fit together? Read R for Data Science: https://r4ds.had.co.nz/",
]
_GGPLOT2_TIP = re.compile("|".join(r"\s+".join(map(re.escape, tip.split())) for tip in _GGPLOT2_TIPS))
# An rpy2 proxy as rpy2 3.5's `%Rpull` assigns it (README: Tandem assigns the
# converted value): in the incumbent's text it stands for whatever Tandem shows
# in its place.
_RPY2_PROXY = re.compile(r"^<rpy2\.[\w.]+ object at 0x\?> \[\d+\]$")
WILDCARD = "<any lines>"
# rpy2's R warns at each package it attaches that Debian's first site library
# (/usr/local/lib/R/site-library) is empty, in the next cell that prints: noise
# of the incumbent's set-up.
_EMPTY_LIBRARY = re.compile(
    r"(In addition: )?Warning messages?:\n((\d+: )?In \(function \(package[^\n]*\n\s*library [^\n]* contains no packages\n?)+"
)

#: Cells where the incumbent fails for a reason the README lists, and Tandem
#: does not: their errors and text are not compared.
LISTED_CELLS = {
    # rpy2 3.5's %Rpull assigns a proxy, which has no `.data`.
    ("IPython - R Magics.ipynb", 17): "rpy2's %Rpull proxy",
}
#: The differences the README lists (*Differences from the incumbents*), by the
#: reason given there: each maps the incumbent's text and Tandem's to one form.
LISTED = {
    # An R error in Python is tandem.RError, in rpy2 an RRuntimeError.
    "rpy2 error class": [
        (re.compile(r"\b(RRuntimeError|RInterpreterError|rpy2\.rinterface_lib\.embedded\.RError|tandem\.RError)\b"),
         "RError"),
    ],
    # rpy2's %R returns fixed-width strings, Tandem object arrays.
    "rpy2 string arrays": [(re.compile(r",\s*dtype='<U\d+'|,\s*dtype=object"), "")],
}
# Where a difference is listed as the same text in other columns: R's print and
# repr's text pad alignment differently (rpy2 prints, Tandem shows repr's text).
_SPACES = re.compile(r"[ \t]+")


def normalise(text: str, kind: str) -> list[str]:
    text = _ANSI.sub("", text)
    text = _GGPLOT2_TIP.sub("", text)
    if kind == "rpy2":
        text = _EMPTY_LIBRARY.sub("", text)
    for pattern, replacement in _RUN_TO_RUN:
        text = pattern.sub(replacement, text)
    if kind == "rpy2":
        for rules in LISTED.values():
            for pattern, replacement in rules:
                text = pattern.sub(replacement, text)
        text = _SPACES.sub(" ", text)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return [WILDCARD if kind == "rpy2" and _RPY2_PROXY.match(line.strip()) else line for line in lines]


def lines_match(want: list, got: list) -> bool:
    """Whether ``got`` is ``want`` item for item, a WILDCARD in ``want`` standing
    for one or more items of ``got``."""
    if not want:
        return not got
    if want[0] != WILDCARD:
        return bool(got) and got[0] == want[0] and lines_match(want[1:], got[1:])
    return any(lines_match(want[1:], got[taken:]) for taken in range(1, len(got) + 1))


def seen(cell, kind: str) -> dict:
    """What the user sees of a cell, in the terms compared."""
    streams = {"stdout": "", "stderr": ""}
    results = []
    pictures = []
    error = None
    r_cell = kind == "rpy2" and cell.source.startswith("%%R")
    for output in cell.outputs:
        if output.output_type == "stream":
            streams[output.name] += output.text
        elif output.output_type == "error":
            error = normalise(output.ename, kind)
        else:
            data = output.get("data", {})
            text = normalise(data.get("text/plain", ""), kind)
            if r_cell and not any(mime.startswith("image/") for mime in data):
                # README: a %%R cell's last value is a rich display where rpy2
                # prints it; compared as the text rpy2 prints.
                streams["stdout"] += data.get("text/plain", "") + "\n"
                continue
            results.append((sorted(data), text))
            if "image/png" in data:
                pictures.append(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB"))
    return {
        "stdout": normalise(streams["stdout"], kind),
        "stderr": normalise(streams["stderr"], kind),
        "results": results,
        "error": error,
        "pictures": [picture.size for picture in pictures],
        "ink": [ink(np.asarray(picture)) for picture in pictures],
    }


def ink(picture: np.ndarray) -> float:
    """The share of pixels that are not the background (the corner's colour)."""
    return float(np.any(picture != picture[0, 0], axis=2).mean())


def execute(path: Path, kernel: str, seeds: str) -> list:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(seeds))
    client = NotebookClient(
        nb, kernel_name=kernel, timeout=180, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return nb.cells[1:]


@pytest.fixture(scope="module")
def kernels() -> dict[str, tuple[str, str]]:
    assert Path(ANCHOR_PYTHON).exists(), f"{ANCHOR_PYTHON} is missing: run `make bench-venv`"
    return {
        "python": (install_ipykernel(PYTHON, "ipykernel-differential"), "tandem"),
        "r": (install_irkernel(), "tandem-r"),
        "rpy2": install_anchor_kernels(ANCHOR_PYTHON),
    }


def test_the_corpus_has_what_the_harness_needs():
    counts = {kind: sum(1 for k, _ in NOTEBOOKS if k == kind) for kind in KINDS}
    assert counts["python"] >= 15 and counts["r"] >= 10 and counts["rpy2"] >= 5, counts


@pytest.mark.parametrize(("kind", "path"), NOTEBOOKS, ids=[f"{k}/{p.stem}" for k, p in NOTEBOOKS])
def test_notebook_shows_what_the_incumbent_shows(kernels, kind, path):
    incumbent, tandem = kernels[kind]
    seeds_incumbent, seeds_tandem = SEEDS[kind]
    expected = execute(path, incumbent, seeds_incumbent)
    actual = execute(path, tandem, seeds_tandem)
    differences = []
    compared = 0
    for number, (want_cell, got_cell) in enumerate(zip(expected, actual), 1):
        if want_cell.cell_type != "code":
            continue
        want, got = seen(want_cell, kind), seen(got_cell, kind)
        compared += 1
        listed = (path.name, number) in LISTED_CELLS
        for key in ("stdout", "stderr", "results", "error", "pictures"):
            if listed and key in ("stdout", "error"):
                continue
            same = lines_match(want[key], got[key]) if key in ("stdout", "stderr") else want[key] == got[key]
            if not same:
                differences.append(f"cell {number} {want_cell.source[:50]!r}: {key}\n  {want[key]!r}\n  {got[key]!r}")
        for want_ink, got_ink in zip(want["ink"], got["ink"]):
            if want_ink > 0.005 and not 0.5 <= got_ink / want_ink <= 2:
                differences.append(f"cell {number}: picture ink {want_ink:.3f} vs {got_ink:.3f}")
    assert compared > 0
    assert not differences, f"{path.name}:\n" + "\n".join(differences)
