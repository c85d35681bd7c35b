"""A frame larger than /dev/shm, each way between Python and R: the memory it costs.

A Tandem kernel makes a frame of three float64 columns (3 GiB by default) on one
side and moves it to the other (`%%R -i df`, then an R frame back with `%R -o`),
once with the machine's /dev/shm and once in a mount namespace whose /dev/shm is
Docker's default 64 MB (`unshare -m`, root only). For each transfer it prints the
time and the peak growth of the memory of the kernel's whole process tree (the sum
of PSS from /proc/PID/smaps_rollup, so a file both sides map counts once) above
the same tree holding the value on one side alone.

Usage: python bench/large_values.py [--gib 3]
(`make bench` sets TANDEM_BIN and TANDEM_PYTHON.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "integration"))
from process_memory import PeakMemory, tree_memory  # noqa: E402 - the tests' /proc reader
TANDEM = os.environ.get("TANDEM_BIN", str(ROOT / ".build" / "release" / "tandem"))
PYTHON = os.environ.get("TANDEM_PYTHON", sys.executable)
SMALL_SHM = ["unshare", "-m", "--", "sh", "-c", 'mount -t tmpfs -o size=64m bench-shm /dev/shm && exec "$0" "$@"']


def install_specs() -> list[str]:
    """Kernelspecs `tandem` and, as root, `tandem-small-shm`; returns their names."""
    prefix = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    subprocess.run(
        [TANDEM, "install", "--prefix", str(prefix), "--name", "tandem", "--python", PYTHON],
        check=True, capture_output=True,
    )
    kernels = prefix / "share" / "jupyter" / "kernels"
    names = ["tandem"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        spec = json.loads((kernels / "tandem" / "kernel.json").read_text())
        spec["argv"] = SMALL_SHM + spec["argv"]
        (kernels / "tandem-small-shm").mkdir()
        (kernels / "tandem-small-shm" / "kernel.json").write_text(json.dumps(spec))
        names.append("tandem-small-shm")
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    return names


def run(kc, code: str) -> str:
    out = []

    def hook(message):
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])

    reply = kc.execute_interactive(code, timeout=900, output_hook=hook)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {code!r}: {reply['content'].get('evalue')}")
    return "".join(out)


def settled(kc, root: int) -> int:
    run(kc, "import gc; _ = gc.collect()")
    run(kc, "%R invisible(gc())")
    time.sleep(0.5)
    return tree_memory(root)


def measure(kc, root: int, cell: str) -> tuple[float, int]:
    """Seconds and peak growth of the tree while `cell` runs."""
    alone = settled(kc, root)
    peak = PeakMemory(root)
    started = time.perf_counter()
    run(kc, cell)
    seconds = time.perf_counter() - started
    return seconds, peak.stop() - alone


def bench(name: str, rows: int) -> dict[str, tuple[float, int]]:
    km, kc = start_new_kernel(kernel_name=name, startup_timeout=60)
    try:
        root = km.provisioner.process.pid
        shm = run(kc, "import shutil; print(shutil.disk_usage('/dev/shm').total)")
        run(kc, "%R 1")
        run(kc, f"import numpy as np, pandas as pd\ndf = pd.DataFrame({{'a': np.arange({rows}) * 0.5, "
                f"'b': np.full({rows}, 2.0), 'c': -np.arange({rows}, dtype=np.float64)}})")
        results = {"Python to R": measure(kc, root, "%%R -i df\ninvisible(df)")}
        run(kc, "del df")
        run(kc, "%R rm(df)")
        run(kc, f"%%R\nrdf <- data.frame(a = seq_len({rows}) * 0.5, b = rep(2, {rows}), c = (1 - seq_len({rows})) * 1)")
        results["R to Python"] = measure(kc, root, "%R -o rdf")
        results["/dev/shm"] = (0.0, int(shm))
        return results
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=3)
    args = parser.parse_args()
    rows = int(args.gib * 2**30) // 24
    value = rows * 24
    print(f"a {value / 2**30:.1f} GiB frame (3 float64 columns), peak growth of the kernel's process tree (PSS)")
    print("| /dev/shm | direction | time | peak growth | growth / value |")
    print("|---|---|---|---|---|")
    for name in install_specs():
        results = bench(name, rows)
        shm = results.pop("/dev/shm")[1]
        for direction, (seconds, growth) in results.items():
            print(f"| {shm / 2**20:,.0f} MiB | {direction} | {seconds:.1f} s | {growth / 2**20:,.0f} MiB "
                  f"| {growth / value:.2f}x |")


if __name__ == "__main__":
    main()
