"""Latency of Tandem against ipykernel (Python cells) and IRkernel (R cells),
side by side in one run.

Measures, for each kernel, through jupyter_client:
  * the round trip of a trivial execute (request sent until reply and idle arrive),
  * start to first result (process start until the first execute_reply),
  * a cell printing 100,000 lines, until idle with every line received.

Usage: python bench/latency.py [--runs 500] [--starts 5] [--only python|r]
(`make bench` sets TANDEM_BIN and TANDEM_PYTHON.)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent
TANDEM = os.environ.get("TANDEM_BIN", str(ROOT / ".build" / "release" / "tandem"))
PYTHON = os.environ.get("TANDEM_PYTHON", sys.executable)


def install_tandem_spec() -> None:
    prefix = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    subprocess.run(
        [TANDEM, "install", "--prefix", str(prefix), "--name", "tandem-bench", "--python", PYTHON],
        check=True, capture_output=True,
    )
    subprocess.run(
        [TANDEM, "install", "--prefix", str(prefix), "--name", "tandem-r-bench", "--python", PYTHON,
         "--language", "r"],
        check=True, capture_output=True,
    )
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")


def wait_reply_and_idle(kc, msg_id: str, on_iopub=None) -> dict:
    """Block on both sockets at once (no polling interval) until reply and idle."""
    import zmq

    shell, iopub = kc.shell_channel.socket, kc.iopub_channel.socket
    poller = zmq.Poller()
    poller.register(shell, zmq.POLLIN)
    poller.register(iopub, zmq.POLLIN)
    reply = None
    idle = False
    while reply is None or not idle:
        ready = dict(poller.poll(60_000))
        if not ready:
            raise TimeoutError("no reply within 60 s")
        if shell in ready:
            _, frames = kc.session.feed_identities(shell.recv_multipart())
            msg = kc.session.deserialize(frames)
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg
        if iopub in ready:
            _, frames = kc.session.feed_identities(iopub.recv_multipart())
            msg = kc.session.deserialize(frames)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if on_iopub:
                on_iopub(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
    return reply


def start(name: str):
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    return km, kc


def ready(kc) -> None:
    """Wait for the kernel like jupyter_client does, then leave the sockets to us."""
    kc.wait_for_ready(timeout=60)
    # Drain whatever the readiness handshake left behind.
    while kc.iopub_channel.msg_ready():
        kc.get_iopub_msg()


def stop(km, kc) -> None:
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def start_to_first_result(name: str, code: str) -> float:
    """Launch until the reply to the first execute: the request is sent at once and
    waits in ZeroMQ until the kernel listens, as a client that does not poll would."""
    began = time.perf_counter()
    km, kc = start(name)
    msg_id = kc.execute(code)
    while kc.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
        pass
    elapsed = time.perf_counter() - began
    stop(km, kc)
    return elapsed


def round_trips(kc, runs: int, code: str) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        msg_id = kc.execute(code)
        wait_reply_and_idle(kc, msg_id)
        times.append(time.perf_counter() - began)
    return times


def printed_lines(kc, lines: int, code: str) -> float:
    received = []

    def count(msg):
        if msg["msg_type"] == "stream":
            received.append(msg["content"]["text"].count("\n"))

    began = time.perf_counter()
    msg_id = kc.execute(code.format(lines=lines))
    wait_reply_and_idle(kc, msg_id, count)
    elapsed = time.perf_counter() - began
    assert sum(received) == lines, f"received {sum(received)} of {lines} lines"
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# (language, Tandem's kernelspec, the anchor, trivial code, first-result code, print loop)
COMPARISONS = [
    ("python", "tandem-bench", ("ipykernel", "python3"), "x = 1", "1",
     "for i in range({lines}):\n    print(i)"),
    ("r", "tandem-r-bench", ("IRkernel", "ir"), "x <- 1", "1",
     "for (i in 1:{lines}) print(i)"),
]


def measure(name: str, trivial: str, first: str, printing: str, args) -> dict[str, list[float]]:
    results = {"start to first result": [start_to_first_result(name, first) for _ in range(args.starts)]}
    km, kc = start(name)
    ready(kc)
    round_trips(kc, 20, trivial)  # warm up
    results["trivial execute round trip"] = round_trips(kc, args.runs, trivial)
    results[f"{args.lines:,} printed lines"] = [
        printed_lines(kc, args.lines, printing) for _ in range(args.print_runs)
    ]
    stop(km, kc)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--print-runs", type=int, default=3)
    parser.add_argument("--only", choices=["python", "r"])
    args = parser.parse_args()
    install_tandem_spec()
    print(f"# {time.strftime('%Y-%m-%d')} on {platform.node()} "
          f"({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()})")
    for language, tandem, (anchor, anchor_spec), trivial, first, printing in COMPARISONS:
        if args.only and args.only != language:
            continue
        ours = measure(tandem, trivial, first, printing, args)
        theirs = measure(anchor_spec, trivial, first, printing, args)
        print(f"\n## {language} cells: Tandem vs {anchor}\n")
        print(f"| measure | Tandem median | Tandem p99 | {anchor} median | {anchor} p99 | ratio |")
        print("|---|---|---|---|---|---|")
        for measure_name in ours:
            t, i = ours[measure_name], theirs[measure_name]
            ratio = statistics.median(t) / statistics.median(i)
            print(
                f"| {measure_name} | {statistics.median(t) * 1e3:.2f} ms | {percentile(t, 99) * 1e3:.2f} ms "
                f"| {statistics.median(i) * 1e3:.2f} ms | {percentile(i, 99) * 1e3:.2f} ms "
                f"| {ratio:.3f}x |"
            )


if __name__ == "__main__":
    main()
