"""What libraries look at to tell a notebook from a terminal, as under ipykernel.

The shell's class name and configuration are set in ``_shell``. ``tqdm.auto``
chooses widget progress bars only when ipykernel's shell module is loaded; that
module costs 0.1 s to import, so it is loaded only when tqdm's chooser is.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_LOADED_FIRST = {"tqdm.autonotebook": "ipykernel.zmqshell"}


class _LoadFirst:
    """Imports a module's detection prerequisite just before the module itself (a
    finder on ``sys.meta_path``; not derived from ``importlib.abc``, whose import
    costs 5 ms at every kernel start)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        prerequisite = _LOADED_FIRST.get(name)
        if prerequisite and prerequisite not in sys.modules:
            try:
                importlib.import_module(prerequisite)
            except Exception:  # without ipykernel, tqdm falls back to text bars
                pass
        return None  # the regular finders import the module itself


def install() -> None:
    """Puts the finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _LoadFirst) for finder in sys.meta_path):
        sys.meta_path.insert(0, _LoadFirst())
