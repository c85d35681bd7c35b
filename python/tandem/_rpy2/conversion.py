"""Converters, as rpy2.robjects.conversion has them: which Python values may go to
R and which R values come back as Python values rather than proxies.

The default converter sends Python's scalars (and proxies) and returns proxies;
numpy2ri adds numpy arrays both ways, pandas2ri also pandas frames, series and
categoricals. A converter is active globally (`pandas2ri.activate()`) or inside
`with localconverter(...)`.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from typing import Any, Iterator


class Converter:
    """A set of conversion rules, combined with `+`."""

    def __init__(self, name: str, rules: frozenset[str] = frozenset(), template: Converter | None = None) -> None:
        self.name = name
        self.rules = frozenset(rules) | (template.rules if template is not None else frozenset())

    def __add__(self, other: Converter) -> Converter:
        return Converter(f"{self.name} + {other.name}", self.rules | other.rules)

    def py2rpy(self, obj: Any) -> Any:
        """The R object made of `obj` under this converter's rules."""
        from .robject import RObject, _request_object

        if isinstance(obj, RObject):
            return obj
        with localconverter(self):
            return _request_object("keep", values={"value": to_r(obj)})

    def rpy2py(self, obj: Any) -> Any:
        """The Python value of R object `obj` under this converter's rules (the
        proxy itself where no rule converts it)."""
        from .robject import RObject

        if isinstance(obj, RObject) and _convertible(obj, self.rules):
            return obj.values()
        return obj

    def __repr__(self) -> str:
        return f"<rpy2.robjects.conversion.Converter: {self.name}>"


default_converter = Converter("base converter")
_state = threading.local()
_global = [default_converter]


def get_conversion() -> Converter:
    """The converter in force here."""
    stack = getattr(_state, "stack", None)
    return stack[-1] if stack else _global[0]


def set_conversion(converter: Converter) -> None:
    """Makes `converter` the global one."""
    _global[0] = converter


@contextmanager
def localconverter(converter: Converter) -> Iterator[Converter]:
    """`converter` in force inside the block."""
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    stack.append(converter)
    try:
        yield converter
    finally:
        stack.pop()


class Activation:
    """`activate()` and `deactivate()` of a converter made global, as rpy2's
    pandas2ri and numpy2ri offer them (deprecated there, as here)."""

    def __init__(self, converter: Converter) -> None:
        self.converter = converter
        self._before: Converter | None = None

    def activate(self) -> None:
        """Adds the converter's rules to the global converter."""
        warnings.warn(
            "The global conversion available with activate() is deprecated and will be removed in the next "
            "major release. Use a local converter.",
            category=DeprecationWarning,
        )
        if self._before is None:
            self._before = get_conversion()
            set_conversion(self._before + self.converter)

    def deactivate(self) -> None:
        """Puts back the global converter from before :meth:`activate`."""
        if self._before is not None:
            set_conversion(self._before)
            self._before = None


def py2rpy(obj: Any) -> Any:
    """The R object made of `obj` under the converter in force."""
    return get_conversion().py2rpy(obj)


def rpy2py(obj: Any) -> Any:
    """The Python value of `obj` under the converter in force."""
    return get_conversion().rpy2py(obj)


def converts() -> str | bool:
    """What R values the converter in force returns as Python values: "all"
    (vectors and data frames), "atomic" (vectors) or False (none: proxies)."""
    rules = get_conversion().rules
    return "all" if "pandas" in rules else "atomic" if "numpy" in rules else False


def _convertible(obj: Any, rules: frozenset[str]) -> bool:
    from .robject import DataFrame, ListVector, Vector

    if isinstance(obj, DataFrame):
        return "pandas" in rules
    return isinstance(obj, Vector) and not isinstance(obj, ListVector) and bool(rules & {"numpy", "pandas"})


def to_r(value: Any) -> Any:
    """`value` as it may cross to R under the converter in force, or rpy2's
    NotImplementedError when no rule converts it."""
    import numpy as np
    import pandas as pd

    rules = get_conversion().rules
    if value is None or isinstance(value, (bool, int, float, str, complex, bytes)):
        return value
    if isinstance(value, (np.ndarray, np.generic)) and rules & {"numpy", "pandas"}:
        return value
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Categorical)) and "pandas" in rules:
        if isinstance(value, pd.DataFrame):
            # rpy2 gives R the index as row names, always as text.
            return value.set_axis(value.index.astype(str), axis=0)
        return value
    raise NotImplementedError(f"Conversion 'py2rpy' not defined for objects of type '{type(value)}'")
