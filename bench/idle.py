"""Wake-ups of an idle kernel: Tandem (with its Python and R worker pools started)
against ipykernel, side by side in one run.

Each kernel is started through jupyter_client, runs its warm-up cells, and is then
left idle; the wake-ups of the kernel process (the sum over its threads of the
third field of /proc/PID/task/TID/schedstat, "timeslices run") are counted over
the same window for both. ZeroMQ's I/O thread answers the client's heartbeats in
every kernel and is shown apart.

Usage: python bench/idle.py [--seconds 10]
(`make bench` sets TANDEM_BIN and TANDEM_PYTHON.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
TANDEM = os.environ.get("TANDEM_BIN", str(ROOT / ".build" / "release" / "tandem"))
PYTHON = os.environ.get("TANDEM_PYTHON", sys.executable)

WARM_UP = {
    "tandem": [
        "import tandem\nassert sum(tandem.map(abs, range(10), progress=False)) == 45",
        "%%R\nlibrary(future); plan(tandem::workers); stopifnot(value(future(1)) == 1)",
    ],
    "ipykernel-idle": ["x = 1"],
}


def install_specs() -> None:
    prefix = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    subprocess.run(
        [TANDEM, "install", "--prefix", str(prefix), "--name", "tandem", "--python", PYTHON],
        check=True, capture_output=True,
    )
    spec = prefix / "share" / "jupyter" / "kernels" / "ipykernel-idle"
    spec.mkdir(parents=True)
    argv = [PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "ipykernel", "language": "python"}))
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")


def wakeups(pid: int) -> dict[str, int]:
    """Timeslices each thread of `pid` ran so far, by thread id and name."""
    counts = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            runs = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[2])
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except (OSError, IndexError):
            continue
        counts[f"{name} ({tid})"] = runs
    return counts


def execute(kc, code: str) -> None:
    reply = kc.execute_interactive(code, timeout=120, output_hook=lambda message: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"warm-up cell failed: {code!r}: {reply['content']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    install_specs()
    kernels = {name: start_new_kernel(kernel_name=name, startup_timeout=60) for name in WARM_UP}
    try:
        for name, (_, kc) in kernels.items():
            for code in WARM_UP[name]:
                execute(kc, code)
        time.sleep(3)  # the warm-up's own deferred work (history, panels) is done
        pids = {name: km.provisioner.process.pid for name, (km, _) in kernels.items()}
        before = {name: wakeups(pid) for name, pid in pids.items()}
        time.sleep(args.seconds)
        after = {name: wakeups(pid) for name, pid in pids.items()}
    finally:
        for km, kc in kernels.values():
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    print(f"wake-ups per second over {args.seconds:.0f} s of idleness (both kernels idle at once)")
    for name in kernels:
        rates = {
            thread: (count - before[name].get(thread, 0)) / args.seconds for thread, count in after[name].items()
        }
        zmq = sum(rate for thread, rate in rates.items() if thread.startswith("ZMQbg"))
        own = sum(rates.values()) - zmq
        print(f"  {name:15} {own:6.1f}/s outside ZeroMQ's threads, {zmq:4.1f}/s in them")
        for thread, rate in sorted(rates.items(), key=lambda item: -item[1]):
            if rate and not thread.startswith("ZMQbg"):
                print(f"      {thread:28} {rate:5.1f}/s")


if __name__ == "__main__":
    main()
