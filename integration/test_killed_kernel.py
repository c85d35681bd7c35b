"""A kernel that is killed rather than shut down (a crashed frontend, `now=True`,
the OOM killer) leaves nothing on disk that the next kernel's start does not
remove: R's temporary folder (`tempdir()`) and the debugger's cell files live in
the kernel's scratch folder, and each kernel sweeps away those of kernels that no
longer run."""

from __future__ import annotations

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


def test_a_killed_kernel_leaves_nothing_the_next_start_keeps():
    with running_kernel() as (km, kc):
        scratch = Path(value(kc, "import os\nos.environ['TANDEM_SCRATCH_DIR']"))
        r_temporary = Path(value(kc, "%R tempdir()"))
        start(kc)
        cell_file = Path(debug(kc, "dumpCell", {"code": "x = 1\n"})["body"]["sourcePath"])
        # Everything the kernel and its R put on disk is in its scratch folder,
        # which only this user can enter.
        assert r_temporary.parent == scratch and cell_file.is_relative_to(scratch)
        assert r_temporary.is_dir() and cell_file.is_file()
        assert scratch.stat().st_mode & 0o077 == 0
        # Killed: no chance to clean up.
        pid = km.provisioner.process.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert scratch.exists(), "the kill itself removed the folder: this test shows nothing"
    with running_kernel() as (_, kc):
        assert not scratch.exists()
        # The new kernel's R makes its temporary folder in the new scratch folder.
        new_scratch = Path(value(kc, "import os\nos.environ['TANDEM_SCRATCH_DIR']"))
        assert Path(value(kc, "%R tempdir()")).parent == new_scratch


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
