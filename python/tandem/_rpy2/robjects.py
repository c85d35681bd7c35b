"""rpy2.robjects in the kernel: `r`, `globalenv`, the vector constructors and
the converters, on the kernel's one R session."""

from __future__ import annotations

import importlib
from typing import Any

from . import conversion, packages
from .conversion import default_converter
from .robject import (
    BoolVector,
    ComplexVector,
    DataFrame,
    Environment,
    FactorVector,
    FloatVector,
    Formula,
    Function,
    IntVector,
    ListVector,
    Matrix,
    RObject,
    SignatureTranslatedFunction,
    StrVector,
    Vector,
    _request_object,
    environment,
)
from .rinterface import NA_Character, NA_Integer, NA_Logical, NA_Real, unsupported


class R:
    """The R session: `r('code')` evaluates, `r['name']` and `r.name` look up."""

    def __call__(self, code: str) -> Any:
        return _request_object("eval", code=code, convert=conversion.converts())

    def __getitem__(self, name: str) -> Any:
        return _request_object("get", name=name, env="global", convert=conversion.converts())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __repr__(self) -> str:
        return "<rpy2.robjects.R: the Tandem kernel's R session>"


r = R()
globalenv = environment("globalenv()", "global")
baseenv = environment("baseenv()", "base")
NULL = r("NULL")

_SUBMODULES = {"vectors", "functions", "environments", "robject", "pandas2ri", "numpy2ri"}
_unsupported = unsupported("rpy2.robjects")


def __getattr__(name: str) -> Any:
    # rpy2.robjects imports its submodules: `ro.vectors.FloatVector` works at once.
    if name in _SUBMODULES:
        return importlib.import_module(f"rpy2.robjects.{name}")
    return _unsupported(name)

__all__ = [
    "BoolVector", "ComplexVector", "DataFrame", "Environment", "FactorVector", "FloatVector", "Formula",
    "Function", "IntVector", "ListVector", "Matrix", "NA_Character", "NA_Integer", "NA_Logical", "NA_Real",
    "NULL", "R", "RObject", "SignatureTranslatedFunction", "StrVector", "Vector", "baseenv", "conversion",
    "default_converter", "globalenv", "packages", "r",
]
