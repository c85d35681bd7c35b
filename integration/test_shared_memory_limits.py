"""A small or full /dev/shm (Docker gives containers 64 MB) must not crash anything.

Each kernel here runs in a private mount namespace whose /dev/shm is a 64 MB tmpfs
(`unshare -m`, as root, which CI is). Values too large for it travel in messages:
every transfer either arrives whole or fails with a clear error, and the kernel, R
and every variable survive. Before shared memory was reserved ahead of writing, a
100 MB transfer killed the kernel (or R) with SIGBUS.
"""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import run_cell, running_kernel, stdout_of, wrapped_kernelspec

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="a private /dev/shm needs root and unshare (CI runs as root)",
)

#: What runs before the kernel: a 64 MB /dev/shm, optionally filled up but for ~1 MB.
SMALL = "mount -t tmpfs -o size=64m tandem-shm /dev/shm"
FULL = SMALL + " && fallocate -l 63M /dev/shm/filler"


def shm_kernel(name: str, setup: str) -> str:
    return wrapped_kernelspec(name, ["unshare", "-m", "--", "sh", "-c", setup + ' && exec "$0" "$@"'])


def ok(kc, code: str, timeout: float = 120) -> str:
    content, outputs = run_cell(kc, code, timeout=timeout)
    assert content["status"] == "ok", (code, content, outputs)
    return stdout_of(outputs)


def check_transfers(kc, rows: int) -> None:
    """Vectors and frames of `rows` rows, each way; the numbers compared exactly."""
    ok(kc, f"""
import numpy as np, pandas as pd
n = {rows}
x = np.arange(n, dtype=np.float64) * 0.5
df = pd.DataFrame({{"a": np.arange(n, dtype=np.int32) % 1000, "b": np.ones(n)}})
""")
    out = ok(kc, """%%R -i x,df
cat(length(x), sprintf("%.1f", c(sum(x), x[length(x)])), nrow(df),
    sprintf("%.0f", c(sum(as.numeric(df$a)), sum(df$b))), "\\n")""")
    n = rows
    sum_a = sum(range(1000)) * (n // 1000) + sum(range(n % 1000))
    assert out.split() == [str(n), f"{0.25 * n * (n - 1):.1f}", f"{(n - 1) * 0.5:.1f}", str(n), str(sum_a), str(n)]
    ok(kc, """%%R -o y,rdf
y <- seq_len(length(x)) * 2
rdf <- data.frame(u = y, v = rev(y))""")
    out = ok(kc, "print(len(y), int(y[0]), int(y[-1]), rdf.shape, int(rdf['u'].iloc[-1]), int(rdf['v'].iloc[0]))")
    assert out.split() == [str(n), "2", str(2 * n), f"({n},", "2)", str(2 * n), str(2 * n)], out
    ok(kc, "del x, df, y, rdf")
    ok(kc, "%%R\nrm(x, df, y, rdf); invisible(gc())")


@pytest.mark.parametrize("setup", [SMALL, FULL], ids=["small", "full"])
def test_transfers_larger_than_shared_memory_arrive_whole(setup):
    name = shm_kernel("tandem-shm-" + ("full" if setup == FULL else "small"), setup)
    with running_kernel(name) as (km, kc):
        ok(kc, "kept = 41")
        ok(kc, "%%R\nkept_r <- 42")
        out = ok(kc, "import subprocess; print(subprocess.run(['df', '-m', '/dev/shm'], capture_output=True, text=True).stdout)")
        assert "64" in out  # the kernel really runs with the small /dev/shm
        check_transfers(kc, 13_107_200)  # 100 MiB of doubles
        # A futures map whose results are larger than shared memory in all.
        out = ok(kc, """import tandem
parts = tandem.map(lambda i: bytes([i]) * 8_000_000, range(12), progress=False)
print(sum(len(p) for p in parts), sorted({p[0] for p in parts}) == list(range(12)))""")
        assert out.split() == ["96000000", "True"], out
        assert ok(kc, "print(kept)").strip() == "41"
        assert ok(kc, "%%R\ncat(kept_r)").strip() == "42"
        assert km.is_alive()


def test_two_gigabyte_transfers_with_a_small_shared_memory():
    name = shm_kernel("tandem-shm-small-2g", SMALL)
    with running_kernel(name) as (km, kc):
        ok(kc, "kept = 41")
        # One message of 2.5 GiB to R (a 1 GiB vector and a 1.5 GiB frame), one of
        # 3 GiB back (a 1 GiB vector, a 2 GiB frame).
        check_transfers(kc, 2**27)
        assert ok(kc, "print(kept)").strip() == "41"
        assert km.is_alive()
