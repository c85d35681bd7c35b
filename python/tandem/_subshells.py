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


_PREFIX = "subshell-"
_threads: dict[str, threading.Thread] = {}


def start(name: str, run: Callable[[int], None], token: int) -> None:
    """Starts the thread ``name`` (``subshell-<id>``) that calls ``run(token)`` and
    ends when it returns."""
    thread = threading.Thread(target=_serve, args=(run, token), name=name, daemon=True)
    _threads[name] = thread
    thread.start()


def ids() -> list[str]:
    """The ids of the subshells whose threads run, oldest first."""
    for name in [name for name, thread in _threads.items() if not thread.is_alive()]:
        del _threads[name]
    return [name.removeprefix(_PREFIX) for name in _threads]


def current_id() -> str | None:
    """The id of the subshell this thread serves; None on the main shell."""
    name = threading.current_thread().name
    return name.removeprefix(_PREFIX) if _threads.get(name) is threading.current_thread() else None


def _serve(run: Callable[[int], None], token: int) -> None:
    # The kernel's file descriptors carry the main shell's output: what this
    # thread writes goes to its own requests as messages.
    _parents.serve_own_requests()
    run(token)
