"""Bring your own Python: a Tandem that `make install` put in a prefix embeds fresh
environments of CPython 3.10, 3.12 and 3.13 (pyenv's, on this machine image) and
works with the source tree hidden; `tandem doctor` describes each environment as
the environment itself has it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, SPEC_PREFIX, TANDEM
from own_pythons import check_driver_session, environment, hidden_source_tree, installed_prefix, pyenv_python


def python_says(python: Path, code: str) -> str:
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("minor", ["3.10", "3.12", "3.13"])
def test_an_installed_tandem_embeds_a_fresh_environment(minor, tmp_path):
    python, name, printed = environment(minor)
    # The environment had no Tandem: `tandem install` put the Python half in, saying how.
    assert f"Installing Tandem's Python half into {python.parent.parent}: {python} -m pip install" in printed
    spec = json.loads((SPEC_PREFIX / "share" / "jupyter" / "kernels" / name / "kernel.json").read_text())
    assert spec["display_name"] == f"Tandem (Python {minor}, env{minor} + R)"
    assert spec["argv"][0] == str(installed_prefix() / "bin" / "tandem")
    assert not [arg for arg in spec["argv"] if str(ROOT) in arg]

    driver = tmp_path / "driver.py"
    shutil.copy(ROOT / "integration" / "own_python_driver.py", driver)
    result = hidden_source_tree([str(python), str(driver), name], timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    version = python_says(python, "import platform; print(platform.python_version())")
    assert version.startswith(minor + ".")
    assert seen["language_version"] == version
    check_driver_session(seen, python)


def doctor(python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(installed_prefix() / "bin" / "tandem"), "doctor", "--python", str(python)],
        capture_output=True, text=True, timeout=120,
    )


def line(report: str, label: str) -> str:
    found = [l[18:].strip() for l in report.splitlines() if l.startswith(label.ljust(18))]
    assert len(found) == 1, (label, report)
    return found[0]


def test_doctor_lists_what_an_environment_has(tmp_path):
    python, _, _ = environment("3.12")
    result = doctor(python)
    assert result.returncode == 0, result.stdout + result.stderr
    version = python_says(python, "import platform; print(platform.python_version())")
    assert line(result.stdout, "version") == f"{version} (environment: {python.parent.parent})"
    base = pyenv_python("3.12").parent.parent
    assert line(result.stdout, "libpython") == str((base / "lib" / "libpython3.12.so.1.0").resolve())
    assert line(result.stdout, "embeds") == f"yes (Python {version} started in this process)"
    for module, label in [("numpy", "numpy"), ("pandas", "pandas"), ("IPython", "IPython"), ("zmq", "pyzmq (workers)")]:
        assert line(result.stdout, label) == python_says(python, f"import {module}; print({module}.__version__)")

    # A bare environment of the same Python: everything the kernel imports is missing.
    bare = tmp_path / "bare"
    subprocess.run([str(pyenv_python("3.12")), "-m", "venv", str(bare)], check=True)
    result = doctor(bare / "bin" / "python")
    assert result.returncode == 1
    assert line(result.stdout, "embeds").startswith("yes")
    for label in ("IPython", "numpy", "tandem (py)"):
        assert line(result.stdout, label) == "MISSING"
    assert f"run `{bare}/bin/python -m pip install ipython`" in result.stdout
    assert f"run `tandem install --python {bare}/bin/python`" in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="hiding a system library takes root (CI runs as root)")
def test_a_python_that_carries_libpython_needs_no_shared_one(tmp_path):
    """Debian's python3 links libpython statically; its shared libpython is a separate
    package. With that package's files hidden (an overlay whites them out), doctor
    says cells run inside python3 itself, install writes a spec that starts the
    kernel there, and that kernel runs cells; only `tandem kernel` run by hand, which
    loads a libpython, refuses, in one line naming the fix."""
    connection = tmp_path / "kernel.json"
    connection.write_text(json.dumps({
        "shell_port": 0, "iopub_port": 0, "stdin_port": 0, "control_port": 0, "hb_port": 0,
        "ip": "127.0.0.1", "key": "k", "transport": "tcp", "signature_scheme": "hmac-sha256",
    }))
    client = (
        "import sys; from jupyter_client.manager import start_new_kernel; "
        "km, kc = start_new_kernel(kernel_name='hosted', startup_timeout=60); "
        "r = kc.execute_interactive('import sys; 6 * 7', timeout=60, output_hook=lambda m: "
        "print(m['content']['data']['text/plain']) if m['msg_type'] == 'execute_result' else None); "
        "km.shutdown_kernel(now=True)"
    )
    script = r"""
    set -e
    lib=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
    mount -t tmpfs none "$1"
    mkdir "$1/upper" "$1/work"
    for f in "$lib"/libpython3*.so*; do mknod "$1/upper/$(basename "$f")" c 0 0; done
    mount -t overlay overlay -o "lowerdir=$lib,upperdir=$1/upper,workdir=$1/work" "$lib"
    echo "== doctor"; "$2" doctor --python "$4" || echo "exit $?"
    echo "== install"; "$2" install --python "$4" --prefix "$1/specs" --name hosted 2>&1 || echo "exit $?"
    echo "== spec"; cat "$1/specs/share/jupyter/kernels/hosted/kernel.json"; echo
    echo "== session"; JUPYTER_PATH="$1/specs/share/jupyter" "$4" -c "$5" 2>&1 || echo "exit $?"
    echo "== kernel"; "$2" kernel -f "$3" --python "$4" 2>&1 || echo "exit $?"
    """
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    python = os.environ.get("TANDEM_PYTHON") or str(ROOT / ".venv" / "bin" / "python")
    result = subprocess.run(
        ["unshare", "-m", "bash", "-c", script, "bash", str(scratch), TANDEM, str(connection), python, client],
        capture_output=True, text=True, timeout=180,
    )
    sections = dict(part.split("\n", 1) for part in result.stdout.split("== ")[1:])
    assert line(sections["doctor"], "libpython") == "none found", result.stdout + result.stderr
    assert line(sections["doctor"], "runs cells") == (
        f"inside {python}, which carries libpython itself: at its own speed"
    )
    assert "Installed kernelspec hosted" in sections["install"], sections["install"]
    spec = json.loads(sections["spec"])
    assert spec["argv"][:3] == [python, "-m", "tandem._host"]
    assert sections["session"].split() == ["42"], sections["session"]
    version = python_says(Path(python), "import platform; print(platform.python_version())")
    said = f"Python {version} at {python} has no shared libpython"
    fix = "run the kernel through the kernelspec `tandem install` writes, which starts it inside that python"
    kernel = [l for l in sections["kernel"].splitlines() if l.strip()]
    assert len(kernel) == 2 and said in kernel[0] and fix in kernel[0] and kernel[1] == "exit 1", kernel


def test_a_python_outside_the_supported_versions_is_refused(tmp_path):
    old = pyenv_python("3.9")
    result = subprocess.run(
        [str(installed_prefix() / "bin" / "tandem"), "install", "--python", str(old), "--prefix", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    version = python_says(old, "import platform; print(platform.python_version())")
    assert result.returncode != 0
    assert f"{old} is Python {version}; Tandem embeds CPython 3.10-3.13" in result.stderr
    assert not (tmp_path / "share").exists()
