"""Pure-Python speed in Tandem against the same interpreter's own process, per version.

For each CPython (Debian's python3 through the source tree's .venv, and pyenv's
3.10-3.13 through venvs made once under .build/bench-pythons), one CPU-bound cell
(integer and float arithmetic, calls, a dict, a list, string formatting) runs
--repeats times in the Tandem kernel `tandem install` sets up for that environment
and in that environment's own `python`, in the same run; each side's best time is
kept. Debian's python3 carries libpython in its own program, so the kernel runs
inside it; a second row loads its shared libpython into the kernel instead, as
Tandem did before. The ratio is the interpreter's own time over Tandem's: 1.0 is
the same speed.

Usage: python bench/python_speed.py [--repeats 5] [--versions 3.10,3.12]
(`make bench` sets TANDEM_BIN and TANDEM_PYTHON.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
TANDEM = os.environ.get("TANDEM_BIN", str(ROOT / ".build" / "release" / "tandem"))
PYTHON = os.environ.get("TANDEM_PYTHON", str(ROOT / ".venv" / "bin" / "python"))

WORKLOAD = """
import time

def work(n=300_000):
    table = {}
    parts = []
    total = 0.0
    for i in range(n):
        key = i % 1009
        table[key] = table.get(key, 0) + i
        total += (i * 0.5) ** 0.5 / (key + 1)
        if i % 97 == 0:
            parts.append(f"{key}:{total:.3f}")
    return len(parts), round(total, 6), sum(table.values())

def best(repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result
"""


def own_process(python: str, repeats: int) -> tuple[float, list]:
    code = WORKLOAD + f"\nimport json\nprint(json.dumps(best({repeats})))"
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout
    seconds, result = json.loads(out)
    return seconds, result


def in_tandem(kernel: str, repeats: int) -> tuple[float, list]:
    km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=60)
    try:
        printed: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                printed.append(msg["content"]["text"])

        code = WORKLOAD + f"\nimport json\nprint(json.dumps(best({repeats})))"
        reply = kc.execute_interactive(code, timeout=600, output_hook=hook)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{kernel}: {reply['content'].get('evalue')}")
        seconds, result = json.loads("".join(printed).strip().splitlines()[-1])
        return seconds, result
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def pyenv_environment(minor: str) -> str | None:
    """A venv of pyenv's CPython `minor` with Tandem's Python half, made once."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    bases = sorted((root / "versions").glob(f"{minor}.*"), key=lambda p: [int(x) for x in p.name.split(".")])
    if not bases:
        print(f"(no pyenv CPython {minor} under {root}: skipped)")
        return None
    venv = ROOT / ".build" / "bench-pythons" / minor
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([str(bases[-1] / "bin" / "python"), "-m", "venv", str(venv)], check=True)
    return str(python)


def how_tandem_runs(python: str) -> str:
    """Doctor's word on where cells run: inside the python itself, or a libpython."""
    out = subprocess.run([TANDEM, "doctor", "--python", python], capture_output=True, text=True).stdout
    lines = [line[18:].strip() for line in out.splitlines() if line.startswith("runs cells ")]
    if not lines:
        return "?"
    return "inside its own python" if lines[0].startswith("inside") else lines[0].split(",")[0].removeprefix("in ")


def embedding_spec(prefix: Path, name: str, python: str) -> None:
    """A kernelspec that loads the environment's shared libpython into `tandem kernel`,
    as every spec did before interpreters that carry libpython hosted the kernel."""
    folder = prefix / "share" / "jupyter" / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    argv = [TANDEM, "kernel", "-f", "{connection_file}", "--python", python]
    (folder / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "python"}))


def version_of(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--versions", default="3.10,3.11,3.12,3.13")
    args = parser.parse_args()

    prefix = Path(tempfile.mkdtemp(prefix="tandem-speed-"))
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    # Debian's python3 twice: as `tandem install` sets it up, and with its shared
    # libpython loaded into the kernel (what Tandem did before).
    environments = [("Debian python3", PYTHON), ("Debian python3, shared libpython", PYTHON)]
    for minor in args.versions.split(","):
        python = pyenv_environment(minor)
        if python:
            environments.append((f"pyenv {minor}", python))

    print(f"{platform.node()}: {os.cpu_count()} cores; best of {args.repeats} runs of one cell each side\n")
    print("| interpreter | version | where Tandem runs cells | own process | Tandem | ratio (own / Tandem) |")
    print("|---|---|---|---|---|---|")
    for label, python in environments:
        name = "speed-" + label.replace(" ", "-").lower()
        if label.endswith("shared libpython"):
            embedding_spec(prefix, name, python)
            where = "libpython" + version_of(python)[:4] + ".so (embedded)"
        else:
            subprocess.run(
                [TANDEM, "install", "--prefix", str(prefix), "--name", name, "--python", python],
                check=True, capture_output=True,
            )
            where = how_tandem_runs(python)
        version = version_of(python)
        own, own_result = own_process(python, args.repeats)
        tandem, tandem_result = in_tandem(name, args.repeats)
        if own_result != tandem_result:
            raise RuntimeError(f"{label}: Tandem computed {tandem_result}, the interpreter {own_result}")
        print(
            f"| {label} | {version} | {where} | {own * 1e3:.1f} ms | {tandem * 1e3:.1f} ms "
            f"| {own / tandem:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
