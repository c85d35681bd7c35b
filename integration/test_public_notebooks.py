"""Notebooks that other people wrote for ipykernel + rpy2 run on Tandem with no edit
but the kernel name (fetched by `make setup`; origin and licence in
notebooks/README.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path(os.environ.get("TANDEM_PUBLIC_NOTEBOOKS", ROOT / ".build" / "public-notebooks"))
NAMES = [
    "Notebook_with_R_magic.ipynb",
    "Notebook_with_more_R_magic_111.ipynb",
    "Notebook with html and latex cells.ipynb",
]


@pytest.mark.parametrize("name", NAMES)
def test_rpy2_notebook_runs_unchanged(tmp_path, name):
    source = FOLDER / name
    assert source.exists(), f"{source} is missing: run `make setup`"
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(source),
         "--ExecutePreprocessor.kernel_name=tandem", "--ExecutePreprocessor.timeout=180",
         "--output-dir", str(tmp_path), "--output", name],
        check=True, capture_output=True,
    )
    original = nbformat.read(source, as_version=4)
    nb = nbformat.read(tmp_path / name, as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in original.cells]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    r_plots = [c for c in code if c.source.startswith("%%R") and "ggplot(" in c.source]
    assert r_plots
    for cell in r_plots:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source
