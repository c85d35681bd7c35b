"""Values crossing between Python and R in the running kernel, both ways.

Each case sends a value through real R and back and checks it came back equal
(pandas.testing / numpy in Python, ``identical()`` in R), plus what R made of it.

Over 400 lines on purpose: one short case per kind of value, all using the same
round-trip helpers and one kernel; split by kind, each file would start its own.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_cell, running_kernel, stdout_of

HELPERS = '''
import datetime as dt
import numpy as np
import pandas as pd
import pandas.testing as pdt

def same(a, b):
    """Raises unless b is a, value for value and type for type."""
    if isinstance(a, pd.DataFrame):
        pdt.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pdt.assert_series_equal(a, b)
    elif isinstance(a, pd.api.extensions.ExtensionArray):
        pdt.assert_extension_array_equal(a, b)
    elif isinstance(a, np.ma.MaskedArray):
        assert isinstance(b, np.ma.MaskedArray) and a.dtype == b.dtype, (type(b), b)
        assert (np.ma.getmaskarray(a) == np.ma.getmaskarray(b)).all() and (a.filled(0) == b.filled(0)).all()
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b)
        if a.dtype.kind in "mM":
            assert (a.view("i8") == b.view("i8")).all(), b
        elif a.dtype.kind == "O":
            assert all(x == y or (x is None and y is None) for x, y in zip(a.ravel(), b.ravel())), b
        else:
            assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), b
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, list) and len(a) == len(b), b
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), b
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, float) and a != a:
        assert isinstance(b, float) and b != b, b
    else:
        assert type(b) is type(a) or isinstance(b, type(a)), (type(a), type(b))
        assert a is b or a == b, (a, b)
'''

# (Python expression, what R says about it: an R expression and its expected value)
PY_CASES = [
    ("None", "is.null(v)", "TRUE"),
    ("True", "class(v)", "logical"),
    ("pd.NA", "is.na(v)", "TRUE"),
    ("42", "class(v)", "integer"),
    ("2**53 + 1", "as.character(v)", "9007199254740993"),
    ("-(2**62)", "class(v)", "integer64"),
    ("3.25", "class(v)", "numeric"),
    ("float('nan')", "is.nan(v)", "TRUE"),
    ("1 + 2j", "Im(v)", "2"),
    ("'héllo wörld ✓ 日本'", "nchar(v)", "16"),
    ("b'\\x00\\x01\\xff'", "class(v)", "raw"),
    ("[1, 'a', None, 2.5]", "class(v[[3]])", "NULL"),
    ("{'b': 1, 'a': [1, 2], 'c': {'d': 'x'}}", "paste(names(v), collapse = ',')", "b,a,c"),
    ("{}", "length(v)", "0"),
    ("[]", "class(v)", "list"),
    ("np.array([1.5, np.nan, np.inf])", "is.na(v[2]) && !is.na(v[1])", "TRUE"),
    ("np.array([], dtype=float)", "length(v)", "0"),
    ("np.array([True, False])", "class(v)", "logical"),
    ("np.array([7], dtype=np.int32)", "is.null(dim(v))", "TRUE"),
    ("np.array([7], dtype=np.uint8)", "class(v)", "integer"),
    ("np.array([1, 2, -3], dtype=np.int32)", "class(v)", "integer"),
    ("np.array([2**62, -5], dtype=np.int64)", "class(v)", "integer64"),
    ("np.arange(24).reshape(2, 3, 4)", "v[2, 3, 4]", "23"),
    ("np.array([[1.0, 2.0], [3.0, 4.0]])", "v[1, 2]", "2"),
    ("np.ma.masked_array([[1, 2], [3, 4]], mask=[[0, 1], [0, 0]], dtype=np.int32)", "sum(is.na(v))", "1"),
    ("np.array(['a', 'ü', None], dtype=object)", "is.na(v[3])", "TRUE"),
    ("np.array([1 + 1j, 2 - 1j])", "class(v)", "complex"),
    ("pd.array([1, None, 3], dtype='Int64')", "is.na(v[2])", "TRUE"),
    ("pd.array([1, None], dtype='Int32')", "class(v)", "integer"),
    ("pd.array([True, None, False], dtype='boolean')", "sum(is.na(v))", "1"),
    (
        "pd.arrays.FloatingArray(np.array([1.5, np.nan, 0.0]), np.array([False, False, True]))",
        "paste(is.nan(v), is.na(v), collapse = ' ')",
        "FALSE FALSE TRUE TRUE FALSE TRUE",
    ),
    (
        "pd.Categorical(['b', None, 'a'], categories=['c', 'b', 'a'], ordered=True)",
        "paste(levels(v), collapse = '<')",
        "c<b<a",
    ),
    ("pd.Categorical(['x', 'y', 'x'])", "nlevels(v)", "2"),
    ("pd.Series([1.0, 2.0], index=['a', 'b'])", "names(v)[2]", "b"),
    ("pd.Timestamp('2024-03-10 01:30', tz='America/New_York')", "attr(v, 'tzone')", "America/New_York"),
    (
        "np.array(['2024-01-01T00:00:00.000001', 'NaT'], dtype='datetime64[us]')",
        "c(format(v[1], '%Y-%m-%d %H:%M:%S'), round(as.numeric(v[1]) %% 1 * 1e6), is.na(v[2]))",
        "2024-01-01 00:00:00 1 TRUE",
    ),
    ("dt.date(2024, 2, 29)", "format(v)", "2024-02-29"),
    ("np.array(['2024-01-01', 'NaT'], dtype='datetime64[D]')", "class(v)", "Date"),
    ("dt.timedelta(days=1, seconds=5)", "as.double(v, units = 'secs')", "86405"),
    ("np.array([90, 'NaT'], dtype='timedelta64[s]').astype('timedelta64[us]')", "units(v)", "secs"),
    (
        "pd.DataFrame({'f': [1.5, np.nan], 'i': pd.array([1, None], dtype='Int32'),"
        " 'b': pd.array([True, None], dtype='boolean'), 's': ['x', None],"
        " 'c': pd.Categorical(['u', None], categories=['u', 'v']),"
        " 'big': pd.array([2**60, None], dtype='Int64'),"
        " 't': pd.to_datetime(['2024-03-10 01:30', None]).tz_localize('America/New_York').as_unit('us'),"
        " 'd': [dt.date(2020, 1, 1), None], 'td': pd.to_timedelta(['1s', None]).as_unit('us'),"
        " 'z': [1 + 1j, 2j]})",
        "paste(vapply(v, function(x) class(x)[1], ''), collapse = ',')",
        "numeric,integer,logical,character,factor,integer64,POSIXct,Date,difftime,complex",
    ),
    (
        "pd.DataFrame({'a': pd.Series([], dtype='float64'), 'b': pd.Series([], dtype='str'),"
        " 'c': pd.Categorical([], categories=['x'])})",
        "paste(nrow(v), class(v$b), levels(v$c))",
        "0 character x",
    ),
    (
        "pd.DataFrame({'x': [1.0, 2.0]}, index=pd.Index(['r', 'r'], name='key'))",
        "paste(rownames(v), collapse = ',')",
        "r,r",
    ),
    ("pd.DataFrame({'x': ['a', 'b']}, index=[10, 20])", "rownames(v)[2]", "20"),
    (
        "pd.DataFrame({'t': pd.date_range('2024-11-03 00:30', periods=4, freq='30min',"
        " tz='America/New_York', unit='us')})",
        "paste(format(v$t, '%H:%M %Z'), collapse = ',')",
        "00:30 EDT,01:00 EDT,01:30 EDT,01:00 EST",
    ),
]

# Values that come back as a different but equivalent Python value.
PY_EXPECTED = {
    "[1, 'a', None, 2.5]": "[1, 'a', None, 2.5]",
}

R_CASES = [
    "NULL",
    "TRUE",
    "NA",
    "c(TRUE, NA, FALSE)",
    "1L",
    "c(1L, NA, -5L)",
    "integer(0)",
    "2.5",
    "c(1, NA, NaN, Inf)",
    "numeric(0)",
    '"é"',
    'c("a", NA, "日本")',
    "character(0)",
    "as.raw(c(0, 255))",
    "complex(real = 1, imaginary = -1)",
    "c(1+2i, NA)",
    'bit64::as.integer64(c("9007199254740993", NA, "-9007199254740993"))',
    'factor(c("a", NA, "b"), levels = c("c", "b", "a"))',
    'factor(c("lo", "hi"), levels = c("lo", "mid", "hi"), ordered = TRUE)',
    'as.Date(c("2024-02-29", NA))',
    'as.POSIXct(c("2024-03-10 01:30:00", "2024-03-10 03:30:00", NA), tz = "America/New_York")',
    'as.POSIXct("2024-01-01 12:00:00", tz = "UTC")',
    'as.difftime(c(1.5, NA), units = "secs")',
    'list(1, "a", NULL)',
    'list(a = 1, b = list(c = "x"))',
    "setNames(list(), character(0))",
    "c(a = 1.5, b = 2)",
    "matrix(1:6, nrow = 2)",
    "array(as.double(1:24), dim = c(2, 3, 4))",
    "matrix(c(1, NA, 3, 4), 2)",
    'data.frame(x = 1:2, row.names = c("a", "b"))',
    "data.frame(a = integer(0), b = character(0))",
    "mtcars",
    "iris",
    'structure(list(a = 1:2), row.names = c("x", "x"), class = "data.frame")',
    'data.frame(i = c(1L, NA), d = c(NA, 2.5), s = c(NA, "z"), l = c(NA, TRUE),'
    ' f = factor(c("p", NA)), t = as.POSIXct(c("2024-01-01", NA), tz = "Europe/Paris"),'
    ' dd = as.Date(c(NA, "2024-01-02")), stringsAsFactors = FALSE)',
]


@pytest.fixture(scope="module")
def shared():
    with running_kernel(setup=HELPERS) as started:
        yield started


def ok(kc, code: str, timeout: float = 60) -> str:
    content, outputs = run_cell(kc, code, timeout=timeout)
    errors = [c for t, c in outputs if t == "error"]
    assert content["status"] == "ok", (code, errors and "\n".join(errors[0]["traceback"]))
    return stdout_of(outputs)


@pytest.mark.parametrize(("expr", "r_expr", "r_says"), PY_CASES, ids=[c[0][:40] for c in PY_CASES])
def test_python_to_r_and_back(shared, expr, r_expr, r_says):
    _, kc = shared
    check = f"paste(as.character({r_expr}), collapse = ' ')"
    out = ok(kc, f"original = {expr}\nr.v = original\nprint(r({check!r}))\nsame(original, r.v)")
    assert out.strip() == r_says


@pytest.mark.parametrize("r_expr", R_CASES)
def test_r_to_python_and_back(shared, r_expr):
    _, kc = shared
    out = ok(
        kc,
        f"%%R\noriginal <- {r_expr}\npy$v <- original\nback <- py$v\n"
        "if (!identical(back, original)) { str(original); str(back); stop('not identical') }\ncat('same\\n')",
    )
    assert out.strip().endswith("same")


def test_large_frame_both_ways(shared):
    _, kc = shared
    ok(
        kc,
        textwrap.dedent(
            """
            n = 1_000_000
            rng = np.random.default_rng(7)
            big = pd.DataFrame({c: rng.random(n) for c in "abcd"})
            big["i"] = rng.integers(-1000, 1000, n).astype(np.int32)
            big["s"] = pd.array([f"s{k}" for k in range(n)], dtype="str")
            big["f"] = pd.Categorical.from_codes(rng.integers(0, 5, n), list("vwxyz"))
            r.big = big
            same(big, r.big)
            """
        ),
        timeout=120,
    )
    out = ok(kc, "%%R\ncat(nrow(big), class(big$f), sum(big$i) == py_eval('int(big.i.sum())'), '\\n')")
    assert out.split() == ["1000000", "factor", "TRUE"]


def test_r_strings_of_every_encoding_and_na_arrive_as_str(shared):
    _, kc = shared
    out = ok(
        kc,
        "%%R\nlatin <- iconv('caf\\u00e9', 'UTF-8', 'latin1')\n"
        "words <- rep(c(NA, '', 'a', '\\u65e5\\u672c', latin), 60000)\ncat(Encoding(latin), '\\n')",
    )
    assert out.split() == ["latin1"]
    ok(kc, "w = r.words\nassert list(w[:5]) == [None, '', 'a', '日本', 'café'] and list(w[5:10]) == list(w[:5])")
    # In a frame, strings become what pandas makes of them by default ("str" in
    # pandas 3), usable as such.
    ok(
        kc,
        textwrap.dedent(
            """
            f = r('data.frame(s = c("a", NA, "b"), row.names = c("x", "y", "z"))')
            default = pd.Series(["a", None, "b"]).dtype
            assert f.s.dtype == default and f.index.dtype == pd.Index(["x"]).dtype, (f.s.dtype, f.index.dtype)
            assert f.s.isna().tolist() == [False, True, False]
            assert f.s.str.upper().tolist()[::2] == ["A", "B"]
            same(f, pd.DataFrame({"s": pd.Series(["a", None, "b"], index=["x", "y", "z"])}))
            """
        ),
    )


def test_values_from_r_are_writable_views_and_arenas_are_reused(shared):
    _, kc = shared
    out = ok(
        kc,
        textwrap.dedent(
            """
            import glob, os
            r("wide <- as.numeric(seq_len(300000))")
            arenas = lambda: len(glob.glob(os.path.join(os.environ["TANDEM_EXCHANGE_DIR"], "r-arena-*")))
            first = r.wide
            first[0] = -1.0  # a view of R's file, but the change stays in this array
            files = glob.glob(os.path.join(os.environ["TANDEM_EXCHANGE_DIR"], "r-arena-*"))
            in_files = {float(np.fromfile(f, np.float64, count=1)[0]) for f in files}
            second = r.wide
            held = arenas()
            del first, second
            for _ in range(5):
                again = r.wide
            print(in_files == {1.0}, again[0], held, arenas())
            """
        ),
    )
    untouched, value, held, after = out.split()
    assert untouched == "True" and float(value) == 1.0
    assert int(held) == 2  # two arrays alive: each keeps its own arena
    assert int(after) == 2  # once they are gone, the arenas are used again


def test_large_vectors_from_python_are_mapped_in_r_and_dropped_ones_free_their_arenas(shared):
    _, kc = shared
    out = ok(
        kc,
        textwrap.dedent(
            """
            import glob, os
            arena_bytes = lambda: sum(
                os.path.getsize(f) for f in glob.glob(os.path.join(os.environ["TANDEM_EXCHANGE_DIR"], "py-arena-*")))
            vec = np.arange(5_000_000, dtype=np.float64)
            r.mapped = vec
            r("mapped[1] <- -1")  # R's change is R's own
            vec[2] = -2.0  # and Python's is Python's
            print(r("mapped[1:3]").tolist(), vec[:3].tolist())
            for k in range(12):  # 480 MB in all, each replacing the last, no gc() asked for
                r.mapped = vec + k
            print(r("sum(mapped)") == (vec + 11).sum(), arena_bytes() // 2**20)
            """
        ),
    )
    same, megabytes = out.split()[-2:]
    assert out.startswith("[-1.0, 1.0, 2.0] [0.0, 1.0, -2.0]")
    assert same == "True"
    # R collects dropped vectors once 256 MiB are mapped, so their arenas are reused
    assert int(megabytes) <= 256 + 3 * 40


def test_percent_r_inputs_outputs_and_renaming(shared):
    _, kc = shared
    ok(kc, "x = np.array([1.0, 2.0, 3.0])\ny = 'label'")
    out = ok(kc, "%%R -i x,y -i z=x -o total,tag=y\ntotal <- sum(x) + sum(z)\ncat(y, total, '\\n')")
    assert out.split() == ["label", "12"]
    # Tandem's table: an R scalar is a Python scalar...
    assert ok(kc, "print(repr(total), repr(tag))").split() == ["12.0", "'label'"]
    assert ok(kc, "s = %R sum(1:10)\nprint(type(s).__name__, s)").strip() == "int 55"
    assert ok(kc, "v = %R -i x x * 2\nprint(v.tolist())").strip() == "[2.0, 4.0, 6.0]"
    # ... and in a notebook written for rpy2, vectors are numpy arrays, also of length one.
    assert ok(kc, "%load_ext rpy2.ipython\n%R -o total,tag=y\nprint(total.tolist(), tag.tolist())").split() == [
        "[12.0]",
        "['label']",
    ]
    assert ok(kc, "s = %R sum(1:10)\nprint(type(s).__name__, s.tolist())").strip() == "ndarray [55]"
    ok(kc, "%unload_ext rpy2.ipython")
    assert ok(kc, "s = %R sum(1:10)\nprint(repr(s))").strip() == "55"
    # A value with no Python counterpart is shown as R shows it, and None returns.
    content, outputs = run_cell(kc, "m = %R lm(dist ~ speed, data = cars)\nprint(m)")
    assert content["status"] == "ok"
    shown = "".join(c.get("data", {}).get("text/plain", "") for t, c in outputs if t == "display_data")
    assert "Coefficients" in shown and stdout_of(outputs).strip() == "None"


def test_r_object_reads_assigns_evaluates(shared):
    _, kc = shared
    out = ok(kc, "r.answer = 41\nprint(r('answer + 1L'), r['class(answer)'], r.answer, 'answer' in dir(r))")
    assert out.split() == ["42", "integer", "41", "True"]
    content, outputs = run_cell(kc, "r.no_such_variable")
    assert content["status"] == "error" and content["ename"] == "AttributeError"
    assert "no_such_variable" in content["evalue"]


def test_py_from_r_cell(shared):
    _, kc = shared
    ok(kc, "frame = pd.DataFrame({'k': [1.5, 2.5]})\ndef double(x):\n    return 2 * x")
    out = ok(
        kc,
        "%%R\npy$from_r <- data.frame(q = 1:3)\ncat(sum(py$frame$k), py_eval('double(21)'), '\\n')\n"
        "py_run('made_in_r = len(from_r)')\ncat(py$made_in_r, head(names(py)), '\\n', sep = ' ')",
    )
    lines = out.splitlines()
    assert lines[0].split() == ["4", "42"]
    assert lines[1].split()[0] == "3"
    assert ok(kc, "print(from_r.q.tolist(), made_in_r)").strip() == "[1, 2, 3] 3"


def test_nested_calls_between_languages(shared):
    _, kc = shared
    # R asks Python, whose code asks R again, while the R cell runs.
    out = ok(kc, "%%R\nouter <- 5\ncat(py_eval('r.outer * 2'), '\\n')")
    assert out.strip() == "10"


def test_values_that_cannot_cross_are_named_and_nothing_else_is_lost(shared):
    _, kc = shared
    content, outputs = run_cell(kc, "good = 1\nbad = lambda: 0\nr.ok_before = 7")
    assert content["status"] == "ok"
    content, outputs = run_cell(kc, "%%R -i good,bad\ncat('ran\\n')")
    assert content["status"] == "error" and content["ename"] == "ConversionError"
    assert "bad" in content["evalue"] and "function" in content["evalue"] and "convert" in content["evalue"].lower()
    assert "ran" not in stdout_of(outputs)
    assert ok(kc, "print(r.good, r.ok_before)").split() == ["1", "7"]

    content, _ = run_cell(kc, "r.mixed = pd.DataFrame({'m': [1, 'a']})")
    assert content["status"] == "error" and "'m'" in content["evalue"] and "mixed" in content["evalue"]
    content, _ = run_cell(kc, "r.huge = 2**70")
    assert content["status"] == "error" and "huge" in content["evalue"]
    content, _ = run_cell(kc, "r.nul = 'a\\x00b'")
    assert content["status"] == "error" and "NUL" in content["evalue"]
    content, _ = run_cell(kc, "r.surrogate = pd.Series(['ok', '\\ud800', None])")
    assert content["status"] == "error" and "surrogate" in content["evalue"] and "Unicode" in content["evalue"]

    content, _ = run_cell(kc, "%%R -o e,n\ne <- new.env()\nn <- 3L")
    assert content["status"] == "error" and "e (R class environment)" in content["evalue"]
    assert ok(kc, "print(repr(n))").strip() == "3"
    content, _ = run_cell(kc, "%%R\npy$f <- function(x) x")
    assert content["status"] == "error" and "function" in content["evalue"]
    content, _ = run_cell(kc, "%%R\npy$dup <- list(a = 1, a = 2)")
    assert content["status"] == "error" and "unique name" in content["evalue"]
    content, _ = run_cell(kc, "%%R\nfit <- lm(dist ~ speed, data = cars)\nmf <- data.frame(a = 1:2)\nmf$m <- diag(2)")
    assert content["status"] == "ok"
    content, _ = run_cell(kc, "r.fit")
    assert content["status"] == "error" and "fit (R class lm)" in content["evalue"]
    content, _ = run_cell(kc, "r.mf")
    assert content["status"] == "error" and "column m is a matrix" in content["evalue"]
    content, _ = run_cell(kc, "loop = [1]\nloop.append(loop)\nr.loop = loop")
    assert content["status"] == "error" and content["evalue"].startswith("loop (list) cannot cross")
    assert ok(kc, "print(good, r('1L'))").split() == ["1", "1"]


def test_posixlt_crosses_as_posixct_and_a_factor_with_an_na_level_is_refused(shared):
    _, kc = shared
    ok(
        kc,
        "t = r('strptime(\"2024-03-10 03:30:00\", \"%Y-%m-%d %H:%M:%S\", tz = \"America/New_York\")')\n"
        "assert t == pd.Timestamp('2024-03-10 03:30', tz='America/New_York'), t",
    )
    content, outputs = run_cell(kc, "%%R -o fz,fine\nfz <- data.frame(f = factor(c('a', NA), exclude = NULL))\nfine <- 2L")
    assert content["status"] == "error", outputs
    assert "fz" in content["evalue"] and "NA as a level" in content["evalue"] and "exclude = NA" in content["evalue"]
    assert ok(kc, "print(repr(fine))").strip() == "2"


def test_named_one_dimensional_arrays_keep_their_names(shared):
    _, kc = shared
    ok(
        kc,
        textwrap.dedent(
            """
            counts = r('table(c("a", "b", "a"))')
            sums = r('tapply(c(1, 2, 3), c("x", "y", "x"), sum)')
            assert counts.to_dict() == {"a": 2, "b": 1}, counts
            assert sums.to_dict() == {"x": 4.0, "y": 2.0}, sums
            plain = r('array(1:3, 3)')
            assert isinstance(plain, np.ndarray) and plain.tolist() == [1, 2, 3], plain
            """
        ),
    )
    content, _ = run_cell(kc, "r.wide = pd.Series([1, 2**64], dtype=object)")
    assert content["status"] == "error" and "wide" in content["evalue"] and "64 bits" in content["evalue"]


def test_int64_as_double_when_asked(shared):
    _, kc = shared
    out = ok(kc, "r('options(tandem.int64 = \"double\")')\nr.w = np.array([5, 6], dtype=np.int64)\n"
             "print(r('class(w)'))\nr('options(tandem.int64 = NULL)')")
    assert out.strip() == "numeric"
    out = ok(kc, "r('options(tandem.int64 = \"integer64\")')\nr.w = np.array([5, 6], dtype=np.int64)\n"
             "print(r('class(w)'))\nr.w = np.array([5, 6], dtype=np.int32)\nprint(r('class(w)'))\n"
             "r('options(tandem.int64 = NULL)')")
    assert out.split() == ["integer64", "integer"]


def test_hypothesis_frames_round_trip(shared):
    """Random frames of every supported dtype and NA pattern, Python -> R -> Python
    and, through R's py$, R -> Python -> R."""
    _, kc = shared
    ok(kc, textwrap.dedent(PROPERTY), timeout=300)


PROPERTY = """
from hypothesis import given, settings, HealthCheck, strategies as st

def column(kind, n, draw):
    mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    nums = draw(st.lists(st.integers(-2**31 + 1, 2**31 - 1), min_size=n, max_size=n))
    m = np.array(mask, dtype=bool)
    ints = np.array(nums, dtype=np.int64)
    if kind == "float64":
        return np.where(m, np.nan, ints / 7.0)
    if kind == "Float64":
        return pd.arrays.FloatingArray(ints / 3.0, m)
    if kind == "int32":
        return ints.astype(np.int32)
    if kind == "Int32":
        return pd.arrays.IntegerArray(ints.astype(np.int32), m)
    if kind == "int64":
        return ints * 2**31
    if kind == "Int64":
        return pd.arrays.IntegerArray(ints * 2**31, m)
    if kind == "bool":
        return ints % 2 == 0
    if kind == "boolean":
        return pd.arrays.BooleanArray(ints % 2 == 0, m)
    if kind == "str":
        characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\\x00")
        texts = draw(st.lists(st.text(characters, max_size=5), min_size=n, max_size=n))
        return pd.array([None if k else t for k, t in zip(mask, texts)], dtype="str")
    if kind == "category":
        return pd.Categorical.from_codes(np.where(m, -1, np.abs(ints) % 3), ["lo", "mid", "hi"], ordered=bool(n % 2))
    if kind == "datetime":
        stamps = (ints * 1_000_003).astype("datetime64[us]")
        return np.where(m, np.datetime64("NaT"), stamps).astype("datetime64[us]")
    if kind == "datetimetz":
        stamps = pd.DatetimeIndex((ints * 1_000_003).astype("datetime64[us]"))
        stamps = stamps.tz_localize("UTC").tz_convert("Europe/Berlin")
        return stamps.where(~m).array
    if kind == "timedelta":
        return np.where(m, np.timedelta64("NaT"), (ints * 1001).astype("timedelta64[us]")).astype("timedelta64[us]")
    if kind == "date":
        # An object column needs one date to be recognised as dates.
        if n == 0:
            return np.array([], dtype=np.float64)
        m[0] = False
        return np.where(m, None, (ints % 40000).astype("datetime64[D]").astype(object))
    raise ValueError(kind)

KINDS = ["float64", "Float64", "int32", "Int32", "int64", "Int64", "bool", "boolean", "str",
         "category", "datetime", "datetimetz", "timedelta", "date"]

@st.composite
def frames(draw):
    n = draw(st.integers(0, 12))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    data = {f"c{i}_{k}": column(k, n, draw) for i, k in enumerate(kinds)}
    index = None
    if draw(st.booleans()):
        index = pd.Index(draw(st.lists(st.sampled_from(["a", "b", "é", "x y"]), min_size=n, max_size=n)), dtype="str")
    return pd.DataFrame(data, index=index)

@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(frames())
def check(df):
    # R has one kind of integer, double and logical vector; a frame that comes back
    # unchanged comes back with the dtypes it left with (nullable ones too).
    r.hyp = df
    same(df, r.hyp)
    assert r("py$hyp_back <- hyp; identical(py$hyp_back, hyp)") is True

check()
print("ok")
"""


@pytest.mark.parametrize("kernel", ["tandem-r"], indirect=True)
def test_sharing_in_the_r_first_kernel(kernel):
    _, kc = kernel
    ok(kc, "df <- data.frame(a = 1:3, b = c('x', NA, 'z'))")
    out = ok(kc, "%%python\nprint(int(r.df.a.sum()), r.df.b.isna().tolist())\nfrom_python = {'k': [1.5, 2.5]}")
    assert out.strip() == "6 [False, True, False]"
    out = ok(kc, "cat(sum(unlist(py$from_python$k)), '\\n')")
    assert out.strip() == "4"


def test_r_from_another_thread_is_a_clear_error(shared):
    _, kc = shared
    out = ok(kc, "import threading\nerrors = []\n"
                 "def use():\n    try:\n        r('1')\n    except RuntimeError as e:\n        errors.append(str(e))\n"
                 "t = threading.Thread(target=use); t.start(); t.join()\nprint(errors[0])")
    assert "only from the threads that run cells" in out
    assert ok(kc, "print(r('2L'))").strip() == "2"


def test_interrupt_during_transfers_keeps_state(kernel):
    from conftest import interrupt_running_cell

    km, kc = kernel
    ok(kc, "import numpy as np\nbig = np.random.random(30_000_000)\nkept = 1\nr.kept_r = 2")
    # At moments spread over each transfer: one that lands while R copies a value
    # (C code that does not check for interrupts) must stop the loop all the same.
    settles = [0.5, 0.23, 0.71, 0.37]
    cells = ["%%R\nfor (k in 1:200) x <- py$big", "for k in range(200):\n    r.y = big"]
    for code, settle in [(code, settle) for code in cells for settle in settles]:
        elapsed = interrupt_running_cell(km, kc, code, settle=settle)
        assert elapsed < 2
        assert ok(kc, "print(kept, r.kept_r, big.shape[0])").split() == ["1", "2", "30000000"]
