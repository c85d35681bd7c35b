"""How a call travels to a Python worker: the function (importable ones by name,
notebook ones by value with the source of their cells, their pickle reused while
nothing they refer to can have changed) and its arguments (an argument that
cannot travel is named)."""

from __future__ import annotations

import functools
import types
import weakref
from typing import Any, Callable

from . import _interrupts, _taskcodec


def pickled_function(fn: Callable) -> list[bytes]:
    """The frames that carry ``fn``: its pickle, and for notebook code the source
    of its cells (so that a worker's traceback shows the lines)."""
    if not callable(fn):
        raise TypeError(f"{fn!r} is not callable")
    try:
        if not _by_value(fn):
            return [_taskcodec.dumps(fn)]
        signature = _unchanging_signature(fn)
        cached = _function_cache.get(fn) if signature is not None else None
        if cached is not None and cached[0] == signature:
            return cached[1]
        frames = _taskcodec.dumps_with_sources(fn)
        if signature is not None:
            _function_cache[fn] = (signature, frames)
        return frames
    except Exception as error:
        raise TypeError(f"cannot send the function {name_of(fn)} to a worker: {error}") from error


# Pickling a notebook function by value costs more than a trivial task's round
# trip, so its pickle is reused while nothing it refers to can have changed.
_function_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_UNCHANGING = (int, float, complex, str, bytes, bool, type(None), types.ModuleType, types.BuiltinFunctionType)


def _unchanging_signature(fn: Callable) -> tuple | None:
    """What ``fn``'s pickle depends on, when all of it is immutable: its code and
    the identity of each global it names. None when it depends on anything that
    could change in place (a list, another notebook function, a closure...)."""
    if not isinstance(fn, types.FunctionType) or fn.__closure__ or fn.__kwdefaults__:
        return None
    if fn.__defaults__ and not all(isinstance(d, _UNCHANGING) for d in fn.__defaults__):
        return None
    bound = []
    for name in _global_names(fn.__code__):
        if name in fn.__globals__:
            value = fn.__globals__[name]
            if not isinstance(value, _UNCHANGING):
                return None
            bound.append((name, id(value)))
    return (fn.__code__, fn.__defaults__, tuple(bound))


@functools.lru_cache(maxsize=256)
def _global_names(code: types.CodeType) -> tuple[str, ...]:
    """The names a function's code (and the code nested in it) looks up."""
    names: set[str] = set()
    pending = [code]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        pending.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return tuple(sorted(names))


def _by_value(fn: Callable) -> bool:
    # Functions of the notebook (and lambdas, closures) do not exist in a worker:
    # they travel by value. Importable ones travel by name.
    module = getattr(fn, "__module__", None)
    return module in (None, "__main__") or getattr(fn, "__qualname__", "").count("<") > 0


def _cloudpickle(value: Any) -> bytes:
    cloudpickle = _interrupts.import_whole("cloudpickle")
    return cloudpickle.dumps(value, _taskcodec.PROTOCOL)


def pickled_arguments(args: Any, kwargs: dict, chunked: bool) -> bytes:
    try:
        return _taskcodec.dumps((args, kwargs, chunked))
    except Exception:
        pass
    # Find the argument that cannot travel, to name it.
    items = list(enumerate(args)) if not chunked else [(i, a) for i, item in enumerate(args) for a in item]
    for key, value in [*items, *kwargs.items()]:
        try:
            _cloudpickle(value)
        except Exception as error:
            label = f"argument {key}" if isinstance(key, int) else f"argument {key}="
            raise TypeError(
                f"cannot send {label} ({type(value).__name__}) to a worker: {error}"
            ) from error
    return _cloudpickle((args, kwargs, chunked))


def name_of(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def unpickle(frames: list) -> Any:
    import pickle

    return pickle.loads(frames[0])
