"""Type trees and buffers of the exchange format as Python values: numpy arrays,
pandas Series and frames, scalars, with the dtypes values had when they left
Python (R's origins) or the shapes rpy2 gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from . import _strings
from ._blob import Reader, address
from ._errors import NoMapping
from ._marks import from_r_integer64, mark

def decode(node: dict, reader: Reader, *, column: bool = False, rpy2: bool = False) -> Any:
    """The Python value of one type tree. ``column`` keeps length-1 vectors as
    arrays. ``rpy2`` gives the shapes rpy2's numpy/pandas conversion gives, which
    code written for rpy2 expects: every vector an array in its R type's dtype
    (also of length one, names dropped), a data.frame's automatic row names as
    the strings "1", "2", ..., a structured array back as the data.frame it became."""
    # A value Python sent comes back as it left, except in rpy2's shapes, which
    # are R's types (an int64 array sent to R comes back int32, as from rpy2).
    origin = node.pop("origin", None)
    if origin is not None and not rpy2:
        _apply_origin(node, origin)
    kind = node["kind"]
    if kind == "null":
        return None
    if kind == "list":
        items = [decode(item, reader, rpy2=rpy2) for item in node["items"]]
        names = node.get("names")
        if names is None:
            return items
        if "" in names or len(set(names)) != len(names):
            raise NoMapping(
                "an R list whose names are partly empty or repeated has no Python counterpart; "
                "give each element a unique name, or unname() it"
            )
        return dict(zip(names, items))
    if kind == "dataframe":
        frame = _decode_frame(node, reader)
        if rpy2 and "rownames" not in node:
            frame.index = pd.Index([str(i) for i in range(1, len(frame) + 1)], dtype=object)
            mark(frame, rownames=True)
        elif isinstance(node.get("dtype"), dict):
            return _structured(frame, node["dtype"])
        integer64 = frozenset(name for name, column in zip(node["names"], node["columns"]) if from_r_integer64(column))
        if integer64:
            mark(frame, integer64_columns=integer64)
        return frame
    if node.get("type") == "raw":
        return reader.bytes(node["data"])
    values = decode_array(node, reader)
    if "dim" in node:
        values = _shape(values, node["dim"])
    elif rpy2:
        if node["kind"] == "datetime" and node.get("tz"):
            values = pd.DatetimeIndex(values)
    elif node.get("names") is not None:
        values = pd.Series(values, index=_index(node["names"], reader))
    elif not (column or node.get("array") or node["length"] != 1 or node["kind"] == "factor"):
        return _scalar(values, node)
    if from_r_integer64(node):
        mark(values, integer64=True)
    return values


def _structured(frame: Any, dtype: dict) -> np.ndarray:
    """A data.frame that was a structured array, as that array again."""
    target = np.dtype([tuple(field) for field in dtype["descr"]])
    array = np.empty(len(frame), dtype=target)
    for name in target.names:
        column = frame[name]
        if target[name].kind == "S":
            array[name] = [value.encode("utf-8") for value in column]
        else:
            array[name] = column.to_numpy()
    return array.view(np.recarray) if dtype.get("record") else array


def _shape(values: Any, dim: list[int]) -> np.ndarray:
    if isinstance(values, pd.api.extensions.ExtensionArray):
        mask = np.asarray(values.isna())
        data = values.to_numpy(dtype=values.dtype.numpy_dtype, na_value=_fill(values))
        return np.ma.MaskedArray(data.reshape(dim, order="F"), mask=mask.reshape(dim, order="F"))
    return values.reshape(dim, order="F")


def _fill(values: Any) -> Any:
    kind = values.dtype.kind
    return False if kind == "b" else 0 if kind in "iu" else np.nan


def _scalar(values: Any, node: dict) -> Any:
    item = values[0]
    if item is None or item is pd.NA or (node["kind"] != "vector" and pd.isna(item)):
        return pd.NA if node["kind"] == "vector" else item
    if node["kind"] == "date":
        return item.astype(dt.date) if isinstance(item, np.datetime64) else item
    if node["kind"] == "datetime":
        return pd.Timestamp(item)
    if node["kind"] == "timedelta":
        return pd.Timedelta(item)
    return item.item() if isinstance(item, np.generic) else item


def _apply_origin(node: dict, origin: dict | None) -> None:
    """Marks the vectors of a tree with the Python dtypes they had before they went
    to R (R keeps them, for a value Python assigned, as long as it is unchanged)."""
    if not origin:
        return
    if "dtype" in origin and node["kind"] == "vector" and node["type"] in ("logical", "integer", "double", "int64"):
        node["dtype"] = origin["dtype"]
    if origin.get("array") and node["kind"] != "dataframe":
        node["array"] = True
    if isinstance(origin.get("dtype"), dict) and node["kind"] == "dataframe" and node["names"] == [
        field[0] for field in origin["dtype"]["descr"]
    ]:
        node["dtype"] = origin["dtype"]  # a structured array: rebuilt as one
    for inner in ("columns", "items"):
        if inner in origin and inner in node and len(origin[inner]) == len(node[inner]):
            for child, child_origin in zip(node[inner], origin[inner]):
                _apply_origin(child, child_origin)


def _as_origin_dtype(values: Any, dtype: str) -> Any:
    """Values that R held as logical, integer or double, back in the Python dtype
    they left with."""
    target = pd.api.types.pandas_dtype("int64" if dtype == "int" else dtype)
    if (target.kind == "b") != (values.dtype.kind == "b"):
        return values  # R changed its type in place: R's type wins
    extension = isinstance(values, pd.api.extensions.ExtensionArray)
    numpy_target = getattr(target, "numpy_dtype", target)
    source = getattr(values.dtype, "numpy_dtype", values.dtype)
    # R may have changed values in place: R's values win over a dtype that cannot
    # hold them. (Nothing to check when every value of R's type fits the dtype.)
    if target.kind in "iuf" and len(values) and not np.can_cast(source, numpy_target, casting="safe"):
        data = values.to_numpy(dtype=np.float64, na_value=0.0) if extension else values
        if target.kind in "iu":
            limits = np.iinfo(numpy_target)
            if data.min() < limits.min or data.max() > limits.max or not np.array_equal(data, np.trunc(data)):
                return values
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                if not np.array_equal(data.astype(numpy_target), data, equal_nan=True):
                    return values
    if isinstance(target, pd.api.extensions.ExtensionDtype):
        return pd.array(values, dtype=target)
    if extension:  # NA appeared: the nullable counterpart of the numpy dtype
        bits = target.itemsize * 8
        nullable = {"i": f"Int{bits}", "u": f"UInt{bits}", "f": f"Float{bits}", "b": "boolean"}[target.kind]
        return pd.array(values, dtype=nullable)
    return values.astype(target)


def decode_array(node: dict, reader: Reader, *, pandas_strings: bool = False) -> Any:
    """One column as a numpy array, or a pandas masked array when it has NA.
    Strings are an object array (None for NA), or with ``pandas_strings`` (frames,
    indexes) what pandas makes of strings by default."""
    values = _decode_array(node, reader, pandas_strings)
    dtype = node.get("dtype")
    if dtype is not None and dtype != "integer64":  # R's integer64 is already int64
        values = _as_origin_dtype(values, dtype)
    return values


def _decode_array(node: dict, reader: Reader, pandas_strings: bool) -> Any:
    kind = node["kind"]
    n = node["length"]
    na = reader.array(node["na"], np.uint8, n).view(bool) if "na" in node else None
    if kind == "factor":
        codes = reader.array(node["data"], np.int32, n).astype(np.int32) - 1
        levels = decode_array(node["levels"], reader)
        return pd.Categorical.from_codes(codes, categories=pd.Index(levels), ordered=node["ordered"])
    if kind == "date":
        days = reader.array(node["data"], np.float64, n)
        if na is not None:
            days = np.where(na, 0.0, days)
        values = np.floor(days).astype(np.int64).view("datetime64[D]")
        if na is not None:
            values[na] = np.datetime64("NaT")
        return values
    if kind in ("datetime", "timedelta"):
        seconds = reader.array(node["data"], np.float64, n)
        if na is not None:
            seconds = np.where(na, 0.0, seconds)
        micros = np.round(seconds * 1e6).astype(np.int64)
        if na is not None:
            micros[na] = np.iinfo(np.int64).min  # NaT
        if kind == "timedelta":
            return micros.view("timedelta64[us]")
        stamps = micros.view("datetime64[us]")
        tz = node.get("tz") or ""
        if not tz:
            return stamps
        return pd.DatetimeIndex(stamps).tz_localize("UTC").tz_convert(tz).array
    dtype = {
        "logical": np.uint8,
        "integer": np.int32,
        "int64": np.int64,
        "double": np.float64,
        "complex": np.complex128,
    }
    kind = node["type"]
    if kind == "string":
        values = _string_column(reader, node["data"], n)
        if pandas_strings:
            default = pd.Index([""]).dtype  # object, or pandas' "str" type (pandas 3)
            if isinstance(default, pd.StringDtype):
                return _default_strings(values, na, default)
        if na is not None:
            values[na] = None
        return values
    values = reader.array(node["data"], dtype[kind], n)
    if kind == "logical":
        values = values.view(bool)
    if na is None:
        return values
    if kind == "complex":
        boxed = values.astype(object)
        boxed[na] = None
        return boxed
    masked = {
        "logical": pd.arrays.BooleanArray,
        "integer": pd.arrays.IntegerArray,
        "int64": pd.arrays.IntegerArray,
        "double": pd.arrays.FloatingArray,
    }[kind]
    return masked(values, na.copy())


def _string_column(reader: Reader, index: int, n: int) -> np.ndarray:
    """The n NUL-terminated strings of a buffer as an object array (the reverse of
    :func:`_pack_strings`)."""
    source = reader.raw(index)
    values = np.empty(n, dtype=object)
    _strings.fill(address(source), source.nbytes, address(values), n)
    return values


def _index(node: dict, reader: Reader, name: str | None = None) -> Any:
    """Names or row names as a pandas Index (R's integer row names as int64)."""
    values = decode_array(node, reader, pandas_strings=True)
    if node.get("type") == "string":
        return pd.Index(values, dtype=values.dtype, name=name)
    return pd.Index(np.asarray(values, dtype=np.int64), name=name)


def _default_strings(values: np.ndarray, na: np.ndarray | None, dtype: pd.StringDtype) -> Any:
    """A string array of pandas' default string type from an object array of new
    str objects, NA where ``na``. Without pyarrow that is an object array marked as
    strings; it is made as such, since pandas would otherwise check every element
    again (12-22 ms a million)."""
    array_type = dtype.construct_array_type()
    if dtype.storage != "python" or not hasattr(array_type, "_simple_new"):
        if na is not None:
            values[na] = None
        return pd.array(values, dtype=dtype)
    if na is not None:
        values[na] = dtype.na_value
    return array_type._simple_new(values, dtype)


def _decode_frame(node: dict, reader: Reader) -> Any:
    columns = []
    for name, column in zip(node["names"], node["columns"]):
        try:
            if column["kind"] in ("list", "dataframe"):
                values = decode(column, reader, column=True)
            else:
                values = decode_array(column, reader, pandas_strings=True)
        except NoMapping as error:
            raise NoMapping(f"column {name!r}: {error}") from None
        if isinstance(values, np.ndarray) and values.dtype.kind == "M" and column["kind"] == "date":
            values = values.astype(object)  # datetime.date objects: pandas has no date dtype
            values[pd.isna(values)] = None
        elif isinstance(values, list):
            boxed = np.empty(len(values), dtype=object)
            boxed[:] = values
            values = boxed
        columns.append(values)
    index: Any = pd.RangeIndex(node["length"])
    if "rownames" in node:
        index = _index(node["rownames"], reader, name=node.get("index_name"))
    frame = pd.DataFrame(dict(enumerate(columns)), index=index, copy=False)
    frame.columns = list(node["names"])
    return frame
