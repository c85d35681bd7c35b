"""Interrupts end the running cell with KeyboardInterrupt and keep the session."""

from __future__ import annotations

import time

import pytest

from conftest import interrupt_cell, interrupt_running_cell, run_cell, stdout_of

LOOPS = {
    "busy": "while True:\n    pass",
    "sleep": "import time\ntime.sleep(100)",
    "numpy": "import numpy as np\nx = np.arange(1e6)\nwhile True:\n    x = np.sqrt(x * x + 1.0)",
}


@pytest.mark.parametrize("kernel", ["tandem", "tandem-message"], indirect=True)
@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_interrupt_ends_cell_and_keeps_state(kernel, loop):
    km, kc = kernel
    reply, _ = run_cell(kc, "kept = 'still here'")
    assert reply["status"] == "ok"

    elapsed = interrupt_running_cell(km, kc, LOOPS[loop], settle=0.3)
    assert elapsed < 2.0, f"interrupt took {elapsed:.2f}s"

    reply, outputs = run_cell(kc, "print(kept)")
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "still here\n"


@pytest.mark.parametrize("kernel", ["tandem", "tandem-message"], indirect=True)
def test_interrupt_while_idle_does_not_hit_next_cell(kernel):
    km, kc = kernel
    km.interrupt_kernel()
    time.sleep(0.3)
    reply, outputs = run_cell(kc, "print('fine')")
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "fine\n"


@pytest.mark.parametrize("kernel", ["tandem", "tandem-message"], indirect=True)
def test_interrupt_during_input(kernel):
    km, kc = kernel
    msg_id = kc.execute("name = input('who? ')", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=10)
    assert request["content"]["prompt"] == "who? "
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=5)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "KeyboardInterrupt"


def test_r_that_ignores_an_interrupt_is_ended_after_the_grace_period():
    """R busy in code that never checks for interrupts (here it suspends them)
    does not keep the cell waiting for ever: after TANDEM_R_INTERRUPT_GRACE
    seconds without a word from R, R is ended, the cell says why, and the next R
    cell gets a fresh R; Python keeps its variables."""
    import os

    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="tandem")
    km.start_kernel(env={**os.environ, "TANDEM_R_INTERRUPT_GRACE": "3"})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        assert run_cell(kc, "kept = 'python state'")[0]["status"] == "ok"
        assert run_cell(kc, "%%R\nx <- 1")[0]["status"] == "ok"
        reply, waited = interrupt_cell(
            km, kc, "%%R\nsuspendInterrupts({t <- Sys.time(); while (Sys.time() - t < 60) NULL})", settle=1.5)
        assert reply["content"]["status"] == "error"
        assert "did not stop within 3 s of the interrupt" in reply["content"]["evalue"], reply["content"]
        assert 2.5 < waited < 15, waited
        content, outputs = run_cell(kc, '%%R\ncat(exists("x"))')
        assert stdout_of(outputs) == "FALSE", outputs
        assert stdout_of(run_cell(kc, "print(kept)")[1]) == "python state\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def interrupted_error(km, kc, code: str) -> dict:
    """The error message of `code` interrupted while it runs."""
    reply, _ = interrupt_cell(km, kc, code, settle=1.5)
    msg_id = reply["parent_header"]["msg_id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=20)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "error":
            return msg["content"]
    raise AssertionError("no error message")


@pytest.mark.parametrize("code", ["%%R\nSys.sleep(30)", "x = 1\nv = %R Sys.sleep(30)", "r('Sys.sleep(30)')"])
def test_an_interrupted_r_call_shows_no_frames_of_tandem(kernel, code):
    km, kc = kernel
    error = interrupted_error(km, kc, code)
    text = "\n".join(error["traceback"])
    assert error["ename"] == "KeyboardInterrupt"
    assert "tandem" not in text and "_rmagic" not in text and "_bridge" not in text, text


def test_an_interrupted_r_cell_in_tandem_r_reads_as_r():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="tandem-r", startup_timeout=30)
    try:
        error = interrupted_error(km, kc, "Sys.sleep(30)")
        assert error["traceback"] == [], error  # as IRkernel: no Python traceback
        assert stdout_of(run_cell(kc, "cat(1 + 1)")[1]) == "2"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
