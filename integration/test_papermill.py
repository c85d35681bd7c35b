"""papermill runs parameterised notebooks on both kernelspecs: the parameters cell
is injected in the notebook's language and the output notebook carries the results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("name", "injected"),
    [("parameters.ipynb", "verbose = True"), ("r-parameters.ipynb", "verbose = TRUE")],
    ids=["tandem", "tandem-r"],
)
def test_papermill_injects_parameters_in_the_notebooks_language(tmp_path, name, injected):
    out = tmp_path / name
    subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / name), str(out),
         "-p", "n", "5", "-p", "label", "weekly", "-p", "verbose", "True", "--log-output"],
        check=True, capture_output=True, cwd=tmp_path, timeout=300,
    )
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    parameters = next(c for c in code if "injected-parameters" in c.metadata.get("tags", []))
    assert injected in parameters.source and 'label = "weekly"' in parameters.source
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in code]
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    assert "weekly: the sum of 5 squares is 30" in texts[2]
    assert "squares: " in texts[2] and "16" in texts[2]
    other_language = texts[3]
    assert other_language.startswith("weekly in") and ("1..5" in other_language or "n is 5" in other_language)
