"""What Tandem's rpy2 API offers of rpy2's low-level layer (rpy2.rinterface and
rpy2.rinterface_lib): R's missing values, the error class, the console logger.
R is already running in the kernel, so there is nothing to initialise."""

from __future__ import annotations

import logging
from typing import Any, Callable

from .._errors import RRuntimeError

#: rpy2's logger of R's console (notebooks set its level to quiet R).
logger = logging.getLogger("rpy2.rinterface_lib.callbacks")


class _NA:
    """One of R's typed missing values, shown as R names it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    __str__ = __repr__

    def __bool__(self) -> bool:
        raise ValueError(f"R value for missing {self._name}")


NA_Logical = _NA("NA")
NA_Integer = _NA("NA_integer_")
NA_Real = _NA("NA_real_")
NA_Character = _NA("NA_character_")


def initr(*args: Any, **kwargs: Any) -> int:
    """R runs already (the kernel's R session): nothing to start."""
    return 0


def unsupported(module: str) -> Callable[[str], Any]:
    """A module `__getattr__` that names what Tandem's rpy2 API lacks."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{module}.{name} is not part of Tandem's rpy2 API, which serves rpy2.robjects' r, globalenv, "
            "importr, the vector classes and the pandas2ri/numpy2ri converters on the kernel's one R session; "
            "use a %%R cell or tandem.r for the rest"
        )

    return __getattr__


def __getattr__(name: str) -> Any:
    if name == "NULL":
        from . import robjects

        return robjects.NULL
    return _unsupported(name)


_unsupported = unsupported("rpy2.rinterface")
__all__ = ["NA_Character", "NA_Integer", "NA_Logical", "NA_Real", "RRuntimeError", "initr", "logger"]
