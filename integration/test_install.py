"""`tandem install` writes a kernelspec Jupyter can use; IPC transport works too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from jupyter_client.manager import KernelManager

from conftest import PYTHON, SPEC_PREFIX, TANDEM, run_cell, running_kernel
from own_pythons import pyenv_python


def test_install_writes_spec_with_logos(tmp_path):
    subprocess.run(
        [TANDEM, "install", "--prefix", str(tmp_path), "--name", "my-tandem",
         "--display-name", "Mine", "--python", PYTHON, "--interrupt-mode", "message"],
        check=True, capture_output=True,
    )
    folder = tmp_path / "share" / "jupyter" / "kernels" / "my-tandem"
    spec = json.loads((folder / "kernel.json").read_text())
    # Debian's python3 (the suite's) carries libpython: it runs the kernel inside itself.
    library = str(Path(TANDEM).resolve().parent / "libTandemMain.so")
    assert spec["argv"][:8] == [PYTHON, "-m", "tandem._host", library, "kernel", "-f", "{connection_file}", "--python"]
    assert spec["argv"][8] == PYTHON
    assert spec["display_name"] == "Mine"
    assert spec["interrupt_mode"] == "message"
    assert spec["language"] == "python"
    for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        assert (folder / logo).stat().st_size > 0


def test_install_refuses_two_locations(tmp_path):
    result = subprocess.run(
        [TANDEM, "install", "--user", "--prefix", str(tmp_path), "--python", PYTHON],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "at most one of" in result.stderr


def test_ipc_transport(tmp_path):
    km = KernelManager(kernel_name="tandem", transport="ipc", ip=str(tmp_path / "kernel"))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        reply, outputs = run_cell(kc, "6 * 7")
        assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["42"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_stale_recorded_libpython_is_asked_again():
    """The spec records the libpython `tandem install` found, so that the kernel need
    not ask the interpreter at each start; when that no longer holds (here: the
    environment was remade from another Python, whose libpython is recorded), the
    kernel asks and embeds the right one."""
    # The suite's python hosts its kernels; this spec embeds its shared libpython, as
    # `tandem install` writes for interpreters that run on one.
    library, version = subprocess.run(
        [PYTHON, "-c", "import os, platform, sysconfig as s; "
         "print(os.path.realpath(os.path.join(s.get_config_var('LIBDIR'), s.get_config_var('INSTSONAME'))), "
         "platform.python_version())"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    assert Path(library).exists() and version.count(".") == 2
    folder = SPEC_PREFIX / "share" / "jupyter" / "kernels" / "stale"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kernel.json"
    argv = [TANDEM, "kernel", "-f", "{connection_file}", "--python", PYTHON, "--libpython", f"{library}@{version}"]
    spec = {"argv": argv, "display_name": "stale", "language": "python"}
    at = argv.index("--libpython") + 1
    other = pyenv_python("3.12")
    other_version = subprocess.run(
        [str(other), "-c", "import platform; print(platform.python_version())"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert other_version != version
    spec["argv"][at] = f"{other.parent.parent / 'lib' / 'libpython3.12.so.1.0'}@{other_version}"
    path.write_text(json.dumps(spec))
    with running_kernel("stale") as (_, kc):
        reply, outputs = run_cell(kc, "import platform; platform.python_version()")
        assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == [repr(version)]
