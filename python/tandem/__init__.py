"""Tandem: a polyglot Jupyter kernel.

This package is the Python half of the kernel. The kernel process (written in
Swift) embeds CPython and drives cells through :mod:`tandem._kernel`; user code
imports ``tandem`` for the public API.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["RError", "__version__"]


def __getattr__(name: str) -> Any:
    # RError lives with the R magics, which need IPython: load them on first use.
    if name == "RError":
        from ._rmagic import RError

        return RError
    raise AttributeError(f"module 'tandem' has no attribute {name!r}")
