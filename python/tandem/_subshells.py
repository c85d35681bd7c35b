"""The threads that serve subshells (JEP 91).

Each subshell is served by a Python thread of its own, started here so that
``threading`` counts and names it as it does ipykernel's: the thread runs the
kernel's loop for its subshell (``run``, a native) until the subshell is
deleted. Its requests run concurrently with the main shell's, sharing the GIL.
"""

from __future__ import annotations

import threading
from typing import Callable

from . import _parents


def start(name: str, run: Callable[[int], None], token: int) -> None:
    """Starts the thread ``name`` that calls ``run(token)`` and ends when it returns."""
    thread = threading.Thread(target=_serve, args=(run, token), name=name, daemon=True)
    thread.start()


def _serve(run: Callable[[int], None], token: int) -> None:
    # The kernel's file descriptors carry the main shell's output: what this
    # thread writes goes to its own requests as messages.
    _parents.serve_own_requests()
    run(token)
