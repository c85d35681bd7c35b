"""rpy2's IPython magics as rpy2 documents them (the docstrings of
rpy2.ipython.rmagic), served by Tandem without rpy2: through a real kernel, its
child R and jupyter_client."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from conftest import run_cell, running_kernel, stdout_of


@pytest.fixture(scope="module")
def rk():
    with running_kernel(setup="%load_ext rpy2.ipython\nimport numpy as np, pandas as pd, json") as (_, kc):
        yield kc


def ok(kc, code: str) -> list:
    content, outputs = run_cell(kc, code, timeout=60)
    errors = [c for t, c in outputs if t == "error"]
    assert content["status"] == "ok", (code, errors and "\n".join(errors[0]["traceback"]))
    return outputs


def show(kc, expr: str):
    """``expr`` evaluated in the kernel: its type name and its value as a list."""
    code = f"_v = {expr}\nprint(json.dumps([type(_v).__name__, np.asarray(_v).tolist()]))"
    return json.loads(stdout_of(ok(kc, code)))


def test_load_ext_works_without_rpy2_and_says_when_it_was_loaded_before(rk):
    # (`rk` loaded it once already.) As IPython says of any extension:
    outputs = ok(rk, "%load_ext rpy2.ipython\n%reload_ext rpy2.ipython")
    assert stdout_of(outputs) == (
        "The rpy2.ipython extension is already loaded. To reload it, use:\n  %reload_ext rpy2.ipython\n"
    )
    # rpy2 is not installed in the kernel's environment: Tandem serves it.
    where = "import importlib.util\nprint(type(importlib.util.find_spec('rpy2').loader).__module__)"
    assert stdout_of(ok(rk, where)).strip() == "tandem._rpy2"


def test_rpush_then_r_returns_a_numpy_array(rk):
    ok(rk, "X = np.array([4.5, 6.3, 7.9])\n%Rpush X")
    assert show(rk, "%R mean(X)") == ["ndarray", [pytest.approx(6.2333333)]]


def test_rpull_and_rget(rk):
    ok(rk, "_ = %R x = c(3,4,6.7); y = c(4,6,7); z = c('a','3','4')\n%Rpull x  y z")
    assert show(rk, "x") == ["ndarray", [3.0, 4.0, 6.7]]
    assert show(rk, "y") == ["ndarray", [4.0, 6.0, 7.0]]
    assert show(rk, "z") == ["ndarray", ["a", "3", "4"]]
    assert show(rk, "%Rget y") == ["ndarray", [4.0, 6.0, 7.0]]
    ok(rk, "%R frame <- data.frame(a = 1:2, b = c('u', 'v'))")
    assert stdout_of(ok(rk, "f = %Rget frame\nprint(type(f).__name__)")).strip() == "DataFrame"


def test_line_magic_inputs_outputs_and_return_rules(rk):
    ok(rk, "Z = np.array([1, 4, 5, 10])")
    assert show(rk, "%R -i Z mean(Z)") == ["ndarray", [5.0]]
    # The value of an assignment returns too, and -o pushes the variable.
    assert show(rk, "%R -o W W=Z*mean(Z)") == ["ndarray", [5, 20, 25, 50]]
    assert show(rk, "W") == ["ndarray", [5, 20, 25, 50]]
    # Several expressions joined by semicolons: the last one's value.
    assert show(rk, "%R X=c(1,4,5,7); sd(X); mean(X)") == ["ndarray", [4.25]]
    # -n, a trailing ';' and NULL return nothing, and show nothing either.
    for line in ["%R -n 1 + 1", "%R 1 + 1;", "%R NULL"]:
        outputs = ok(rk, f"_r = {line}\nprint(_r)")
        assert stdout_of(outputs).strip() == "None"
        assert not [t for t, _ in outputs if t in ("display_data", "execute_result")]


def test_cell_magic_code_on_the_magic_line_runs_first_and_nothing_returns(rk):
    outputs = ok(rk, "%%R -o out out <- 'first'\nout <- paste(out, 'then the cell')")
    assert show(rk, "out") == ["ndarray", ["first then the cell"]]
    content, outputs = run_cell(rk, "%%R\nsummary(c(1, 2))")
    assert content["status"] == "ok"
    assert any("Min." in c["data"]["text/plain"] for t, c in outputs if t == "execute_result")


def test_local_variables_come_first_inside_functions(rk):
    code = (
        "Z = np.array([1.0])\n"
        "def scaled(k):\n"
        "    Z = np.array([10.0, 20.0])\n"
        "    %Rpush Z\n"
        "    pushed = %R Z\n"
        "    times = %R -i k Z * k\n"
        "    return pushed, times\n"
        "a, b = scaled(3)\n"
        "print(a.tolist(), b.tolist())"
    )
    assert stdout_of(ok(rk, code)).strip() == "[10.0, 20.0] [30.0, 60.0]"


def test_inputs_by_dotted_path_and_renamed(rk):
    ok(rk, "import types\nholder = types.SimpleNamespace(inner=np.arange(4))")
    assert show(rk, "%R -i v=holder.inner sum(v)") == ["ndarray", [6]]
    content, outputs = run_cell(rk, "%R -i holder.missing 1")
    assert content["status"] == "error" and "missing" in content["evalue"]


def test_display_function(rk):
    ok(rk, "seen = []\ndef grab(value, args):\n    seen.append((type(value).__name__, value.shape, args.display))")
    outputs = ok(rk, "%%R -d grab\ndata.frame(a = 1:3, b = 4:6)")
    assert not [t for t, _ in outputs if t in ("display_data", "execute_result")]
    assert stdout_of(ok(rk, "print(seen)")).strip() == "[('DataFrame', (3, 2), 'grab')]"


def _png_size(outputs) -> tuple[int, int]:
    png = next(base64.b64decode(c["data"]["image/png"]) for t, c in outputs if t == "display_data")
    return struct.unpack(">II", png[16:24])


def test_plot_device_flags(rk):
    assert _png_size(ok(rk, "%%R -w 300 -h 200 -u px\nplot(1:10)")) == (300, 200)
    assert _png_size(ok(rk, "%%R -w 5 -h 4 -u in -r 100\nplot(1:10)")) == (500, 400)
    # rpy2's defaults: pixels, and 72 dpi for physical units.
    assert _png_size(ok(rk, "%%R -w 320 -h 240\nplot(1:10)")) == (320, 240)
    assert _png_size(ok(rk, "%%R -w 5 -h 4 -u in\nplot(1:10)")) == (360, 288)
    plain = ok(rk, "%%R -w 400 -h 300 -u px\nplot(1:10, main = 'title')")
    styled = ok(rk, "%%R -w 400 -h 300 -u px -p 24 -b lightblue\nplot(1:10, main = 'title')")
    assert _png_size(styled) == (400, 300)
    image = lambda outputs: next(c["data"]["image/png"] for t, c in outputs if t == "display_data")  # noqa: E731
    assert image(plain) != image(styled)
    ok(rk, "%Rdevice svg")
    outputs = ok(rk, "%%R\nplot(1:3)")
    assert any("image/svg+xml" in c.get("data", {}) for t, c in outputs if t == "display_data")
    ok(rk, "%Rdevice png")


def test_r_errors_are_python_exceptions(rk):
    code = (
        "try:\n"
        "    %R stop('no convergence')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)"
    )
    assert stdout_of(ok(rk, code)).strip() == "RError no convergence"
