"""Values between Python and R: Tandem against rpy2 and reticulate, side by side.

Moves a 1e7-element float64 vector and a 1e6-row frame (4 float64, 1 int, 1
string, 1 categorical) each way, with

- Tandem: ``r.x = value`` and ``r.x`` inside a running Tandem kernel (driven
  through jupyter_client; the times are taken inside the kernel around the
  transfer itself);
- rpy2 (``pandas2ri`` / ``numpy2ri`` converters) in a Python process;
- reticulate (``r_to_py`` / ``py_to_r``) in an R process;
- ``np.copy`` of the same bytes as the physical reference.

All three use the same Python environment (``--python``, by default the
``.venv-bench`` that ``make bench`` builds: rpy2 and reticulate do not read
pandas 3 frames yet, so it pins pandas 2). Prints medians, the ratios against the
targets, and the peak extra memory (anonymous memory of kernel and R, plus the
shared-memory files) of each Tandem transfer, each case in a kernel of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAKE_DATA = """
import numpy as np, pandas as pd
rng = np.random.default_rng(1)
N = {rows}
vec = rng.random({length})
frame = pd.DataFrame({{c: rng.random(N) for c in "abcd"}})
frame["i"] = rng.integers(0, 1000, N).astype(np.int32)
frame["s"] = np.array(["s%d" % k for k in range(N)], dtype=object)
frame["f"] = pd.Categorical.from_codes(rng.integers(0, 5, N), ["lv1", "lv2", "lv3", "lv4", "lv5"])
"""

R_DATA = """
set.seed(1)
n <- {rows}
rvec <- runif({length})
rframe <- data.frame(a = runif(n), b = runif(n), c = runif(n), d = runif(n),
                     i = sample.int(1000L, n, replace = TRUE), s = paste0("s", seq_len(n)),
                     f = factor(sample(paste0("lv", 1:5), n, replace = TRUE)))
"""

CASES = ["vector py->R", "vector R->py", "frame py->R", "frame R->py"]


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


# --- Tandem ----------------------------------------------------------------------


def run_tandem(args, spec_dir: str) -> tuple[dict, dict, dict]:
    """Each case in a kernel of its own, so that the memory a case measures holds
    its own reusable arenas and not those an earlier case left."""
    os.environ["JUPYTER_PATH"] = spec_dir
    statements = {
        "vector py->R": "r.x = vec",
        "vector R->py": "y = r.rvec",
        "frame py->R": "r.x = frame",
        "frame R->py": "y = r.rframe",
    }
    times: dict[str, list[float]] = {}
    memory: dict[str, float] = {}
    loop = textwrap.dedent(
        """
        import time, gc
        _t = []
        for _ in range({runs}):
            y = None
            r('x <- NULL; invisible(gc())')
            gc.collect()
            _s = time.perf_counter()
            {statement}
            _t.append(time.perf_counter() - _s)
        print(_t)
        """
    )
    for case, statement in statements.items():
        with TandemKernel(args) as kernel:
            kernel.run(statement)  # warm-up
            # Timed alone: the memory sampler reads /proc every millisecond, which
            # takes a core of two and holds the kernel's memory map lock.
            times[case] = json.loads(kernel.run(loop.format(runs=args.runs, statement=statement)).strip())
            kernel.run("y = None\nr('x <- NULL; invisible(gc())')\nimport gc; gc.collect()")
            sampler = PeakSampler(kernel.process, kernel.exchange_dir)
            kernel.run(loop.format(runs=2, statement=statement))
            memory[case] = sampler.stop()
    with TandemKernel(args) as kernel:
        copy = kernel.run(
            "import time\n_t = []\nfor _ in range(%d):\n    _s = time.perf_counter(); _c = np.copy(vec); "
            "_t.append(time.perf_counter() - _s); del _c\nprint(_t)" % args.runs
        )
        payload = {
            "vector": args.length * 8,
            "frame": int(kernel.run(
                "print(sum(frame[c].to_numpy().nbytes for c in 'abcdi') + frame.f.cat.codes.nbytes"
                " + sum(map(len, frame.s)) + len(frame))").strip()),
        }
    reference = {"np.copy vector": json.loads(copy.strip())}
    return times, reference, {"memory": memory, "payload": payload}


class TandemKernel:
    """A Tandem kernel with the benchmark's data made in both languages."""

    def __init__(self, args) -> None:
        self.args = args

    def __enter__(self) -> TandemKernel:
        import psutil
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="tandem-bench", startup_timeout=60)
        self.process = psutil.Process(self.manager.provisioner.process.pid)
        self.run(MAKE_DATA.format(rows=self.args.rows, length=self.args.length))
        self.run("%%R\n" + R_DATA.format(rows=self.args.rows, length=self.args.length))
        self.exchange_dir = self.run("import os; print(os.environ['TANDEM_EXCHANGE_DIR'])").strip()
        return self

    def __exit__(self, *exc) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def run(self, code: str) -> str:
        out = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=600, output_hook=hook)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"cell failed: {reply['content'].get('evalue')}")
        return "".join(out)


def anonymous_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakSampler:
    """Samples the anonymous memory of the kernel and its children plus the files
    of the exchange folder, so that a mapped shared-memory file counts once. The
    baseline leaves the folder out, so the reusable arenas count as extra."""

    def __init__(self, kernel, exchange_dir: str) -> None:
        self.kernel = kernel
        self.exchange_dir = exchange_dir
        self.baseline = self.sample(files=False)
        self.peak = self.baseline
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def sample(self, files: bool = True) -> int:
        total = 0
        for process in [self.kernel, *self.kernel.children(recursive=True)]:
            try:
                total += anonymous_bytes(process.pid)
            except Exception:  # noqa: BLE001 - a child may be gone
                pass
        try:
            for entry in os.scandir(self.exchange_dir) if files else ():
                total += entry.stat().st_size
        except OSError:
            pass
        return total

    def loop(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.sample())
            time.sleep(0.001)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return self.peak - self.baseline


# --- anchors ---------------------------------------------------------------------

RPY2 = """
import json, sys, time
{make_data}
import rpy2.robjects as ro
from rpy2.robjects import default_converter, numpy2ri, pandas2ri
from rpy2.robjects.conversion import localconverter
ro.r('''{r_data}''')
conv = default_converter + numpy2ri.converter + pandas2ri.converter
def timed(fn):
    fn()
    out = []
    for _ in range({runs}):
        s = time.perf_counter(); fn(); out.append(time.perf_counter() - s)
    return out
def to_r(value):
    with localconverter(conv):
        ro.globalenv["x"] = value
def from_r(name):
    with localconverter(conv):
        return ro.conversion.get_conversion().rpy2py(ro.globalenv[name])
print(json.dumps({{
    "vector py->R": timed(lambda: to_r(vec)),
    "vector R->py": timed(lambda: from_r("rvec")),
    "frame py->R": timed(lambda: to_r(frame)),
    "frame R->py": timed(lambda: from_r("rframe")),
}}))
"""

RETICULATE = """
suppressMessages(library(reticulate))
use_python("{python}", required = TRUE)
py_run_string(r"---[{make_data}]---")
{r_data}
timed <- function(f) {{
  f()
  vapply(seq_len({runs}), function(k) {{ gc(); s <- proc.time()[["elapsed"]]; f(); proc.time()[["elapsed"]] - s }}, 0)
}}
main <- import_main(convert = FALSE)
cat(jsonlite::toJSON(list(
  "vector py->R" = timed(function() py_to_r(main$vec)),
  "vector R->py" = timed(function() r_to_py(rvec)),
  "frame py->R" = timed(function() py_to_r(main$frame)),
  "frame R->py" = timed(function() r_to_py(rframe))
), digits = NA))
"""


def run_rpy2(args) -> dict:
    code = RPY2.format(
        make_data=MAKE_DATA.format(rows=args.rows, length=args.length),
        r_data=R_DATA.format(rows=args.rows, length=args.length),
        runs=args.runs,
    )
    result = subprocess.run([args.python, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rpy2 run failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_reticulate(args) -> dict:
    code = RETICULATE.format(
        python=args.python,
        make_data=MAKE_DATA.format(rows=args.rows, length=args.length),
        r_data=R_DATA.format(rows=args.rows, length=args.length),
        runs=args.runs,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as script:
        script.write(code)
    try:
        result = subprocess.run(["Rscript", script.name], capture_output=True, text=True, check=False)
    finally:
        os.unlink(script.name)
    if result.returncode != 0:
        raise RuntimeError(f"reticulate run failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- report ----------------------------------------------------------------------


def install_spec(args) -> str:
    prefix = tempfile.mkdtemp(prefix="tandem-bench-specs-")
    subprocess.run(
        [args.tandem, "install", "--prefix", prefix, "--name", "tandem-bench", "--python", args.python,
         "--r-library", args.r_library],
        check=True,
        capture_output=True,
    )
    return str(Path(prefix) / "share" / "jupyter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--tandem", default=os.environ.get("TANDEM_BIN", str(ROOT / ".build" / "release" / "tandem")))
    parser.add_argument("--r-library", default=str(ROOT / ".venv" / "R-library"), help="Tandem's R package.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--length", type=int, default=10_000_000)
    args = parser.parse_args()

    tandem, reference, extra = run_tandem(args, install_spec(args))
    anchors = {"rpy2": run_rpy2(args), "reticulate": run_reticulate(args)}
    copy_ms = median_ms(reference["np.copy vector"])

    print(f"\n{args.length:,} float64 and a {args.rows:,}-row frame (4 float64, int, string, categorical);"
          f" medians of {args.runs} runs\n")
    print("| transfer | Tandem | rpy2 | reticulate | Tandem / reticulate | Tandem / np.copy | peak extra memory |")
    print("|---|---|---|---|---|---|---|")
    for case in CASES:
        ours = median_ms(tandem[case])
        rp = median_ms(anchors["rpy2"][case])
        rt = median_ms(anchors["reticulate"][case])
        kind = case.split()[0]
        payload = extra["payload"][kind]
        memory = extra["memory"][case]
        versus_copy = f"{ours / copy_ms:.2f}x" if kind == "vector" else "—"
        print(
            f"| {case} | {ours:.1f} ms | {rp:.1f} ms | {rt:.1f} ms | {ours / rt:.3f}x | {versus_copy} "
            f"| {memory / 2**20:.0f} MiB ({memory / payload:.2f}x of {payload / 2**20:.0f} MiB) |"
        )
    print(f"\nnp.copy of the vector: {copy_ms:.1f} ms")
    print("Targets: frame <= 0.3x reticulate each way; vector <= 3x np.copy each way; peak extra memory <= 3x payload.")


if __name__ == "__main__":
    sys.exit(main())
