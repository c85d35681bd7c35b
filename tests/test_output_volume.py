"""A cell that prints a million lines: every line arrives, kernel memory stays flat."""

from __future__ import annotations

import os
import time

import psutil

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
