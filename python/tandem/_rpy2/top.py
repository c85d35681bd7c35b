"""rpy2 in the Tandem kernel: rpy2's Python API served on the kernel's own R
session, so that a notebook sees one R (see tandem._rpy2)."""

from __future__ import annotations

#: The rpy2 version whose behaviour this API follows, marked as Tandem's.
__version__ = "3.5.17+tandem"
