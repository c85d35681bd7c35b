"""What Python's objects cannot say of R's types, remembered beside them."""

from __future__ import annotations

import weakref
from typing import Any

#: Objects that came from R with something their Python type does not say, held
#: weakly with what it was: ``integer64`` (an array or Series that was R's
#: integer64), ``integer64_columns`` (a frame's names of such columns) and
#: ``rownames`` (a frame whose index of "1", "2", ... was R's automatic row
#: names). They go back to R as they came, as R's origins do for Python's dtypes.
_r_marks: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def mark(value: Any, **marks: Any) -> None:
    key = id(value)
    entry = _r_marks.get(key)
    if entry is not None and entry[0]() is value:
        entry[1].update(marks)
        return
    try:
        ref = weakref.ref(value, lambda _ref: _r_marks.pop(key, None))
    except TypeError:  # scalars: a Python int cannot be marked
        return
    _r_marks[key] = (ref, marks)


def marks_of(value: Any) -> dict[str, Any]:
    entry = _r_marks.get(id(value))
    return entry[1] if entry is not None and entry[0]() is value else {}


def is_integer64(value: Any) -> bool:
    """Whether ``value`` (an array or Series) arrived from R as integer64."""
    return marks_of(value).get("integer64", False)


def from_r_integer64(node: dict) -> bool:
    """Whether a node holds R's integer64: an ``int64`` vector that is not a
    Python dtype R kept (those carry their Python dtype instead)."""
    return node.get("type") == "int64" and node.get("dtype", "integer64") == "integer64"


