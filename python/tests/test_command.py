"""The `tandem` command pip puts on PATH, and the host entry a static python runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tandem import _command, _host


def test_the_command_runs_the_packaged_binary_with_its_arguments_and_python(tmp_path):
    program = tmp_path / "tandem" / "bin" / "tandem"
    program.parent.mkdir(parents=True)
    program.write_text('#!/bin/sh\necho "$@"\necho "$TANDEM_INSTALLED_PYTHON"\n')
    program.chmod(0o755)
    code = (
        "import pathlib, sys; from tandem import _command; "
        f"_command._PACKAGE = pathlib.Path({str(program.parent.parent)!r}); "
        "sys.argv = ['tandem', 'install', '--user']; _command.main()"
    )
    env = {k: v for k, v in os.environ.items() if k != "TANDEM_INSTALLED_PYTHON"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines() == ["install --user", sys.executable]


def test_without_a_binary_the_command_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr(_command, "_PACKAGE", tmp_path / "tandem")
    assert _command.binary() is None
    with pytest.raises(SystemExit) as exit:
        _command.main()
    assert "no kernel binary in" in str(exit.value) and "run `make build`" in str(exit.value)


def test_the_host_names_its_usage_and_a_library_it_cannot_load(tmp_path):
    with pytest.raises(SystemExit) as exit:
        _host.main([])
    assert "usage: python -m tandem._host" in str(exit.value)
    missing = tmp_path / "libTandemMain.so"
    with pytest.raises(SystemExit) as exit:
        _host.main([str(missing), "kernel"])
    assert "cannot load the kernel's library" in str(exit.value) and str(missing) in str(exit.value)
    assert "run `tandem install` again" in str(exit.value)
