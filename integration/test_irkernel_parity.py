"""R cells of the `tandem-r` kernel side by side with IRkernel 1.3.2 on the same R:
functions keep their source, data.table's `:=` shows nothing, text wraps at
IRkernel's width, and a failed cell is named as IRkernel names it. `%%R` cells of
the Python kernel follow the same rules."""

from __future__ import annotations

import pytest

from conftest import install_irkernel, run_cell, running_kernel

IRKERNEL = install_irkernel()

FUNCTION = "f <- function(x) {\n  # add one, as the comment says\n  x + 1\n}"
CELLS = [
    f"{FUNCTION}\nf",
    "getOption('width')",
    "getOption('crayon.enabled')",
    "1:40",
    "factor(rep(c('alpha', 'beta', 'gamma'), 8))",
    "summary(c(1.5, 2, 3, 4, 100, 250, 3000))",
    "print(seq(0.001, 1, length.out = 30))",
    "options(width = 40); 1:30",
    "options(width = 80)",
    "library(data.table)\ndt <- data.table(z = 1:3)\ndt[, w := z^2]",
    "dt[, v := 1]",
    "dt[, v := 2][]",
    "dt",
    "invisible(5)",
    "str(f)",
]


def shown(outputs) -> list[tuple]:
    """Each value's mimetypes and text, and the text streams, in order."""
    seen = []
    for kind, content in outputs:
        if kind in ("display_data", "execute_result"):
            seen.append(("value", sorted(content["data"]), content["data"].get("text/plain")))
        elif kind == "stream":
            seen.append((content["name"], content["text"]))
    return seen


def run_all(name: str, cells: list[str]) -> list[tuple[str, list]]:
    """Each cell's status and what it showed."""
    seen = []
    with running_kernel(name) as (km, kc):
        for code in cells:
            content, outputs = run_cell(kc, code, timeout=60)
            seen.append((content["status"], shown(outputs)))
    return seen


@pytest.fixture(scope="module")
def irkernel_shows():
    return run_all(IRKERNEL, CELLS)


def test_r_cells_show_what_irkernel_shows(irkernel_shows):
    got = run_all("tandem-r", CELLS)
    for code, want, actual in zip(CELLS, irkernel_shows, got):
        # `str(f)` names the srcfile's environment by its address.
        if code.startswith("str("):
            want, actual = [(s, [(n, t.split("<environment")[0]) for n, t in o]) for s, o in (want, actual)]
        assert actual == want, code
    # The function keeps its comment; := showed nothing.
    assert "# add one, as the comment says" in got[0][1][0][2]
    assert got[9] == ("ok", []) and got[10] == ("ok", [])


def test_r_magic_cells_keep_source_and_the_data_table_rule():
    with running_kernel("tandem") as (km, kc):
        content, outputs = run_cell(kc, f"%%R\n{FUNCTION}\nf")
        assert "# add one, as the comment says" in shown(outputs)[0][2]
        content, outputs = run_cell(kc, "%%R\nlibrary(data.table)\ndt <- data.table(z = 1:3)\ndt[, w := z^2]")
        assert content["status"] == "ok" and shown(outputs) == [], outputs
        content, outputs = run_cell(kc, "%%R\ndt")
        assert shown(outputs)[0][2].split()[-3:] == ["3", "3", "9"]


def test_a_failed_cell_is_named_as_irkernel_names_it():
    code = "g <- function() stop('inner')\ng()"
    with running_kernel(IRKERNEL) as (km, kc):
        want, _ = run_cell(kc, code)
    with running_kernel("tandem-r") as (km, kc):
        got, outputs = run_cell(kc, code)
        top, _ = run_cell(kc, "stop('at top level')")
    assert (got["ename"], got["evalue"]) == (want["ename"], want["evalue"].rstrip("\n")) == (
        "ERROR", "Error in g(): inner"
    )
    # IRkernel names its own eval() for an error at top level; R's console does not.
    assert (top["ename"], top["evalue"]) == ("ERROR", "Error: at top level")
    # The traceback lists the calls with their lines, as IRkernel's does.
    assert got["traceback"][-2:] == ["1. g()", '2. stop("inner")   # at line 1 of file <text>']
