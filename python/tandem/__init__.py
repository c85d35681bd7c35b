"""Tandem: a polyglot Jupyter kernel.

This package is the Python half of the kernel. The kernel process (written in
Swift) embeds CPython and drives cells through :mod:`tandem._kernel`; user code
imports ``tandem`` for the public API.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "ConversionError",
    "Executor",
    "RError",
    "WorkerLost",
    "executor",
    "map",
    "r",
    "status",
    "submit",
    "submit_r",
    "__version__",
]

# Futures load pyzmq and the pool client: on first use, not at kernel start.
_FUTURES = {"Executor", "WorkerLost", "executor", "map", "submit", "submit_r"}


def __getattr__(name: str) -> Any:
    if name in ("RError", "ConversionError"):
        from . import _errors

        return getattr(_errors, name)
    if name in _FUTURES:
        from . import _futures

        # Bound here from now on: `tandem.submit` in a loop skips this function.
        for future_name in _FUTURES:
            globals()[future_name] = getattr(_futures, future_name)
        return globals()[name]
    if name == "status":
        from ._status import status

        return status
    if name == "r":
        from ._bridge import session

        return session()
    if name == "dask":
        import importlib

        return importlib.import_module("tandem.dask")
    raise AttributeError(f"module 'tandem' has no attribute {name!r}")
