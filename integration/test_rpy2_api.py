"""rpy2's Python API beside the `%%R` magics, as rpy2 notebooks use it, under
ipykernel + rpy2 and under Tandem in one environment: the same answers, and in
Tandem one R only (rpy2's modules are served on the kernel's R session; no
libR is ever mapped into the kernel's process)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel

from conftest import install_anchor_kernels, run_cell
from test_differential import ANCHOR_PYTHON, SEEDS, execute, lines_match, seen

CELLS = [
    "import pandas as pd\nimport rpy2.robjects as ro\nfrom rpy2.robjects.packages import importr, data\n"
    "from rpy2.robjects import pandas2ri, numpy2ri\nfrom rpy2.robjects.conversion import localconverter",
    "v = ro.r('c(1.5, 2, 3)')\nv",
    "print(v)\nv[0], len(v), list(v), tuple(v.rclass)",
    "ro.r['pi'][0], ro.r.pi[0]",
    "ro.globalenv['zz'] = ro.IntVector([1, 2])\nprint(ro.r('zz * 2L'))\nlist(ro.globalenv['zz'])",
    "ro.StrVector(['a', 'b'])",
    "ro.BoolVector([True, False])",
    "ro.r('1:20 + 0.5')",
    "ro.r('factor(c(\"alpha\", \"beta\", \"alpha\"))')",
    "df = ro.r('data.frame(x = 1:3, y = c(\"a\", \"b\", \"c\"))')\ndf",
    "print(df)\ndf.nrow, df.ncol, list(df.colnames)",
    "stats = importr('stats')\nbase = importr('base')\nfit = stats.lm(ro.Formula('mpg ~ wt'), data=ro.r('mtcars'))\n"
    "print(fit.rx2('coefficients'))\nlist(fit.names)[:4]",
    "round(stats.t_test(ro.FloatVector([1, 2, 3, 4]), mu=2).rx2('p.value')[0], 6)",
    "pd_df = pd.DataFrame({'a': [1, 2, 3], 'b': [0.5, 1.5, 2.5]})\n"
    "with localconverter(ro.default_converter + pandas2ri.converter):\n"
    "    r_df = ro.conversion.py2rpy(pd_df)\n    back = ro.conversion.rpy2py(r_df)\n"
    "    means = base.colMeans(pd_df)\nback",
    "print(r_df)\nmeans",
    "try:\n    base.summary(pd_df)\nexcept NotImplementedError as error:\n    print(error)",
    "with localconverter(ro.default_converter + numpy2ri.converter):\n    arr = ro.r('matrix(1:6, nrow = 2)')\narr",
    "ro.globalenv['from_python'] = ro.FloatVector([10.0, 20.0])",
    "ggplot2 = importr('ggplot2')\nmtcars_env = data(importr('datasets')).fetch('mtcars')\nmtcars_env['mtcars'].nrow",
    "%load_ext rpy2.ipython",
    "%%R\n# importr() attached ggplot2, and globalenv holds what Python assigned\nprint(sum(from_python))\n"
    "ggplot(mtcars, aes(wt, mpg)) + geom_point()",
    "%R -o zz_back zz_back <- zz + 1L\nzz_back",
    "try:\n    ro.r('stop(\"from R\")')\nexcept Exception as error:\n    print(type(error).__name__)",
]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rpy2-api") / "rpy2 api.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in CELLS]), path)
    return path


def test_the_rpy2_api_gives_rpy2s_answers(notebook):
    anchor, tandem = install_anchor_kernels(ANCHOR_PYTHON)
    seeds, _ = SEEDS["rpy2"]
    expected = execute(notebook, anchor, seeds)
    actual = execute(notebook, tandem, seeds)
    differences = []
    for number, (want_cell, got_cell) in enumerate(zip(expected, actual), 1):
        want, got = seen(want_cell, "rpy2"), seen(got_cell, "rpy2")
        assert want["error"] is None, (number, want_cell.outputs)
        for key in ("stdout", "results", "error", "pictures"):
            same = lines_match(want[key], got[key]) if key == "stdout" else want[key] == got[key]
            if not same:
                differences.append(f"cell {number} {want_cell.source[:50]!r}: {key}\n  {want[key]!r}\n  {got[key]!r}")
    assert not differences, "\n".join(differences)


def test_a_notebook_sees_one_r(notebook):
    _, tandem = install_anchor_kernels(ANCHOR_PYTHON)
    km, kc = start_new_kernel(kernel_name=tandem, startup_timeout=60)
    try:
        for code in CELLS[:13]:
            content, outputs = run_cell(kc, code, timeout=60)
            assert content["status"] == "ok", (code, outputs)
        maps = Path(f"/proc/{km.provisioner.process.pid}/maps").read_text()
        assert "libR.so" not in maps
        # What Python made through the API is in the R every R cell uses.
        content, outputs = run_cell(kc, "%R exists('zz') && identical(zz, c(1L, 2L))")
        assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["True"]
        # A module outside the API says so, and what to use instead.
        content, _ = run_cell(kc, "import rpy2.robjects.lib.ggplot2")
        assert content["ename"] == "ImportError" and "not part of Tandem's rpy2 API" in content["evalue"]
        assert "%%R" in content["evalue"]
        content, _ = run_cell(kc, "ro.vectors.POSIXct")
        assert content["ename"] == "AttributeError" and "rpy2.robjects.vectors.POSIXct" in content["evalue"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
