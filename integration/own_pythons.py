"""Python environments of other CPython versions, each embedded by a Tandem that
`make install` put in a temporary prefix: made once per test session, shared by
the tests that need them."""

from __future__ import annotations

import functools
import math
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, SPEC_PREFIX

#: What the install test and the drivers need in each environment, besides what
#: `tandem install` brings: jupyter_client drives the kernel from the environment
#: itself (the source tree is hidden from it), matplotlib draws the plot.
DRIVER_PACKAGES = ["jupyter_client", "matplotlib"]


def pyenv_python(minor: str) -> Path:
    """pyenv's CPython `minor` (such as "3.12") on this machine image."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted((root / "versions").glob(f"{minor}.*"), key=lambda p: [int(x) for x in p.name.split(".")])
    found = [p / "bin" / "python" for p in found if (p / "bin" / "python").exists()]
    if not found:
        raise AssertionError(
            f"no CPython {minor} under {root}/versions: this test needs pyenv's {minor} "
            f"(pyenv install {minor}) as the machine image provides"
        )
    return found[-1]


@functools.cache
def installed_prefix() -> Path:
    """`make install PREFIX=<temp>` of this source tree."""
    prefix = Path(tempfile.mkdtemp(prefix="tandem-prefix-"))
    result = subprocess.run(
        ["make", "-C", str(ROOT), "install", f"PREFIX={prefix}"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return prefix


@functools.cache
def environment(minor: str) -> tuple[Path, str, str]:
    """A fresh venv of pyenv's `minor`, with a kernelspec `tandem-py<minor>` that the
    installed Tandem wrote for it. Returns (its python, the kernel name, what
    `tandem install` printed)."""
    folder = Path(tempfile.mkdtemp(prefix=f"tandem-env{minor}-")) / f"env{minor}"
    subprocess.run([str(pyenv_python(minor)), "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *DRIVER_PACKAGES],
        check=True, capture_output=True,
    )
    name = "tandem-py" + minor.replace(".", "")
    result = subprocess.run(
        [str(installed_prefix() / "bin" / "tandem"), "install", "--python", str(python),
         "--prefix", str(SPEC_PREFIX), "--name", name],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return python, name, result.stdout


def hidden_source_tree(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs `command` where the source tree (and so its build, its venvs and its R
    library) is an empty folder: what is left is what `make install` installed."""
    script = 'mount -t tmpfs tandem-hidden "$1" && shift && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(ROOT), *command],
        capture_output=True, text=True, **kwargs,
    )


def check_driver_session(seen: dict, python: Path) -> None:
    """What own_python_driver.py saw in a kernel embedding the environment of `python`:
    a frame, an `%%R -i df -o out` round trip, a `tandem.map`, an interrupt, a plot."""
    version = seen["language_version"]
    assert seen["embedded"] == [[int(p) for p in version.split(".")], str(python), str(python.parent.parent)]
    assert seen["frame"][0] == pytest.approx(sum(math.sqrt(i) for i in range(5)))
    assert seen["frame"][1] == ["A", "B", None, "D", "É"]
    assert seen["r_cell"][0] == "ok", seen["r_cell"]
    assert seen["r_out"] == {
        "n": [1, 1, None, 1, 1],
        "x2": [0, 2, 4, 6, 8],
        "s": ["A", "B", None, "D", "É"],
        "cls": ["integer"] * 5,
    }
    assert seen["map"] == [i * i for i in range(20)]
    assert seen["interrupt"][0] == "KeyboardInterrupt", seen["interrupt"]
    assert seen["after_interrupt"] == 42
    status, pictures = seen["plot"]
    assert status == "ok" and len(pictures) == 1, seen["plot"]
    assert pictures[0]["width"] > 200 and pictures[0]["height"] > 150
    assert 0.005 < pictures[0]["ink"] < 0.5, pictures
