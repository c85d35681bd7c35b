"""rpy2.ipython in the kernel: its R magics are Tandem's (`%load_ext rpy2.ipython`
switches them to rpy2's value shapes)."""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ip: Any) -> None:
    """What `%load_ext rpy2.ipython` does."""
    ip.extension_manager.load_extension("rpy2.ipython")

