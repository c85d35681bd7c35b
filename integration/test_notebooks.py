"""The notebooks in notebooks/ execute under nbconvert, as `make run` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def execute(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         str(ROOT / "notebooks" / name), "--output-dir", str(tmp_path), "--output", name,
         "--ExecutePreprocessor.timeout=120"],
        check=True, capture_output=True,
    )
    return nbformat.read(tmp_path / name, as_version=4)


def outputs_of(cell) -> list:
    return cell.get("outputs", [])


def test_tour_executes_with_expected_outputs(tmp_path):
    nb = execute("tour.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.output_type == "error" for o in outputs_of(c)) for c in code)
    assert "inside Tandem" in outputs_of(code[0])[0]["text"]
    assert "hello from a shell command" in outputs_of(code[1])[0]["text"]
    assert outputs_of(code[2])[0]["data"]["text/plain"] == "285"
    assert "<table" in outputs_of(code[3])[0]["data"]["text/html"]
    assert any("image/png" in o.get("data", {}) for o in outputs_of(code[4]))
    assert [o["data"]["text/plain"] for o in outputs_of(code[5])] == ["'done'"]
    assert "loops each" in outputs_of(code[6])[0]["text"]
    r_outputs = outputs_of(code[7])
    assert any("image/png" in o.get("data", {}) for o in r_outputs)
    assert r_outputs[-1]["data"]["text/plain"] == "[1] 385"
    assert outputs_of(code[8])[0]["data"]["text/plain"] == "0.5"


def test_r_tour_executes_with_expected_outputs(tmp_path):
    nb = execute("r-tour.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.output_type == "error" for o in outputs_of(c)) for c in code)
    assert outputs_of(code[0])[0]["text"].startswith("R version")
    assert outputs_of(code[1])[0]["data"]["text/plain"] == "[1] 385"
    assert "<table" in outputs_of(code[2])[0]["data"]["text/html"]
    assert any("image/png" in o.get("data", {}) for o in outputs_of(code[3]))
    texts = [o.get("text", "") for o in outputs_of(code[4])]
    assert "fitting...\n" in texts
    assert "output of a shell command" in outputs_of(code[5])[0]["text"]
    assert outputs_of(code[6])[0]["text"].startswith("Python 3.")


def test_exchange_notebook_round_trips_a_frame_through_an_r_model(tmp_path):
    nb = execute("exchange.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.output_type in ("error",) for o in outputs_of(c)) for c in code)
    assert all(not any(o.get("name") == "stderr" for o in outputs_of(c)) for c in code)
    r_str = outputs_of(code[1])[0]["text"]
    assert "500 obs. of  5 variables" in r_str and "Factor w/ 3 levels" in r_str and "POSIXct" in r_str
    assert any("image/png" in o.get("data", {}) for o in outputs_of(code[1]))
    estimates = outputs_of(code[2])[0]["data"]["text/plain"]
    assert "weight" in estimates and "originUS" in estimates and "Std. Error" in estimates
    assert outputs_of(code[3])[0]["text"].strip() == "DataFrame True category"
    assert outputs_of(code[4])[0]["data"]["text/plain"] == "[1] 500"
    summary = outputs_of(code[5])[0]["data"]["text/plain"]
    assert "mean_mpg" in summary and "JP" in summary


def test_futures_notebook_fans_out_from_both_languages(tmp_path):
    nb = execute("futures.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.output_type == "error" or o.get("name") == "stderr" for o in outputs_of(c)) for c in code)
    python_map = outputs_of(code[0])
    # The progress display, updated in place: the saved notebook holds its last state.
    assert python_map[0]["data"]["text/plain"].startswith("tandem.map(simulate): 400/400")
    assert python_map[1]["text"].startswith("400 walks")
    assert outputs_of(code[1])[0]["text"].strip() == str(list(range(8)))
    r_map = outputs_of(code[2])
    assert r_map[0]["data"]["text/plain"].startswith("progress: 400/400")
    assert r_map[-1]["text"].startswith("400 walks")
    quantiles = outputs_of(code[3])[0]["data"]["text/plain"]
    assert "5%" in quantiles and "95%" in quantiles
    r_mean = float(r_map[-1]["text"].split("mean end ")[1].split(",")[0])
    python_mean = outputs_of(code[4])[0]["data"]["text/plain"]
    assert python_mean.startswith("[1] ") and float(python_mean[4:]) == round(r_mean, 2)
