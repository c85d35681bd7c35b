"""Proxies of R objects, as rpy2.robjects gives them: vectors, data frames,
functions, environments, formulas. Each holds the number of an R object kept in
the kernel's R session; its text is rpy2's (class, R classes, elements), `str()`
is R's print, and R functions are called with Python values or other proxies.

Over 400 lines on purpose: the proxy classes mirror rpy2.robjects' one hierarchy
and share its base class's handle, text and conversion helpers.
"""

from __future__ import annotations

import json
import math
import weakref
from typing import Any, Iterator

from . import _link, conversion

# rpy2's own names for the R types its low-level layer holds (shown in the text of
# lists and data frames): by SEXP type number.
_SEXP_CLASSES = {
    0: "rpy2.rinterface_lib.sexp.NULLType",
    3: "rpy2.rinterface.SexpClosure",
    4: "rpy2.rinterface_lib.sexp.SexpEnvironment",
    6: "rpy2.rinterface.LangSexpVector",
    10: "rpy2.rinterface.BoolSexpVector",
    13: "rpy2.rinterface.IntSexpVector",
    14: "rpy2.rinterface.FloatSexpVector",
    15: "rpy2.rinterface.ComplexSexpVector",
    16: "rpy2.rinterface_lib.sexp.StrSexpVector",
    19: "rpy2.rinterface.ListSexpVector",
    24: "rpy2.rinterface.ByteSexpVector",
}


def _in_module(module: str):
    """Names a class by the rpy2 module it lives in (its text shows it)."""

    def mark(cls):
        cls.__module__ = module
        return cls

    return mark


@_in_module("rpy2.robjects.robject")
class RObject:
    """An R object kept in the kernel's R session."""

    def __init__(self, description: dict) -> None:
        self._ref: int = description["ref"]
        self._classes: tuple[str, ...] = tuple(description.get("classes", ()))
        self._type: str = description.get("type", "")
        self._sexp: int = description.get("sexp", 0)
        self._length: int = description.get("length", 0)
        self._dim: list[int] | None = description.get("dim")
        self._description = description
        self._finalizer = weakref.finalize(self, _link.release, self._ref)

    # -- what rpy2 offers on every object --------------------------------------

    @property
    def rclass(self) -> tuple[str, ...]:
        """The object's R classes."""
        return self._classes

    @property
    def typeof(self) -> int:
        """R's type of the object, as its SEXP type number."""
        return self._sexp

    def r_repr(self) -> str:
        """R code that makes the object (`deparse`)."""
        return "\n".join(_call("deparse", [self], convert=False)._all())

    def __str__(self) -> str:
        reply, _ = _link.request("text", ref=self._ref)
        return reply["text"] + "\n"

    def __repr__(self) -> str:
        return f"{_sexp_repr(self)}\nR classes: {self._classes}"

    # -- how R and Python exchange it -----------------------------------------

    def values(self) -> Any:
        """The object as a Python value (rpy2's numpy and pandas shapes)."""
        reply, frames = _link.request("value", ref=self._ref)
        return _link.decode(reply, frames)


def _take(made: RObject) -> dict:
    """The description of a proxy made on the way to another: R's object then
    belongs to the other proxy."""
    made._finalizer.detach()
    return made._description


def environment(code: str, where: str) -> Environment:
    """R's global or base environment, found in R by `where`."""
    env = _request_object("eval", code=code)
    env._where = where
    return env


def _sexp_repr(obj: Any) -> str:
    cls = type(obj)
    return f"<{cls.__module__}.{cls.__qualname__} object at {hex(id(obj))}> [{obj._sexp}]"


@_in_module("rpy2.robjects.vectors")
class Vector(RObject):
    """An R vector: sized, indexed from 0, iterable. The typed vectors are made
    from a Python sequence (or a proxy, converted with R's `as.<type>`)."""

    _elements: list | None = None
    #: The R type the class's constructor makes.
    _r_type = ""

    def __init__(self, obj: Any) -> None:
        if not self._r_type:
            raise TypeError(f"{type(self).__name__} is made by R: use FloatVector, IntVector, StrVector, ...")
        super().__init__(_description(obj, self._r_type))

    def __len__(self) -> int:
        return self._length

    def _all(self) -> list:
        if self._elements is None:
            values = self.values()
            import pandas as pd

            elements = values.tolist() if hasattr(values, "tolist") else list(values)
            # NA of any type reads as None (rpy2 gives its NA singletons).
            self._elements = [None if element is pd.NA else element for element in elements]
        return self._elements

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            positions = list(range(self._length))[index]
            return _call("[", [self, IntVector([p + 1 for p in positions])])
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("index out of range")
        return self._all()[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._all())

    @property
    def names(self) -> Any:
        """The element names (a StrVector, or NULL)."""
        return _call("names", [self])

    def rx(self, *args: Any, **kwargs: Any) -> Any:
        """R's `x[...]`."""
        return _call("[", [self, *args], kwargs)

    def rx2(self, *args: Any, **kwargs: Any) -> Any:
        """R's `x[[...]]`."""
        return _call("[[", [self, *args], kwargs)

    def _format(self, element: Any, max_width: int) -> str:
        if element is None:
            return "NA"
        if isinstance(element, int):  # bool too, as rpy2 shows TRUE: "       1"
            return "%8i" % element
        if isinstance(element, float):
            return "%8f" % element
        text = repr(element) if isinstance(element, str) else type(element).__name__
        return text if len(text) < max_width else f"{text[: max_width - 3]}..."

    def _formatted(self, max_items: int = 9) -> Iterator[str]:
        half = max_items // 2
        if self._length == 0:
            return
        if self._length < max_items:
            width = math.floor(52 / self._length)
            for element in self._repr_elements(range(self._length)):
                yield self._format(element, width)
            return
        for element in self._repr_elements(range(half)):
            yield self._format(element, 12)
        yield "..."
        for element in self._repr_elements(range(self._length - half, self._length)):
            yield self._format(element, 12)

    def _repr_elements(self, positions: range) -> list:
        if self._elements is not None or self._length < 9:
            return [self._all()[p] for p in positions]
        part = _call("[", [self, IntVector([p + 1 for p in positions])], convert=False)
        return part._all()

    def __repr__(self) -> str:
        return f"{super().__repr__()}\n[{', '.join(self._formatted())}]"

    def _repr_html_(self, max_items: int = 7) -> str:
        cells = "".join(f"<td>{element}</td>" for element in self._formatted(max_items))
        name = type(self).__name__
        return f"<span>{name} with {self._length} elements.</span>\n<table>\n<tbody>\n<tr>{cells}</tr>\n</tbody>\n</table>"


@_in_module("rpy2.robjects.vectors")
class FloatVector(Vector):
    """An R double vector."""

    _r_type = "double"


@_in_module("rpy2.robjects.vectors")
class IntVector(Vector):
    """An R integer vector."""

    _r_type = "integer"

    def _format(self, element: Any, max_width: int) -> str:
        return "NA_integer_" if element is None else repr(element)


@_in_module("rpy2.robjects.vectors")
class BoolVector(Vector):
    """An R logical vector."""

    _r_type = "logical"


@_in_module("rpy2.robjects.vectors")
class StrVector(Vector):
    """An R character vector."""

    _r_type = "character"

    def _format(self, element: Any, max_width: int) -> str:
        if element is None:
            return "NA_character_"
        return super()._format(element, max_width)


@_in_module("rpy2.robjects.vectors")
class ComplexVector(Vector):
    """An R complex vector."""

    _r_type = "complex"


@_in_module("rpy2.robjects.vectors")
class FactorVector(Vector):
    """An R factor."""

    def __init__(self, obj: Any, levels: Any = None, ordered: bool = False) -> None:
        args = [obj] if levels is None else [obj, levels]
        RObject.__init__(self, _take(_call("factor", args, {"ordered": ordered}, convert=False)))

    @property
    def levels(self) -> Any:
        """The factor's levels."""
        return _call("levels", [self])

    @property
    def nlevels(self) -> int:
        """How many levels the factor has."""
        return len(self._description.get("levels", ()))

    def _all(self) -> list:
        if self._elements is None:
            codes = _call("as.integer", [self], convert=False)
            self._elements = [None if code is None else int(code) for code in codes._all()]
        return self._elements

    def _format(self, element: Any, max_width: int) -> str:
        if element is None:
            return "NA_integer_"
        text = self._description["levels"][element - 1]
        return text if len(text) < max_width else f"{text[: max_width - 3]}..."


@_in_module("rpy2.robjects.vectors")
class ListVector(Vector):
    """An R list."""

    def __init__(self, obj: Any) -> None:
        items = obj.items() if hasattr(obj, "items") else obj
        RObject.__init__(self, _take(_call("list", [], dict(items), convert=False)))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return super().__getitem__(index)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("index out of range")
        return _call("[[", [self, index + 1])

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._length))

    def items(self) -> Iterator[tuple[str, Any]]:
        """The (name, element) pairs."""
        names = self.names
        return zip(list(names) if names is not NULL else [None] * self._length, self)

    def _element_descriptions(self) -> list[dict]:
        reply, _ = _link.request("describe", ref=self._ref)
        return reply["elements"]

    def __repr__(self) -> str:
        elements = self._element_descriptions()
        names = [element.get("name") for element in elements]
        low_classes = [_SEXP_CLASSES.get(e["sexp"], "rpy2.rinterface.Sexp") for e in elements]
        header = [_short(low.rsplit(".", 1)[1], len(elements)) for low in low_classes]
        lines = [f"{RObject.__repr__(self)}\n[{', '.join(_elide(header))}]"]
        for i, element in zip(_elide(list(range(len(elements)))), _elide(elements)):
            if element == "...":
                lines.append("...")
                continue
            name = names[i] if names[i] is not None else "<no name>"
            low = low_classes[i]
            lines.append(f"  {name}: <class '{low}'>\n  <{low} object at {hex(id(element))}> [{element['sexp']}]")
        return "\n".join(lines)


def _short(name: str, count: int) -> str:
    width = 12 if count >= 9 else math.floor(52 / count)
    return name if len(name) < width else f"{name[: width - 3]}..."


def _elide(items: list) -> list:
    if len(items) <= 9:
        return items
    return [*items[:4], "...", *items[-4:]]


@_in_module("rpy2.robjects.vectors")
class DataFrame(ListVector):
    """An R data.frame."""

    def __init__(self, obj: Any, stringsasfactor: bool = False, checknames: bool = False) -> None:
        items = obj.items() if hasattr(obj, "items") else obj
        made = _call(
            "data.frame", [], {**dict(items), "stringsAsFactors": stringsasfactor, "check.names": checknames},
            convert=False,
        )
        RObject.__init__(self, _take(made))

    @property
    def nrow(self) -> int:
        """The number of rows."""
        return self._dim[0]

    @property
    def ncol(self) -> int:
        """The number of columns."""
        return self._dim[1]

    @property
    def colnames(self) -> Any:
        """The column names."""
        return _call("colnames", [self])

    @property
    def rownames(self) -> Any:
        """The row names."""
        return _call("rownames", [self])

    def _repr_html_(self, max_items: int = 7) -> str:
        return f"<span>R/rpy2 DataFrame ({self.nrow} x {self.ncol})</span>\n<pre>{str(self)}</pre>"


@_in_module("rpy2.robjects.vectors")
class Matrix(Vector):
    """An R matrix."""

    @property
    def nrow(self) -> int:
        """The number of rows."""
        return (self._dim or [0, 0])[0]

    @property
    def ncol(self) -> int:
        """The number of columns."""
        return (self._dim or [0, 0])[1]

    @property
    def dim(self) -> Any:
        """The dimensions."""
        return _call("dim", [self])


def _matrix_class(name: str, base: type) -> type:
    return _in_module("rpy2.robjects.vectors")(type(name, (Matrix, base), {"__doc__": f"An R {name}."}))


FloatMatrix = _matrix_class("FloatMatrix", FloatVector)
IntMatrix = _matrix_class("IntMatrix", IntVector)
BoolMatrix = _matrix_class("BoolMatrix", BoolVector)
StrMatrix = _matrix_class("StrMatrix", StrVector)


@_in_module("rpy2.robjects.functions")
class SignatureTranslatedFunction(RObject):
    """An R function, called with Python values or proxies; keyword arguments may
    say `_` where R's argument names have `.`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call(self, list(args), kwargs)


Function = SignatureTranslatedFunction


@_in_module("rpy2.robjects.environments")
class Environment(RObject):
    """An R environment: its variables by name."""

    #: "global" or "base" for those environments (found by name in R), else None.
    _where: str | None = None

    def __init__(self, description: dict | None = None) -> None:
        if description is None:
            description = _take(_request_object("eval", code="new.env()"))
        super().__init__(description)

    def _place(self) -> dict:
        return {"env": self._where} if self._where else {"env_ref": self._ref}

    def __getitem__(self, name: str) -> Any:
        return _request_object("get", name=name, **self._place(), convert=conversion.converts())

    def find(self, name: str) -> Any:
        """The value of `name`, looked up from here through the enclosing environments."""
        return self[name]

    def __setitem__(self, name: str, value: Any) -> None:
        arg, values = _argument(value, "v")
        _link.request("assign", name=name, value=arg, values=values, **self._place())

    def keys(self) -> Iterator[str]:
        """The names of the variables."""
        reply, _ = _link.request("names", **self._place())
        return iter(reply["names"])

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return len(list(self.keys()))

    def __contains__(self, name: object) -> bool:
        return name in set(self.keys())


@_in_module("rpy2.robjects")
class Formula(RObject):
    """An R formula (`y ~ x`), made in R's global environment."""

    def __init__(self, formula: str, environment: Any = None) -> None:
        code = f"stats::as.formula({json.dumps(formula)}, env = globalenv())"
        super().__init__(_take(_request_object("eval", code=code)))

    @property
    def environment(self) -> Environment:
        """The environment the formula's variables are looked up in."""
        return _call("environment", [self], convert=False)


@_in_module("rpy2.rinterface_lib.sexp")
class NULLType(RObject):
    """R's NULL."""

    def __bool__(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0


NULL: Any = None  # made at the first request that returns R's NULL


def _null(description: dict) -> NULLType:
    global NULL
    if NULL is None:
        NULL = NULLType(description)
    else:
        _link.release(description["ref"])
    return NULL


_VECTORS = {"double": FloatVector, "integer": IntVector, "logical": BoolVector, "character": StrVector,
            "complex": ComplexVector, "list": ListVector}
_MATRICES = {"double": FloatMatrix, "integer": IntMatrix, "logical": BoolMatrix, "character": StrMatrix}


def proxy(description: dict) -> Any:
    """The proxy of the R object a reply describes, of rpy2's class for it."""
    classes, kind = description.get("classes", []), description.get("type")
    if kind == "NULL":
        return _null(description)
    if "data.frame" in classes:
        cls: type = DataFrame
    elif "factor" in classes:
        cls = FactorVector
    elif "formula" in classes:
        cls = Formula
    elif kind in _MATRICES and len(description.get("dim") or []) == 2:
        cls = _MATRICES[kind]
    elif kind in _VECTORS:
        cls = _VECTORS[kind]
    elif kind in ("closure", "builtin", "special"):
        cls = SignatureTranslatedFunction
    elif kind == "environment":
        cls = Environment
    else:
        cls = RObject
    made = cls.__new__(cls)
    RObject.__init__(made, description)
    return made


def _description(obj: Any, r_type: str) -> dict:
    """What R keeps of a Python sequence given to a vector constructor."""
    import numpy as np

    if isinstance(obj, RObject):
        return _take(_call(f"as.{r_type}", [obj], convert=False))
    dtype = {"double": float, "integer": np.int32, "logical": bool, "character": object, "complex": complex}[r_type]
    values = np.asarray(list(obj), dtype=dtype)
    if r_type == "character":
        values = np.asarray([None if v is None else str(v) for v in values], dtype=object)
    return _take(_request_object("keep", values={"value": values}))


def _argument(value: Any, key: str) -> tuple[dict, dict]:
    """How one argument crosses: a proxy by its number, anything else converted
    by the active converter (rpy2's NotImplementedError when none applies)."""
    if isinstance(value, RObject):
        return {"ref": value._ref}, {}
    return {"value": key}, {key: conversion.to_r(value)}


def _call(fun: Any, args: list, kwargs: dict | None = None, *, convert: bool | None = None) -> Any:
    """Calls R function `fun` (a proxy or a name) with Python arguments."""
    listed = []
    values: dict[str, Any] = {}
    for i, (name, value) in enumerate([(None, a) for a in args] + list((kwargs or {}).items())):
        arg, more = _argument(value, f"a{i}")
        listed.append({**arg, "name": name})
        values.update(more)
    where = {"fun_ref": fun._ref} if isinstance(fun, RObject) else {"fun": fun}
    return _request_object("call", **where, args=listed, values=values,
                           convert=conversion.converts() if convert is None else convert)


def _request_object(op: str, *, convert: bool = False, **fields: Any) -> Any:
    reply, frames = _link.request(op, convert=convert, **fields)
    if reply.get("converted"):
        return _link.decode(reply, frames)
    return proxy(reply["object"])
