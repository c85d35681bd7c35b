"""Shared set-up: kernelspecs for the built `tandem` binary in a private Jupyter path.

The suite never touches the user's kernelspecs: `tandem install --prefix` writes
`tandem` and `tandem-r` (signal interrupts) and `tandem-message` and
`tandem-r-message` (message interrupts) into a temporary folder that JUPYTER_PATH
points at before any client starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from process_memory import process_tree, pss  # noqa: F401 - the tests' helpers

ROOT = Path(__file__).resolve().parent.parent
TANDEM = os.environ.get("TANDEM_BIN") or str(ROOT / ".build" / "release" / "tandem")
PYTHON = os.environ.get("TANDEM_PYTHON") or sys.executable

_prefix = Path(tempfile.mkdtemp(prefix="tandem-specs-"))
#: Where the suite's kernelspecs live (on JUPYTER_PATH as share/jupyter).
SPEC_PREFIX = _prefix


def _install(name: str, mode: str, language: str = "python", python: str = PYTHON) -> None:
    subprocess.run(
        [TANDEM, "install", "--prefix", str(_prefix), "--name", name,
         "--python", python, "--interrupt-mode", mode, "--language", language,
         "--r-library", str(Path(PYTHON).parent.parent / "R-library")],
        check=True, capture_output=True,
    )


_install("tandem", "signal")
_install("tandem-message", "message")
_install("tandem-r", "signal", "r")
_install("tandem-r-message", "message", "r")
os.environ["JUPYTER_PATH"] = str(_prefix / "share" / "jupyter")


def install_ipykernel(python: str, name: str) -> str:
    """A kernelspec `name` for ipykernel in the environment of `python`."""
    spec = _prefix / "share" / "jupyter" / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    # Without TZ, R asks timedatectl, which fails in a container.
    env = {"TZ": os.environ.get("TZ", "UTC")}
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # As `python -m ipykernel install` writes it (JupyterLab offers its debugger by it).
    (spec / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": f"ipykernel ({name})", "language": "python", "env": env,
        "metadata": {"debugger": True},
    }))
    return name


def install_irkernel(name: str = "irkernel") -> str:
    """A kernelspec `name` for IRkernel (Debian's r-cran-irkernel) with the R that
    Tandem's R cells use."""
    spec = _prefix / "share" / "jupyter" / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = ["R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "IRkernel", "language": "R", "env": {"TZ": os.environ.get("TZ", "UTC")}})
    )
    return name


def install_anchor_kernels(python: str) -> tuple[str, str]:
    """Kernelspecs for a side-by-side run in one Python environment: ipykernel
    (with rpy2 there) and Tandem embedding that environment. Returns their names."""
    _install("tandem-anchor-env", "signal", python=python)
    return install_ipykernel(python, "ipykernel-anchor"), "tandem-anchor-env"
# Keep IPython's history and config of the test run away from the user's own.
os.environ.setdefault("IPYTHONDIR", tempfile.mkdtemp(prefix="tandem-ipython-"))


@contextmanager
def console(*arguments: str):
    """`jupyter console --simple-prompt` with `arguments` in a pseudo-terminal; a
    timeout while waiting for its screen fails with what the screen showed."""
    import io

    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-m", "jupyter", "console", *arguments, "--simple-prompt"],
        encoding="utf-8", timeout=60, dimensions=(40, 120),
    )
    child.logfile_read = screen = io.StringIO()
    try:
        yield child
    except pexpect.TIMEOUT as error:
        raise AssertionError(f"console screen so far:\n{screen.getvalue()}") from error
    finally:
        child.close(force=True)


@contextmanager
def running_kernel(name: str = "tandem", setup: str | None = None):
    """A started kernel and a blocking client, after `setup` ran in it."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=name, startup_timeout=30)
    try:
        if setup:
            content, outputs = run_cell(kc, setup)
            assert content["status"] == "ok", outputs
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture
def kernel(request):
    """A started kernel and a blocking client; `kernel_name` via indirect parametrisation."""
    with running_kernel(getattr(request, "param", "tandem")) as started:
        yield started


def run_cell(kc, code: str, timeout: float = 30, **kwargs):
    """Execute code; returns (reply content, [(msg_type, content)] of IOPub output)."""
    outputs = []
    reply = kc.execute_interactive(
        code, timeout=timeout, output_hook=lambda m: outputs.append(m), **kwargs
    )
    return reply["content"], [(m["msg_type"], m["content"]) for m in outputs]


def stdout_of(outputs) -> str:
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stdout")


def interrupt_cell(km, kc, code: str, settle: float):
    """Start `code`, interrupt it `settle` seconds after it starts running; returns
    its reply and how long the reply took after the interrupt."""
    import time

    msg_id = kc.execute(code)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait until the cell runs
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    time.sleep(settle)
    started = time.monotonic()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply, time.monotonic() - started


def interrupt_running_cell(km, kc, code: str, settle: float) -> float:
    """Start `code`, interrupt it after `settle` seconds, check it ended with
    KeyboardInterrupt, and return how long the interrupt took."""
    reply, elapsed = interrupt_cell(km, kc, code, settle)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    return elapsed


def wrapped_kernelspec(name: str, wrapper: list[str], base: str = "tandem") -> str:
    """Installs kernelspec `name`: `base`'s, with its command run through `wrapper`
    (a command that ends by running the arguments after it). Returns `name`."""
    import json

    spec_dir = _prefix / "share" / "jupyter" / "kernels"
    spec = json.loads((spec_dir / base / "kernel.json").read_text())
    spec["argv"] = [*wrapper, *spec["argv"]]
    (spec_dir / name).mkdir(exist_ok=True)
    (spec_dir / name / "kernel.json").write_text(json.dumps(spec))
    return name


