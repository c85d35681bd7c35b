"""A small or full /dev/shm (Docker gives containers 64 MB) must not crash anything.

Each kernel here runs in a private mount namespace whose /dev/shm is a 64 MB tmpfs
(`unshare -m`, as root, which CI is). Values too large for it cross through a file
in the kernel's scratch folder on disk (and in messages when that cannot hold them
either): every transfer either arrives whole or fails with a clear error, the
kernel, R and every variable survive, and a value costs one more copy of itself
in memory while it crosses, not several. Before shared memory was reserved ahead of writing, a
100 MB transfer killed the kernel (or R) with SIGBUS.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

from conftest import run_cell, running_kernel, stdout_of, wrapped_kernelspec
from process_memory import PeakMemory, tree_memory

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


GIB3 = 3 * 2**30
#: What a transfer may take beyond a second copy of the value.
MARGIN = 64 * 2**20


def settled_memory(kc, root: int) -> int:
    ok(kc, "import gc; _ = gc.collect()")
    ok(kc, "%R invisible(gc())")
    time.sleep(0.5)
    return tree_memory(root)


def test_a_three_gib_frame_each_way_with_a_small_shared_memory_costs_one_copy():
    """With Docker's 64 MB /dev/shm, a 3 GiB frame crosses each way through a file
    in the kernel's scratch folder: the values arrive exact, and while it crosses
    the kernel's whole process tree holds at most the value once more (plus
    MARGIN) than it held with the value on one side alone. As a message it took
    several copies (Python's bytes, the kernel's, ZeroMQ's, R's raw vector)."""
    name = shm_kernel("tandem-shm-small-3g", SMALL)
    n = GIB3 // 24  # three float64 columns
    with running_kernel(name) as (km, kc):
        root = km.provisioner.process.pid
        ok(kc, "%R 1")
        ok(kc, f"""import numpy as np, pandas as pd
n = {n}
df = pd.DataFrame({{"a": np.arange(n) * 0.5, "b": np.full(n, 2.0), "c": -np.arange(n, dtype=np.float64)}})""")
        alone = settled_memory(kc, root)
        peak = PeakMemory(root)
        ok(kc, "%%R -i df\ninvisible(df)")
        to_r = peak.stop() - alone
        # Checked apart, in slices: the check's own temporaries are not the transfer's.
        out = ok(kc, """%%R
exact <- TRUE
for (start in seq(1, nrow(df), by = 1e7)) {
  i <- start:min(nrow(df), start + 1e7 - 1)
  exact <- exact && all(df$a[i] == (i - 1) / 2) && all(df$b[i] == 2) && all(df$c[i] == 1 - i)
}
cat(nrow(df), exact)""")
        assert out.split() == [str(n), "TRUE"], out
        assert to_r <= GIB3 + MARGIN, f"Python to R: the tree grew by {to_r / 2**20:.0f} MiB for a 3 GiB value"

        ok(kc, "del df")
        ok(kc, "%R rm(df)")
        # Arithmetic makes ordinary vectors (a bare seq_len() is a compact
        # sequence, which R would expand as it is written).
        ok(kc, f"%%R\nn <- {n}\nrdf <- data.frame(a = seq_len(n) * 0.5, b = rep(2, n), c = (1 - seq_len(n)) * 1)")
        alone = settled_memory(kc, root)
        peak = PeakMemory(root)
        ok(kc, "%R -o rdf")
        to_python = peak.stop() - alone
        out = ok(kc, """columns = {"a": lambda i: i * 0.5, "b": lambda i: np.full(len(i), 2.0), "c": lambda i: 1.0 - i}
exact = all(
    np.array_equal(rdf[name].to_numpy()[start : start + 10**7], expected(np.arange(start, min(len(rdf), start + 10**7)) + 1))
    for start in range(0, len(rdf), 10**7)
    for name, expected in columns.items()
)
print(len(rdf), exact)""")
        assert out.split() == [str(n), "True"], out
        assert to_python <= GIB3 + MARGIN, f"R to Python: the tree grew by {to_python / 2**20:.0f} MiB for a 3 GiB value"
        assert km.is_alive()
