"""Notebooks written for ipykernel + rpy2, run under both and compared: what the
user sees must be the same under Tandem.

Each notebook runs twice in one Python environment (`.venv-bench`, which holds
the pinned rpy2 of `bench/` and ipykernel): under ipykernel with rpy2's own
`%%R`, and under Tandem embedding that environment. For every code cell the
text the user reads (streams, `text/plain` results) must match after
normalising only what legitimately differs, and every picture must have the same
pixel size and comparable content. The notebooks are the public ones `make setup`
fetches, those in `integration/rpy2_notebooks/` (in the style of IPython's `R Magics`
example), and any in the folder `TANDEM_RPY2_NOTEBOOKS` names.
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

from conftest import ROOT, install_anchor_kernels

ANCHOR_PYTHON = os.environ.get("TANDEM_ANCHOR_PYTHON") or str(ROOT / ".venv-bench" / "bin" / "python")
PUBLIC = Path(os.environ.get("TANDEM_PUBLIC_NOTEBOOKS", ROOT / ".build" / "public-notebooks"))
OWN = Path(__file__).parent / "rpy2_notebooks"
EXTRA = os.environ.get("TANDEM_RPY2_NOTEBOOKS")

NOTEBOOKS = sorted(PUBLIC.glob("*.ipynb")) + sorted(OWN.glob("*.ipynb"))
if EXTRA:
    NOTEBOOKS += sorted(Path(EXTRA).glob("*.ipynb"))

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# rpy2's proxies of R objects (`%Rpull` in rpy2 3.5 assigns one): Tandem gives the
# converted value, so an output showing a proxy matches whatever Tandem shows in
# its place (up to the next line that matches what rpy2 shows after it).
_RPY2_PROXY = re.compile(r"<rpy2\.[\w.]+ object at 0x[0-9a-f]+> \[\d+\]")
_NORMALISE = [
    (re.compile(r"0x[0-9a-f]+"), "0x?"),  # addresses
    (re.compile(r"\bRRuntimeError\b"), "RError"),  # the class of an R error in Python
    (re.compile(r"rpy2\.rinterface_lib\.embedded\.RError"), "RError"),
    (re.compile(r"tandem\.RError"), "RError"),
    # Strings come back as object arrays, rpy2's as fixed-width ones (README, *Cells*).
    (re.compile(r",\s*dtype='<U\d+'|,\s*dtype=object"), ""),
    (re.compile(r"[ \t]+"), " "),  # alignment: R's print and repr's text pad differently
]
WILDCARD = "<any>"
# A warning of rpy2's start-up when Debian's first site library
# (/usr/local/lib/R/site-library) is empty, shown in the first cell that prints;
# in a `%R` line it takes the place of the result.
_RPY2_STARTUP = re.compile(r"library .* contains no packages")
# ggplot2's attach tip (`ggplot2:::random_tip()`), shown at random one time in ten
# and only in an interactive R, which rpy2's embedded R is and a kernel's R is not
# (IRkernel's neither): random text, not a difference to compare.
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


def _lines(text: str) -> list[str]:
    text = _GGPLOT2_TIP.sub("", _ANSI.sub("", text))
    if _RPY2_PROXY.search(text):
        return [WILDCARD]
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def seen(cell) -> tuple[list[str], list[np.ndarray], str | None]:
    """What the user sees of a cell: its lines of text, its pictures, its error."""
    text: list[str] = []
    pictures = []
    error = None
    # rpy2 writes R's output in many small pieces: consecutive ones are one text.
    outputs = []
    for output in cell.outputs:
        if output.output_type == "stream" and outputs and outputs[-1].output_type == "stream" and (
            outputs[-1].name == output.name
        ):
            outputs[-1] = nbformat.NotebookNode(outputs[-1], text=outputs[-1].text + output.text)
        else:
            outputs.append(output)
    for output in outputs:
        if output.output_type == "stream":
            text += _lines(output.text)
        elif output.output_type == "error":
            error = f"{output.ename}: {output.evalue}"
        else:
            data = output.get("data", {})
            if "image/png" in data:
                image = Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("RGB")
                pictures.append(np.asarray(image))
            elif "text/plain" in data and not _RPY2_STARTUP.search(data["text/plain"]):
                text += _lines(data["text/plain"])
    return text, pictures, error


def lines_match(want: list[str], got: list[str]) -> bool:
    """Whether ``got`` is ``want`` line for line, a WILDCARD in ``want`` standing
    for one or more lines of ``got``."""
    if not want:
        return not got
    if want[0] != WILDCARD:
        return bool(got) and got[0] == want[0] and lines_match(want[1:], got[1:])
    return any(lines_match(want[1:], got[taken:]) for taken in range(1, len(got) + 1))


def ink(picture: np.ndarray) -> float:
    """The share of pixels that are not the background (the corner's colour)."""
    background = picture[0, 0]
    return float(np.any(picture != background, axis=2).mean())


def execute(path: Path, kernel: str) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=kernel, timeout=180, allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.fixture(scope="module")
def kernels():
    assert Path(ANCHOR_PYTHON).exists(), f"{ANCHOR_PYTHON} is missing: run `make bench-venv`"
    return install_anchor_kernels(ANCHOR_PYTHON)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_shows_what_rpy2_shows(kernels, path):
    anchor, tandem = kernels
    expected = execute(path, anchor)
    actual = execute(path, tandem)
    compared = 0
    for number, (want, got) in enumerate(zip(expected.cells, actual.cells), 1):
        if want.cell_type != "code":
            continue
        where = f"{path.name} cell {number}: {want.source[:60]!r}"
        want_text, want_pictures, want_error = seen(want)
        got_text, got_pictures, got_error = seen(got)
        # An error's text is each kernel's own (rpy2 prints R's message to stderr
        # and raises RInterpreterError): that a cell fails is what must match.
        assert (want_error is None) == (got_error is None), (where, want_error, got_error)
        if want_error is not None:
            continue
        assert lines_match(want_text, got_text), (where, want_text, got_text)
        assert len(got_pictures) == len(want_pictures), (where, len(want_pictures), len(got_pictures))
        for want_picture, got_picture in zip(want_pictures, got_pictures):
            assert got_picture.shape == want_picture.shape, where
            assert ink(want_picture) > 0.005, f"{where}: rpy2's picture is blank"
            assert 0.5 <= ink(got_picture) / ink(want_picture) <= 2, (where, ink(want_picture), ink(got_picture))
        compared += 1
    assert compared > 0
