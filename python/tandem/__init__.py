"""Tandem: a polyglot Jupyter kernel.

This package is the Python half of the kernel. The kernel process (written in
Swift) embeds CPython and drives cells through :mod:`tandem._kernel`; user code
imports ``tandem`` for the public API.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
