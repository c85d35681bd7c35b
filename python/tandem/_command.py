"""The ``tandem`` command ``pip install`` puts on PATH: it runs the kernel's binary.

The wheel carries the binary in ``tandem/bin``; a source checkout uses the one
``make build`` made. The binary is told which environment it came with, so that
``tandem install`` and ``tandem doctor`` default to this Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def binary() -> Path | None:
    """The ``tandem`` binary of this installation, or None when there is none."""
    for candidate in (_PACKAGE / "bin" / "tandem", _PACKAGE.parent.parent / ".build" / "release" / "tandem"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> None:
    program = binary()
    if program is None:
        sys.exit(
            f"tandem: no kernel binary in {_PACKAGE / 'bin'}: this is a source checkout that was "
            "never built; run `make build` in it, or install the tandem-kernel wheel"
        )
    os.environ.setdefault("TANDEM_INSTALLED_PYTHON", sys.executable)
    os.execv(program, [str(program), *sys.argv[1:]])
