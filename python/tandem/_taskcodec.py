"""How tasks and their outcomes are written for the futures pool (shared by the
kernel's client and the Python worker)."""

from __future__ import annotations

import functools
import io
import json
import linecache
import os
import pickle
import traceback
import types
from typing import Any

from . import _cell_files
from ._errors import RemoteTraceback, TaskError
from ._interrupts import import_whole

# Results of ordinary types pickle fast with the standard pickler; cloudpickle
# is for what it cannot do (functions and classes defined in a notebook).
PROTOCOL = 5


class _NotImportable(Exception):
    """A value refers to a class or function of ``__main__`` (the notebook), which
    the other process cannot import by name."""


class _ByNamePickler(pickle.Pickler):
    """The standard pickler, refusing what it would save by a ``__main__`` name."""

    def reducer_override(self, obj: Any) -> Any:
        # Called for classes and functions, not for ints, strs, lists...: cheap.
        if isinstance(obj, (type, types.FunctionType)) and getattr(obj, "__module__", None) == "__main__":
            raise _NotImportable
        return NotImplemented


def dumps(value: Any) -> bytes:
    """``value`` pickled: by the standard pickler when everything in it can be
    imported by name on the other side, else by cloudpickle (by value)."""
    buffer = io.BytesIO()
    try:
        _ByNamePickler(buffer, PROTOCOL).dump(value)
        return buffer.getvalue()
    except (_NotImportable, pickle.PicklingError, TypeError, AttributeError):
        cloudpickle = import_whole("cloudpickle")
        return cloudpickle.dumps(value, PROTOCOL)


@functools.cache
def _source_keeping_pickler() -> type:
    cloudpickle = import_whole("cloudpickle")

    class Pickler(cloudpickle.Pickler):
        """cloudpickle, keeping the file names of code (it drops them), and
        noting them."""

        def __init__(self, file: Any) -> None:
            super().__init__(file, protocol=PROTOCOL)
            self.filenames: set[str] = set()

        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, types.CodeType):
                try:
                    constructor, args = cloudpickle.cloudpickle._code_reduce(obj)
                except (AttributeError, TypeError, ValueError):
                    pass  # another cloudpickle: its own reduction, without file names
                else:
                    self.filenames.add(obj.co_filename)
                    return constructor, tuple(obj.co_filename if a == "<dynamic-code>" else a for a in args)
            return super().reducer_override(obj)

    return Pickler


def dumps_with_sources(fn: Any) -> list[bytes]:
    """``fn`` pickled by value, and the source of the notebook cells its code
    comes from, so that a worker's traceback shows their lines."""
    buffer = io.BytesIO()
    pickler = _source_keeping_pickler()(buffer)
    pickler.dump(fn)
    sources = {
        name: linecache.cache[name][2]
        for name in pickler.filenames
        if (name.startswith("<") or _cell_files.is_cell(name)) and name in linecache.cache
    }
    return [buffer.getvalue(), pickle.dumps(sources, PROTOCOL)] if sources else [buffer.getvalue()]


def install_sources(data: bytes) -> None:
    """Puts the cell sources sent with a function where tracebacks look for them."""
    for name, lines in pickle.loads(data).items():
        linecache.cache[name] = (sum(map(len, lines)), None, lines, name)


def dumps_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def loads_json(data: bytes) -> Any:
    return json.loads(data)


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _user_traceback(error: BaseException) -> str:
    tb = error.__traceback__
    # The first frames are the worker's own loop: the user's code starts after them.
    while tb is not None and os.path.dirname(tb.tb_frame.f_code.co_filename) == _PACKAGE:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def error_outcome(error: BaseException) -> list[bytes]:
    """The frames of a failed task: status, the pickled exception (empty if it does
    not pickle), the worker's traceback, the exception's type and message."""
    text = _user_traceback(error)
    try:
        pickled = dumps(error.with_traceback(None))
        pickle.loads(pickled)  # an exception whose class cannot be rebuilt is sent as text
    except Exception:
        pickled = b""
    name = type(error).__qualname__
    return [b"error", pickled, text.encode("utf-8", "replace"), name.encode(), str(error).encode("utf-8", "replace")]


def exception_of(frames: list[bytes]) -> BaseException:
    """The exception a failed task's frames (after the status) describe, with the
    worker's traceback as its cause."""
    pickled, text, name, message = (bytes(f) for f in frames[:4])
    error: BaseException | None = None
    if pickled:
        try:
            error = pickle.loads(pickled)
        except Exception:
            error = None
    if not isinstance(error, BaseException):
        error = TaskError(f"{name.decode()}: {message.decode('utf-8', 'replace')}")
    error.__cause__ = RemoteTraceback(text.decode("utf-8", "replace"))
    return error
