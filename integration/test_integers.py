"""Python's integers arrive in R as the type R computes with correctly.

int64 (pandas' default), uint32, `Int64` and Python ints become R `integer` when
every value fits, `double` when every value is exact in a double (|v| <= 2^53), and
`bit64::integer64` only beyond that, which the cell's stderr then says once. Base R
reads integer64's bits as doubles (lm gave NaN, mean 9 for 9.5, ggplot2 an empty
plot), so these tests compare what R computes on the values from Python with what
it computes on the same data made in R. Values Python assigned come back, while
unchanged, with the dtypes they left with.
"""

from __future__ import annotations

import pytest

from conftest import run_cell, stdout_of


def ok(kc, code: str):
    content, outputs = run_cell(kc, code, timeout=60)
    assert content["status"] == "ok", (code, content, outputs)
    return outputs


def out(kc, code: str) -> str:
    return stdout_of(ok(kc, code))


def stderr_of(outputs) -> str:
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")


def result_of(outputs) -> str:
    return "".join(c["data"]["text/plain"] for t, c in outputs if t == "execute_result")


@pytest.fixture(scope="module")
def kc():
    from conftest import running_kernel

    with running_kernel("tandem", "import numpy as np, pandas as pd, tandem") as (_, client):
        yield client


@pytest.mark.parametrize(
    "values, r_class, shown",
    [
        ("[1, 2, -3]", "integer", "1 2 -3"),
        ("[2**31 - 1, -(2**31) + 1]", "integer", "2147483647 -2147483647"),
        ("[-(2**31), 1]", "numeric", "-2147483648 1"),  # R's NA bit pattern: not integer
        ("[2**53, -(2**53)]", "numeric", "9007199254740992 -9007199254740992"),
    ],
)
def test_integers_take_the_r_type_their_values_fit(kc, values, r_class, shown):
    outputs = ok(kc, f"x = np.array({values}, dtype=np.int64)\nr.x = x")
    assert "integer64" not in stderr_of(outputs)
    assert out(kc, '%%R\ncat(class(x), sprintf("%.0f", x))').split() == [r_class, *shown.split()]
    assert out(kc, "back = r.x\nprint(back.dtype, (back == x).all())").split() == ["int64", "True"]


def test_integers_beyond_two_to_the_53_are_integer64_and_the_cell_says_so(kc):
    outputs = ok(kc, "big = pd.DataFrame({'id': [2**60, 1, 2], 'n': [1, 2, 3]})\n%Rpush big")
    note = stderr_of(outputs)
    assert note.count("big$id") == 1 and "bit64::integer64" in note and "big$n" not in note, note
    assert out(kc, "%%R\ncat(class(big$id), class(big$n), as.character(big$id[1]))").split() == [
        "integer64", "integer", str(2**60)]
    assert out(kc, "b = r.big\nprint(b.dtypes.tolist(), b['id'][0] == 2**60)").split() == [
        "[dtype('int64'),", "dtype('int64')]", "True"]


def test_ipythons_r_magics_example_gives_rs_answers(kc):
    """IPython's `R Magics` example: numpy int arrays pushed, then lm and mean."""
    ok(kc, "%load_ext rpy2.ipython")
    ok(kc, "X = np.array([0, 1, 2, 3, 4]); Y = np.array([3, 5, 4, 6, 7]); A = np.arange(20)")
    ok(kc, "%Rpush X Y A")
    coef = result_of(ok(kc, "%R lm(Y~X)$coef"))
    expected = out(kc, '%%R\ncat(coef(lm(c(3L, 5L, 4L, 6L, 7L) ~ c(0L, 1L, 2L, 3L, 4L))))')
    assert [float(v) for v in coef.strip("array([])\n").split(",")] == pytest.approx(
        [float(v) for v in expected.split()])
    assert [float(v) for v in expected.split()] == pytest.approx([3.2, 0.9])
    assert result_of(ok(kc, "%R mean(A)")) == "array([9.5])"
    assert out(kc, '%%R\ncat(round(resid(lm(Y~X)), 6))').split() == ["-0.2", "0.9", "-1", "0.1", "0.2"]
    ok(kc, "%unload_ext rpy2.ipython")


def test_a_default_pandas_frame_computes_as_the_same_frame_made_in_r(kc):
    ok(kc, "df = pd.DataFrame({'x': np.arange(1, 21), 'y': np.arange(1, 21) ** 2 % 7, 'g': np.arange(20) % 3})")
    made_in_r = "data.frame(x = 1:20, y = as.integer((1:20)^2 %% 7), g = 0:19 %% 3L)"
    assert out(kc, f"%%R -i df\nr_df <- {made_in_r}\ncat(identical(df, r_df))") == "TRUE"
    assert out(kc, "%%R\ncat(coef(lm(y ~ x, data = df)) == coef(lm(y ~ x, data = r_df)), mean(df$y))") == (
        "TRUE TRUE " + out(kc, "%%R\ncat(mean(r_df$y))"))
    # ggplot2 builds the same layer from either frame: the points and their sizes.
    code = """%%R
library(ggplot2)
built <- function(d) ggplot_build(ggplot(d, aes(x, y, size = g)) + geom_point())$data[[1]]
a <- built(df); b <- built(r_df)
cat(nrow(a), identical(a$x, b$x), identical(a$y, b$y), identical(a$size, b$size), all(is.finite(a$size)))"""
    assert out(kc, code).split() == ["20", "TRUE", "TRUE", "TRUE", "TRUE"]


def test_values_python_assigned_come_back_with_their_dtypes(kc):
    ok(kc, """frame = pd.DataFrame({'i': np.array([1, 2], dtype=np.int64), 'u': np.array([3, 4], dtype=np.uint32),
                      'n': pd.array([5, None], dtype='Int64'), 'big': [2**40, 0], 'f': [0.5, 1.5]})
r.frame = frame
r.count = 7
r.vec = np.array([10, 20], dtype=np.int16)""")
    back = out(kc, "f2 = r.frame\nprint(f2.dtypes.astype(str).tolist(), f2.equals(frame))")
    assert back.split() == ["['int64',", "'uint32',", "'Int64',", "'int64',", "'float64']", "True"]
    assert out(kc, "print(type(r.count).__name__, r.count, r.vec.dtype)").split() == ["int", "7", "int16"]
    # A value R changed is R's own: it comes back as R's types say.
    ok(kc, "%%R\nframe$i <- frame$i + 1L\ncount <- count + 1L")
    assert out(kc, "print(r.frame['i'].dtype, type(r.count).__name__)").split() == ["int32", "int"]


def test_structured_arrays_are_data_frames_and_come_back(kc):
    """As rpy2 does, a numpy structured array (IPython's R Magics example has one)
    is a data.frame in R, a column per field; unchanged, it comes back as itself."""
    ok(kc, "sa = np.array([(1, 2.5, b'a'), (2, 3.5, b'b')], dtype=[('x', '<i4'), ('y', '<f8'), ('z', 'S1')])\n"
           "rec = np.rec.array([(1, 2**40), (3, 4)], dtype=[('k', '<i8'), ('v', '<i8')])\n%Rpush sa rec")
    assert out(kc, "%%R\ncat(class(sa), sapply(sa, class), sa$z, sum(sa$y), nrow(rec), class(rec$v))").split() == [
        "data.frame", "integer", "numeric", "character", "a", "b", "6", "2", "numeric"]
    back = out(kc, "b1, b2 = r.sa, r.rec\n"
                   "print(b1.dtype == sa.dtype, (b1 == sa).all(), type(b2).__name__, (b2 == rec).all())")
    assert back.split() == ["True", "True", "recarray", "True"]
    ok(kc, "%%R\nsa$y <- sa$y * 2")
    assert out(kc, "print(type(r.sa).__name__, r.sa['y'].tolist())").split() == ["DataFrame", "[5.0,", "7.0]"]
