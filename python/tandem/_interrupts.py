"""Where an interrupt may land in the kernel's Python.

An interrupt (SIGINT, which both of Jupyter's interrupt modes end in) is meant for
the code of the running cell. Landing in Tandem's own code around it, it once
turned a cell's reply into ``KernelError: KeyboardInterrupt``; landing in the middle
of a lazy ``import pandas``, it left pandas half-initialised for the rest of the
session. So Tandem's one SIGINT handler raises KeyboardInterrupt only while
interrupts are :func:`allowed` (the cell's code runs); anywhere else it records the
interrupt, which the next :func:`allowed` block applies unless the next request
drops it first (:func:`drop_pending`).
"""

from __future__ import annotations

import concurrent.futures
import importlib
import signal
import sys
import threading
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Callable, Iterator


class _State:
    allowed = False
    pending = False
    #: Cancels or interrupts the session's futures (the kernel's broker).
    interrupt_futures: Callable[[], None] | None = None
    #: Given the interrupted frame, takes an interrupt that landed in the
    #: debugger (a cell stopped at a breakpoint) and says so.
    debugger_takes: Callable[[Any], bool] | None = None


_state = _State()


def install(interrupt_futures: Callable[[], None] | None) -> None:
    """Makes Tandem's handler the SIGINT handler (on the main thread), and the
    standard library's waits on futures safe from it."""
    _state.interrupt_futures = interrupt_futures
    signal.signal(signal.SIGINT, _on_interrupt)
    concurrent.futures._base._AcquireFutures = _AcquireFutures


class _AcquireFutures(concurrent.futures._base._AcquireFutures):
    """``concurrent.futures.wait`` and ``as_completed`` take every future's lock
    in a Python loop: an interrupt in the middle of it kept the locks taken so far,
    and those futures (Tandem's, a thread pool's) never completed again. Here the
    loops run with interrupts held; one that came meanwhile is raised once every
    lock is released again."""

    def __enter__(self) -> None:
        with held():
            super().__enter__()

    def __exit__(self, *args: Any) -> None:
        with held():
            super().__exit__(*args)
        check()


def set_debugger_hook(takes: Callable[[Any], bool]) -> None:
    """Lets the debugger take interrupts that land while it holds the cell."""
    _state.debugger_takes = takes


def _on_interrupt(signum: int, frame: Any) -> None:
    if _state.allowed:
        if _state.debugger_takes is not None and _state.debugger_takes(frame):
            return
        _raise_interrupt()
    _state.pending = True


def _raise_interrupt() -> None:
    _state.pending = False
    if _state.interrupt_futures is not None:
        _state.interrupt_futures()
    raise KeyboardInterrupt


@contextmanager
def allowed() -> Iterator[None]:
    """Interrupts raise KeyboardInterrupt within the block (the cell's code runs);
    one recorded just before the block is raised as it starts. Interrupts are for
    the main shell's cells: on another thread (a subshell's) the block changes
    nothing."""
    if not _on_main_thread():
        yield
        return
    previous = _state.allowed
    _state.allowed = True
    try:
        if _state.pending:
            _raise_interrupt()
        yield
    finally:
        _state.allowed = previous


@contextmanager
def deferred() -> Iterator[None]:
    """Interrupts wait until the block ends, and are raised then if they were
    allowed before it: for code that an exception halfway would leave broken (an
    import; ``concurrent.futures.wait``, which takes every future's lock one by one
    and, cut short, keeps them, so that no future completes again)."""
    with held():
        yield
    check()


@contextmanager
def held() -> Iterator[None]:
    """Interrupts wait until the block ends, and are not raised then: for code
    that must finish and whose caller raises them (:func:`check`) once it can."""
    if not _on_main_thread():
        yield
        return
    previous = _state.allowed
    _state.allowed = False
    try:
        yield
    finally:
        _state.allowed = previous


def check() -> None:
    """Raises an interrupt that is pending, if interrupts are allowed here."""
    if _state.allowed and _state.pending and _on_main_thread():
        _raise_interrupt()


def _on_main_thread() -> bool:
    """Whether this is the main shell's thread, the one interrupts are for (and
    the one Python runs signal handlers on)."""
    return threading.current_thread() is threading.main_thread()


def drop_pending() -> None:
    """Forgets an interrupt recorded since the last request: it was meant for
    code that has ended."""
    _state.pending = False


def import_whole(name: str) -> ModuleType:
    """``importlib.import_module(name)``, never cut short by an interrupt; an
    interrupt meanwhile is raised once the module is whole."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    with deferred():
        return importlib.import_module(name)
