"""A cell that prints a million lines: every line arrives, kernel memory stays flat."""

from __future__ import annotations

import os
import time

import psutil

from conftest import run_cell, stdout_of

# Not LINES: terminals set that to their height.
LINES = int(os.environ.get("TANDEM_OUTPUT_LINES", 1_000_000))


def test_million_lines_arrive_with_bounded_memory(kernel):
    km, kc = kernel
    kc.execute_interactive("x = 0", timeout=30)  # warm up
    process = psutil.Process(km.provisioner.process.pid)
    baseline = process.memory_info().rss
    peak = baseline
    msg_id = kc.execute(f"for i in range({LINES}):\n    print(i)")
    received = 0
    last_sample = 0.0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=60)
        if time.monotonic() - last_sample > 0.02:
            peak = max(peak, process.memory_info().rss)
            last_sample = time.monotonic()
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            received += msg["content"]["text"].count("\n")
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert received == LINES
    growth = (peak - baseline) / 2**20
    # The output is ~6.9 MB; the kernel may hold a few batches of it, never all of it.
    assert growth < 32, f"kernel grew by {growth:.1f} MiB while printing"


def test_large_requests_are_freed_once_handled(kernel):
    """Twenty 30 MB signed requests queued behind a running cell: once each is
    handled, nothing keeps it (the shell queue once held the last 64)."""
    km, kc = kernel
    kc.execute_interactive("import time", timeout=30)
    process = psutil.Process(km.provisioner.process.pid)
    baseline = process.memory_info().rss
    blocker = kc.execute("time.sleep(2)")
    padding = "x" * (30 << 20)
    ids = []
    for i in range(20):
        msg = kc.session.msg("execute_request", content={
            "code": f"n_{i} = {i}", "silent": False, "store_history": False,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True, "padding": padding,
        })
        kc.shell_channel.send(msg)
        ids.append(msg["header"]["msg_id"])
    del padding
    replies = {}
    deadline = time.monotonic() + 120
    while len(replies) < 21 and time.monotonic() < deadline:
        reply = kc.get_shell_msg(timeout=60)
        replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
    assert all(replies.get(i) == "ok" for i in [blocker, *ids]), replies
    content, outputs = run_cell(kc, "print(sum(globals()[f'n_{i}'] for i in range(20)))")
    assert stdout_of(outputs).strip() == "190", outputs
    growth = (process.memory_info().rss - baseline) / 2**20
    assert growth < 100, f"kernel holds {growth:.0f} MiB after 600 MiB of handled requests"
