"""Every exception Tandem raises, and the one way a failed R reply becomes one.

Cheap to import (no IPython, numpy or pyzmq): the kernel, the R bridge, the
futures and the workers all take their errors from here.
"""

from __future__ import annotations


class ConversionError(TypeError):
    """A value that cannot cross between Python and R; the message says which and why."""

    def _render_traceback_(self) -> list[str]:
        # The message names the value and the fix; Tandem's own frames add nothing.
        return [f"ConversionError: {self}"]


class NativeUnavailable(RuntimeError):
    """A function only the running Tandem kernel provides was called without it."""


class NoMapping(TypeError):
    """A value with no counterpart in the other language (the exchange's own
    signal; users see it as a :class:`ConversionError` naming the value)."""


class RError(Exception):
    """An error raised by R code; its traceback is R's."""

    def __init__(self, message: str, traceback: list[str] | None = None) -> None:
        super().__init__(message)
        self.r_traceback = traceback or [f"Error: {message}"]

    def _render_traceback_(self) -> list[str]:
        return self.r_traceback


class RRuntimeError(RError):
    """An R error in code run through Tandem's rpy2 API (the name rpy2 gives it)."""


class PackageNotInstalledError(ImportError):
    """`importr()` of an R package the kernel's R does not have (rpy2's name)."""


class WorkerLost(RuntimeError):
    """The worker running a task ended (crashed, was killed, called ``os._exit``)."""


class TaskError(Exception):
    """A task failed with an exception that could not be sent back as itself."""


class RemoteTraceback(Exception):
    """The worker's traceback of a failed task, chained to the exception it raised
    (as concurrent.futures' ProcessPoolExecutor shows it)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


#: Set in the R-first kernel (``tandem-r``), where an interrupted ``%%R`` cell
#: shows nothing, as its plain R cells and IRkernel show an interrupt.
r_first = False


def interrupted() -> KeyboardInterrupt:
    """The KeyboardInterrupt of R code that an interrupt stopped: shown as that
    alone, without Tandem's frames (in the R-first kernel: not at all)."""
    error = KeyboardInterrupt()
    error._render_traceback_ = lambda: [] if r_first else ["KeyboardInterrupt"]
    return error


def check_reply(reply: dict, *, missing_names: bool = False) -> None:
    """Raises what an R reply that is not ``ok`` stands for: KeyboardInterrupt when
    it was interrupted, R's error otherwise (a NameError for a variable R does not
    have, where ``missing_names`` asks for that)."""
    status = reply.get("status")
    if status == "ok":
        return
    if status == "interrupted":
        raise interrupted()
    if missing_names and reply.get("ename") == "NameError":
        raise NameError(reply.get("evalue", ""))
    raise RError(reply.get("evalue", ""), reply.get("traceback"))
