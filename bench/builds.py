"""Two builds of Tandem side by side in one run: a change that should not alter
speed (a refactor) is checked against the build before it.

Both kernels run at once, from their own binaries and Python halves, and the
measures alternate between them round by round, so that the machine's drift
touches both alike:
  * the round trip of a trivial Python cell, of a trivial ``%%R`` cell, and of a
    trivial cell of the R-first kernel (``tandem-r``);
  * a cell printing 100,000 lines, until idle;
  * a 1,000,000-row float and string data frame sent to R (``%%R -i``) and back;
  * 500 batched trivial futures (``tandem.map``).

Usage:
  git worktree add /tmp/base REV && (cd /tmp/base && swift build -c release --static-swift-stdlib)
  cp python/tandem/_strings*.so /tmp/base/python/tandem/
  python bench/builds.py --base /tmp/base [--rounds 5]
The base's Python half is put first on its kernel's PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from latency import PYTHON, TANDEM, wait_reply_and_idle  # noqa: E402

from jupyter_client.manager import KernelManager  # noqa: E402

SETUP = """
import numpy as np, pandas as pd, tandem
frame = pd.DataFrame({"x": np.random.default_rng(0).random(1_000_000),
                      "s": np.array(["alpha", "beta", "gamma", "delta"])[np.arange(1_000_000) % 4]})
"""

# Each measure: its code, how often a round runs it, and the kernel's default language.
MEASURES = {
    "trivial Python cell": ("1", 20, "python"),
    "trivial %%R cell": ("%%R\n1", 20, "python"),
    "trivial tandem-r cell": ("1", 20, "r"),
    "100,000 printed lines": ("for i in range(100_000): print(i)", 1, "python"),
    "1e6-row frame to R and back": ("%%R -i frame -o back\nback <- frame", 3, "python"),
    "500 batched futures": ("_ = list(tandem.map(abs, range(500)))", 5, "python"),
}


def start(name: str, binary: str, pythonpath: str | None, language: str) -> tuple[KernelManager, object]:
    """Starts a kernel from a spec written for `binary` (a spec, not kernel_cmd,
    which jupyter_client no longer honours)."""
    folder = Path(tempfile.mkdtemp(prefix="tandem-builds-")) / "kernels" / name
    folder.mkdir(parents=True)
    spec = {
        "argv": [binary, "kernel", "-f", "{connection_file}", "--python", PYTHON, "--language", language],
        "display_name": name, "language": "python",
        "env": {"PYTHONPATH": pythonpath} if pythonpath else {},
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    km = KernelManager(kernel_name=name)
    km.kernel_spec_manager.kernel_dirs.insert(0, str(folder.parent))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    if language == "python":
        run(kc, SETUP)
        run(kc, "_ = list(tandem.map(abs, range(10)))")  # the pool is up before timing
    else:
        run(kc, "1")  # R is up before timing
    return km, kc


def run(kc, code: str) -> float:
    began = time.perf_counter()
    reply = wait_reply_and_idle(kc, kc.execute(code, silent=False))
    elapsed = time.perf_counter() - began
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{code!r} failed: {reply['content'].get('evalue')}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="a source tree with the base build in .build/")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    base = Path(options.base)
    builds = {"base": (str(base / ".build" / "release" / "tandem"), str(base / "python")), "this": (TANDEM, None)}
    kernels = {
        (build, language): start(f"tandem-{build}-{language}", binary, pythonpath, language)
        for build, (binary, pythonpath) in builds.items()
        for language in ("python", "r")
    }
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for round_number in range(options.rounds):
            for name, (code, repeat, language) in MEASURES.items():
                for i in range(repeat):
                    # Each build goes first every other time: the second of a pair
                    # runs on a machine the first just warmed (or disturbed).
                    order = list(builds)
                    if (round_number * repeat + i) % 2:
                        order.reverse()
                    for build in order:
                        kc = kernels[(build, language)][1]
                        times.setdefault((name, build), []).append(run(kc, code))
    finally:
        for km, kc in kernels.values():
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    print(f"\n{time.strftime('%Y-%m-%d')}: median of {options.rounds} alternating rounds")
    print("| measure | base | this build | this / base |")
    print("|---|---|---|---|")
    for name in MEASURES:
        base_ms = statistics.median(times[(name, "base")]) * 1e3
        this_ms = statistics.median(times[(name, "this")]) * 1e3
        print(f"| {name} | {base_ms:.2f} ms | {this_ms:.2f} ms | {this_ms / base_ms:.3f} |")


if __name__ == "__main__":
    main()
