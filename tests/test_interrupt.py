"""Interrupts end the running cell with KeyboardInterrupt and keep the session."""

from __future__ import annotations

import time

import pytest

from conftest import interrupt_running_cell, run_cell, stdout_of

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
