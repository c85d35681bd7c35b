"""A kernel that is killed rather than shut down (a crashed frontend, `now=True`,
the OOM killer) leaves nothing on disk that the next kernel's start does not
remove: R's temporary folder (`tempdir()`) and the debugger's cell files live in
the kernel's scratch folder, and each kernel sweeps away those of kernels that no
longer run."""

from __future__ import annotations

import glob
import os
import signal
import time
from pathlib import Path

from conftest import run_cell, running_kernel
from test_debugger import debug, start


def value(kc, code: str) -> str:
    content, outputs = run_cell(kc, code)
    assert content["status"] == "ok", outputs
    return next(c["data"]["text/plain"] for t, c in outputs if t == "execute_result").strip("'\"")


#: Where a kernel and its children put things: R's temporary folders, the
#: kernel's folders (private and scratch), shared memory.
PLACES = ("/tmp/Rtmp*", "/tmp/tandem-*", "/dev/shm/*")
KILLS = 20


def entries() -> set[str]:
    return {path for pattern in PLACES for path in glob.glob(pattern)}


def of_kernels(paths: set[str], pids: list[int]) -> set[str]:
    """Those of `paths` that belong to the kernels `pids`: named after one of them
    (their folders), or R's temporary folders (which they no longer make in /tmp).
    Whatever else a process beside the test makes meanwhile is not theirs."""
    return {
        path for path in paths
        if os.path.basename(path).startswith("Rtmp") or any(f"-{pid}-" in os.path.basename(path) for pid in pids)
    }


def kill(km) -> None:
    """SIGKILL: no chance to clean up (a crashed frontend, `now=True`, the OOM killer)."""
    os.kill(km.provisioner.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_killed_kernels_leave_nothing_the_next_start_keeps():
    """Twenty kernels, each with R started, both worker pools running and the
    debugger on, are killed one after the other; once the next kernel has
    started, nothing any of them put in /tmp or /dev/shm remains."""
    before = entries()
    theirs: set[str] = set()
    pids: list[int] = []
    for _ in range(KILLS):
        with running_kernel() as (km, kc):
            pids.append(km.provisioner.process.pid)
            scratch = Path(value(kc, "import os\nos.environ['TANDEM_SCRATCH_DIR']"))
            exchange = Path(value(kc, "os.environ['TANDEM_EXCHANGE_DIR']"))
            r_temporary = Path(value(kc, "%R tempdir()"))
            # Both pools run, and put something of their own on disk.
            assert value(kc, "import tandem\nsum(tandem.map(abs, range(-8, 0), progress=False))") == "36"
            r_worker = Path(value(kc, "%R library(future); plan(tandem::workers); value(future(tempdir()))"))
            start(kc)
            cell_file = Path(debug(kc, "dumpCell", {"code": "x = 1\n"})["body"]["sourcePath"])
            # Everything they put on disk is in the kernel's two folders, which only
            # this user can enter.
            for path in (r_temporary, r_worker, cell_file):
                assert path.is_relative_to(scratch) and path.exists(), path
            assert scratch.stat().st_mode & 0o077 == 0 and exchange.stat().st_mode & 0o077 == 0
            theirs |= of_kernels(entries() - before, pids)
            assert {exchange, scratch} <= {Path(path) for path in theirs}
            kill(km)
        assert scratch.exists(), "the kill itself removed the folder: this test shows nothing"
    with running_kernel() as (km, kc):
        own = {value(kc, "import os\nos.environ['TANDEM_SCRATCH_DIR']"), value(kc, "os.environ['TANDEM_EXCHANGE_DIR']")}
        left = {path for path in theirs if os.path.exists(path)} - own
        assert not left, f"the killed kernels left {sorted(left)}"
        # The new kernel's R makes its temporary folder in the new scratch folder.
        assert str(Path(value(kc, "%R tempdir()")).parent) in own


def test_a_kernel_shut_down_in_order_removes_its_scratch_folder():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="tandem", startup_timeout=30)
    try:
        scratch = Path(value(kc, "import os\nos.environ['TANDEM_SCRATCH_DIR']"))
        value(kc, "%R tempdir()")
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert not scratch.exists()
