"""Values between Python and R: the Python half of the exchange format.

A value crosses as a JSON header (the type tree) plus raw little-endian buffers
laid out 64-byte aligned in one blob; ``docs/exchange-format.md`` is the
specification. Encoding and decoding are vectorised with numpy: no text repr and
no per-element Python loops, so a million-row frame costs a few copies of its
bytes. The kernel imports this module at the first transfer, so numpy and pandas
cost nothing at start-up.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import mmap
import os
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _strings
from ._errors import NoMapping

VERSION = 1
ALIGN = 64
#: Blobs at least this large travel through a file in shared memory instead of
#: a ZeroMQ frame: one copy in, and Python maps what R wrote.
FILE_THRESHOLD = 1 << 20

_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)  # Linux 5.14

_INT32_MIN = -(2**31)
_INT64_MIN = -(2**63)


# --- the blob -----------------------------------------------------------------


@dataclass
class Writer:
    """Collects the buffers of one message and lays them out aligned."""

    parts: list[tuple[int, memoryview]] = field(default_factory=list)
    size: int = 0

    def add(self, data: Any) -> int:
        """Adds a buffer (anything with the buffer protocol); returns its index."""
        view = memoryview(data)
        if not view.c_contiguous:
            view = memoryview(np.ascontiguousarray(data))
        view = view.cast("B") if view.ndim != 1 or view.format != "B" else view
        offset = -(-self.size // ALIGN) * ALIGN
        self.parts.append((offset, view))
        self.size = offset + view.nbytes
        return len(self.parts) - 1

    def layout(self) -> list[list[int]]:
        return [[offset, view.nbytes] for offset, view in self.parts]

    def finish(self, header: dict, directory: str | None) -> tuple[dict, list[bytes]]:
        """The header and the frames that carry the blob: one frame, or none when
        the blob went to a file in ``directory``."""
        header = {"exchange": VERSION, **header, "buffers": self.layout(), "size": self.size}
        if directory and self.size >= FILE_THRESHOLD:
            # Arenas are reused, so their pages stay allocated and writing one is a
            # copy. R maps what it reads and locks the file while it does.
            fd, path = _claim_arena(directory, "py-arena")
            try:
                mapping = _arena_mapping(fd, path, self.size)
            finally:
                os.close(fd)
            if mapping is not None:
                blob = np.frombuffer(mapping, dtype=np.uint8)
                for offset, view in self.parts:
                    blob[offset : offset + view.nbytes] = view
                del blob  # the mapping can be resized later only once nothing views it
                header["file"] = path
                header["arena"] = True
                return header, []
            # Shared memory is full or too small (Docker's default is 64 MB): the
            # value travels in the message instead.
        blob = bytearray(self.size)
        for offset, view in self.parts:
            blob[offset : offset + view.nbytes] = view
        return header, [bytes(blob)] if self.parts else []


def _claim_arena(directory: str, prefix: str) -> tuple[int, str]:
    """An open descriptor and the path of the first arena ``prefix``-0, -1, ... that
    no reader maps (a reader holds a shared flock on a file while it maps it), or
    of the next new one. Free arenas after the first two are emptied, so that idle
    ones hold no more than two messages' pages."""
    chosen: tuple[int, str] | None = None
    free = 0
    number = 0
    while True:
        path = os.path.join(directory, f"{prefix}-{number}")
        number += 1
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            if chosen is None:
                chosen = (os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600), path)
            return chosen
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        free += 1
        fcntl.flock(fd, fcntl.LOCK_UN)
        if free == 1:
            chosen = (fd, path)
            continue
        if free > 2:
            _forget_mapping(path)
            os.ftruncate(fd, 0)
        os.close(fd)


# The writer's mappings of its arenas, kept between messages: mapping 100 MB
# again costs as much as half a copy of it.
_arena_maps: dict[str, mmap.mmap] = {}


def _arena_mapping(fd: int, path: str, size: int) -> mmap.mmap | None:
    """A shared, writable mapping of arena ``path`` cut to ``size`` bytes (no more
    than this message needs), its pages mapped in one go; None when the file
    system cannot hold that many bytes.

    The space is reserved before anything is mapped: writing a mapped page that a
    full ``/dev/shm`` cannot back would kill the process with SIGBUS."""
    mapping = _arena_maps.get(path)
    file_size = os.fstat(fd).st_size
    if mapping is not None and len(mapping) == size and file_size == size:
        return mapping
    _forget_mapping(path)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError:
        os.ftruncate(fd, 0)  # what it held, and what was just reserved, go back
        return None
    if file_size > size:
        os.ftruncate(fd, size)
    mapping = mmap.mmap(fd, size, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
    _arena_maps[path] = mapping
    return mapping


def _forget_mapping(path: str) -> None:
    """Unmaps an arena before it shrinks (touching pages past its end would crash)."""
    mapping = _arena_maps.pop(path, None)
    if mapping is not None:
        mapping.close()


def _map_file(path: str, size: int) -> np.ndarray:
    """The first ``size`` bytes of a file, mapped copy-on-write: arrays decoded from
    it are views, writable, and what this process writes stays its own.

    A shared lock on the file lasts as long as the mapping (which holds a duplicate
    of the descriptor): the writer does not reuse an arena while it is locked.
    """
    if size == 0:
        return np.empty(0, dtype=np.uint8)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if os.fstat(fd).st_size < size:
            raise ValueError(f"exchange file {path} is shorter than {size} bytes")
        fcntl.flock(fd, fcntl.LOCK_SH)
        mapping = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    try:
        # Map every page now, for reading (MAP_POPULATE would copy each one, as if
        # written); kernels before 5.14 fault them in on first use instead.
        mapping.madvise(_MADV_POPULATE_READ)
    except OSError:
        pass
    return np.frombuffer(mapping, dtype=np.uint8)


class Reader:
    """The buffers of one received message, as numpy views of its blob."""

    def __init__(self, header: dict, frames: list) -> None:
        if header.get("exchange") != VERSION:
            raise ValueError(f"exchange format version {header.get('exchange')!r}, expected {VERSION}")
        self.layout = header.get("buffers", [])
        size = header.get("size", 0)
        path = header.get("file")
        if path:
            try:
                self.blob = _map_file(path, size)
            finally:
                # A one-off file is the reader's to delete; an arena is the writer's.
                if not header.get("arena"):
                    os.unlink(path)
        elif frames:
            self.blob = np.frombuffer(frames[0], dtype=np.uint8)
            if self.blob.nbytes < size:
                raise ValueError("exchange frame is shorter than its header says")
        else:
            self.blob = np.empty(0, dtype=np.uint8)
        self.owned = bool(path)

    def array(self, index: int, dtype: Any, count: int | None = None) -> np.ndarray:
        offset, length = self.layout[index]
        values = self.blob[offset : offset + length].view(dtype)
        if count is not None and values.size != count:
            raise ValueError(f"buffer {index} holds {values.size} values, expected {count}")
        # Frames are immutable bytes: copy so users get ordinary writable arrays.
        return values if self.owned else values.copy()

    def bytes(self, index: int) -> bytes:
        offset, length = self.layout[index]
        return self.blob[offset : offset + length].tobytes()

    def raw(self, index: int) -> np.ndarray:
        """A buffer's bytes as a uint8 array, not copied."""
        offset, length = self.layout[index]
        return self.blob[offset : offset + length]


def release(header: dict) -> None:
    """Removes the file of a message that will not be read."""
    path = header.get("file")
    if path and not header.get("arena"):
        try:
            os.unlink(path)
        except OSError:
            pass


# --- what Python's objects cannot say of R's types ---------------------------------

#: Objects that came from R with something their Python type does not say, held
#: weakly with what it was: ``integer64`` (an array or Series that was R's
#: integer64), ``integer64_columns`` (a frame's names of such columns) and
#: ``rownames`` (a frame whose index of "1", "2", ... was R's automatic row
#: names). They go back to R as they came, as R's origins do for Python's dtypes.
_r_marks: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def _mark(value: Any, **marks: Any) -> None:
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


def _marks(value: Any) -> dict[str, Any]:
    entry = _r_marks.get(id(value))
    return entry[1] if entry is not None and entry[0]() is value else {}


def _is_integer64(value: Any) -> bool:
    """Whether ``value`` (an array or Series) arrived from R as integer64."""
    return _marks(value).get("integer64", False)


def _from_r_integer64(node: dict) -> bool:
    """Whether a node holds R's integer64: an ``int64`` vector that is not a
    Python dtype R kept (those carry their Python dtype instead)."""
    return node.get("type") == "int64" and node.get("dtype", "integer64") == "integer64"


# --- encoding -------------------------------------------------------------------


def encode(value: Any, writer: Writer) -> dict:
    """The type tree of ``value``, its buffers added to ``writer``.

    Raises :class:`NoMapping` for a value with no R counterpart.
    """
    if value is None:
        return {"kind": "null"}
    if value is pd.NA:
        return _vector(writer, "logical", np.zeros(1, np.uint8), np.ones(1, bool))
    if isinstance(value, (bool, np.bool_)):
        return _vector(writer, "logical", np.array([value], np.uint8))
    if isinstance(value, np.integer):
        return _encode_integers(np.array([value]), writer, None)
    if isinstance(value, int):
        if not _INT64_MIN < value < 2**63:
            raise NoMapping(f"the int {value} does not fit in 64 bits; R's integer64 cannot hold it")
        node = _encode_integers(np.array([value], np.int64), writer, None)
        node["dtype"] = "int"
        return node
    if isinstance(value, (float, np.floating)):
        return _vector(writer, "double", np.array([value], np.float64))
    if isinstance(value, (complex, np.complexfloating)):
        return _vector(writer, "complex", np.array([value], np.complex128))
    if isinstance(value, str):
        return encode_array(np.array([value], dtype=object), writer)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = memoryview(value).cast("B")
        return {"kind": "vector", "type": "raw", "length": raw.nbytes, "data": writer.add(raw)}
    if isinstance(value, (dt.datetime, np.datetime64, dt.date, dt.timedelta, np.timedelta64)):
        return _encode_scalar_time(value, writer)
    if isinstance(value, pd.DataFrame):
        return _encode_frame(value, writer)
    if isinstance(value, pd.Series):
        node = encode_array(value.array, writer, int64=_is_integer64(value))
        if not _is_default_index(value.index):
            node["names"] = encode_array(value.index.astype(str).to_numpy(dtype=object), writer)
        return node
    if isinstance(value, (pd.Index, pd.api.extensions.ExtensionArray)):
        return encode_array(value, writer, int64=_is_integer64(value))
    if isinstance(value, np.ndarray) and value.dtype.names is not None:
        return _encode_structured(value, writer)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return encode(value[()], writer)
        if isinstance(value, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(value)
            values = value.filled(value.fill_value if value.dtype.kind != "O" else None)
        else:
            mask, values = None, value
        node = encode_array(
            np.ravel(values, order="F"),
            writer,
            mask=None if mask is None else np.ravel(mask, "F"),
            int64=_is_integer64(value),
        )
        if value.ndim > 1 or (mask is not None and value.shape[0] == 1):
            node["dim"] = list(value.shape)
        elif value.shape[0] == 1:
            # A plain R vector, as R code expects; the mark brings it back to
            # Python as an array, not a scalar.
            node["array"] = True
        return node
    if isinstance(value, dict):
        keys = list(value)
        bad = [k for k in keys if not isinstance(k, str)]
        if bad:
            raise NoMapping(f"a dict with the key {bad[0]!r} of type {type(bad[0]).__name__}: R names are strings")
        return {"kind": "list", "items": [_item(value[k], k, writer) for k in keys], "names": keys}
    if isinstance(value, (list, tuple)):
        return {"kind": "list", "items": [_item(v, f"[{i}]", writer) for i, v in enumerate(value)]}
    raise NoMapping(f"{type_name(value)} has no R counterpart")


def _item(value: Any, where: str, writer: Writer) -> dict:
    try:
        return encode(value, writer)
    except NoMapping as error:
        raise NoMapping(f"element {where}: {error}") from None


def type_name(value: Any) -> str:
    """The name of a value's type as users know it (``int``, ``pandas.DataFrame``)."""
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _vector(writer: Writer, kind: str, data: np.ndarray, mask: np.ndarray | None = None) -> dict:
    node = {"kind": "vector", "type": kind, "length": int(data.shape[0]), "data": writer.add(data)}
    if mask is not None and mask.any():
        node["na"] = writer.add(mask.astype(np.uint8, copy=False))
    return node


def _is_default_index(index: Any) -> bool:
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


def encode_array(values: Any, writer: Writer, mask: np.ndarray | None = None, *, int64: bool = False) -> dict:
    """One column: a 1-d numpy array, pandas extension array or Index. ``int64``
    sends integers as ``int64`` whatever their values (they were R's integer64)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categorical = pd.Categorical(values)
        codes = categorical.codes.astype(np.int32) + 1  # R's codes: 1-based, 0 for NA
        levels = np.asarray(categorical.categories.astype(str), dtype=object)
        return {
            "kind": "factor",
            "length": len(codes),
            "data": writer.add(codes),
            "levels": encode_array(levels, writer),
            "ordered": bool(categorical.ordered),
        }
    if isinstance(dtype, pd.DatetimeTZDtype):
        index = pd.DatetimeIndex(values)
        return _encode_datetime(index.tz_convert("UTC").tz_localize(None).to_numpy(), writer, str(dtype.tz))
    if isinstance(dtype, pd.StringDtype):
        # The strings as they are (NA as NaN or pd.NA), without an NA scan first.
        return _encode_strings(np.asarray(values, dtype=object), writer)
    if isinstance(values, (pd.Index, pd.Series)):
        values = values.array
    if isinstance(values, pd.api.extensions.ExtensionArray) and not isinstance(values, pd.arrays.NumpyExtensionArray):
        return _encode_extension(values, writer, int64)
    values = np.asarray(values)
    kind = values.dtype.kind
    if kind == "b":
        return _vector(writer, "logical", values.view(np.uint8), mask)
    if kind in "iu":
        return _encode_integers(values, writer, mask, int64)
    if kind == "f":
        return _vector(writer, "double", values.astype(np.float64, copy=False), mask)
    if kind == "c":
        return _vector(writer, "complex", values.astype(np.complex128, copy=False), mask)
    if kind == "M":
        if np.datetime_data(values.dtype)[0] in ("D", "W", "M", "Y"):
            days = values.astype("datetime64[D]")
            na = np.isnat(days)
            data = _nat_to_zero(days.view(np.int64), na).astype(np.float64)
            return {**_vector(writer, "double", data, na), "kind": "date"}
        return _encode_datetime(values, writer, "")
    if kind == "m":
        return _encode_timedelta(values, writer)
    if kind == "U":
        return _encode_strings(values.astype(object), writer, mask)
    if kind == "O":
        return _encode_objects(values, writer)
    raise NoMapping(f"numpy dtype {values.dtype} has no R counterpart")


def _encode_integers(values: np.ndarray, writer: Writer, mask: np.ndarray | None, int64: bool = False) -> dict:
    """Integers as the R type that computes with them correctly: ``integer`` when
    every value fits (R reads -2^31 as NA), else ``double`` when every value is
    exact in a double (|v| <= 2^53), else ``bit64::integer64``, which base R reads
    wrongly and which only then is used (or when ``int64``: values that were R's
    integer64 go back as such). A node of another dtype than int32 says which
    (``dtype``), so that the value can come back as it left."""
    # Values under the NA mask are placeholders, whatever they hold.
    present = values if mask is None or not mask.any() else values[~mask]
    low, high = (int(present.min()), int(present.max())) if present.size else (0, 0)
    if int64 and values.dtype == np.int64 and low != _INT64_MIN:
        return {**_vector(writer, "int64", values, mask), "dtype": "integer64"}
    if low > _INT32_MIN and high < 2**31:
        node = _vector(writer, "integer", values.astype(np.int32, copy=False), mask)
    elif low >= -(2**53) and high <= 2**53:
        node = _vector(writer, "double", values.astype(np.float64), mask)
    else:
        if high >= 2**63:
            raise NoMapping("uint64 values beyond 2^63 - 1 do not fit R's integer64")
        if low == _INT64_MIN:
            raise NoMapping("the int64 value -2^63 is R's integer64 NA and cannot cross as a number")
        node = _vector(writer, "int64", values.astype(np.int64, copy=False), mask)
    if values.dtype != np.int32:
        node["dtype"] = values.dtype.name
    return node


def _encode_extension(values: Any, writer: Writer, int64: bool = False) -> dict:
    dtype = values.dtype
    if hasattr(values, "_mask") and hasattr(values, "_data"):  # pandas' nullable arrays
        node = encode_array(values._data, writer, mask=values._mask, int64=int64)
        if node.get("dtype") != "integer64":
            node["dtype"] = dtype.name  # "Int64", "boolean": comes back nullable
        return node
    if isinstance(dtype, pd.IntervalDtype | pd.PeriodDtype | pd.SparseDtype):
        raise NoMapping(f"pandas dtype {dtype} has no R counterpart; convert it first (e.g. .astype(str))")
    return encode_array(values.to_numpy(), writer)


def _encode_strings(values: np.ndarray, writer: Writer, mask: np.ndarray | None = None) -> dict:
    na = mask if mask is not None and mask.any() else None
    source = values if na is None else np.where(na, "", values)
    try:
        data = _pack_strings(source)
    except TypeError:
        missing = np.asarray(pd.isna(values), dtype=bool)
        if na is None and missing.any():
            return _encode_strings(values, writer, missing)
        kinds = {type(v).__name__ for v in source.tolist() if not isinstance(v, str)}
        raise NoMapping(f"strings mixed with {', '.join(sorted(kinds))}") from None
    except UnicodeEncodeError as error:
        raise NoMapping(f"a string is not valid Unicode ({error.reason})") from None
    except ValueError:
        raise NoMapping("a string holds a NUL character, which R strings cannot") from None
    node = {"kind": "vector", "type": "string", "length": len(source), "data": writer.add(data)}
    if na is not None:
        node["na"] = writer.add(np.asarray(na, dtype=np.uint8))
    return node


def _pack_strings(values: np.ndarray) -> bytearray:
    """Every item (a str, else TypeError) in UTF-8, each ended by NUL; ValueError
    when a string holds NUL itself."""
    column = np.ascontiguousarray(values, dtype=object)
    return _strings.pack(_address(column), len(column))


def _address(values: np.ndarray) -> int:
    """Where a contiguous array's data starts, for ``_strings`` (the caller keeps
    the array alive for the call)."""
    return values.__array_interface__["data"][0]


def _encode_objects(values: np.ndarray, writer: Writer) -> dict:
    if values.size and isinstance(values[0], str):
        # Most object columns are strings: packing them checks that as it goes,
        # faster than inferring the type first.
        try:
            return _encode_strings(values, writer)
        except NoMapping:
            pass  # not all strings: inference below says what they are
    na = pd.isna(values)
    # Without the NA: pandas before 3 infers "mixed" for complex numbers with None.
    inferred = pd.api.types.infer_dtype(values[~na] if na.any() else values, skipna=True)
    if inferred in ("string", "empty") and not (inferred == "empty" and not na.all()):
        if inferred == "empty" and values.size:
            return _vector(writer, "logical", np.zeros(len(values), np.uint8), na)
        return _encode_strings(values, writer, na)
    if inferred == "boolean":
        return _vector(writer, "logical", np.where(na, False, values).astype(np.uint8), na)
    if inferred == "integer":
        try:
            ints = np.where(na, 0, values).astype(np.int64)
        except OverflowError:
            raise NoMapping(
                "an int in the array does not fit in 64 bits; R's integer64 cannot hold it"
                " (convert the array to float or str)"
            ) from None
        return _encode_integers(ints, writer, na)
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return _vector(writer, "double", np.where(na, 0.0, values).astype(np.float64), na)
    if inferred == "complex":
        return _vector(writer, "complex", np.where(na, 0j, values).astype(np.complex128), na)
    if inferred == "date":
        days = np.where(na, np.datetime64("NaT"), values).astype("datetime64[D]")
        return encode_array(days, writer)
    if inferred == "datetime":
        return encode_array(pd.array(pd.to_datetime(values)), writer)
    if inferred in ("timedelta",):
        return _encode_timedelta(pd.to_timedelta(values).to_numpy(), writer)
    kinds = sorted({type(v).__name__ for v in values[~na]})
    raise NoMapping(f"an object array of {', '.join(kinds[:4])} values has no R vector type")


def _nat_to_zero(ints: np.ndarray, na: np.ndarray) -> np.ndarray:
    return np.where(na, 0, ints) if na.any() else ints


def _encode_datetime(values: np.ndarray, writer: Writer, tz: str) -> dict:
    micros = values.astype("datetime64[us]")
    na = np.isnat(micros)
    seconds = _nat_to_zero(micros.view(np.int64), na) / 1e6
    return {**_vector(writer, "double", seconds, na), "kind": "datetime", "tz": tz}


def _encode_timedelta(values: np.ndarray, writer: Writer) -> dict:
    micros = values.astype("timedelta64[us]")
    na = np.isnat(micros)
    seconds = _nat_to_zero(micros.view(np.int64), na) / 1e6
    return {**_vector(writer, "double", seconds, na), "kind": "timedelta"}


def _encode_scalar_time(value: Any, writer: Writer) -> dict:
    if isinstance(value, (dt.timedelta, np.timedelta64)):
        return _encode_timedelta(np.array([pd.Timedelta(value).to_timedelta64()]), writer)
    if isinstance(value, np.datetime64):
        return encode_array(np.array([value]), writer)
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is None:
            return _encode_datetime(np.array([stamp.to_datetime64()]), writer, "")
        tz = str(stamp.tz)
        return _encode_datetime(np.array([stamp.tz_convert("UTC").tz_localize(None).to_datetime64()]), writer, tz)
    return encode_array(np.array([value], dtype="datetime64[D]"), writer)


def _encode_structured(value: np.ndarray, writer: Writer) -> dict:
    """A numpy structured (or record) array is a data.frame, a column a field, as
    rpy2 makes it; bytes fields become character. Its dtype goes with it, so that
    R can give it back as it came."""
    if value.ndim != 1:
        raise NoMapping(f"a {value.ndim}-d structured array has no R counterpart; use a 1-d one")
    columns = {}
    for name in value.dtype.names:
        field = value[name]
        if field.ndim != 1 or field.dtype.names is not None:
            raise NoMapping(f"field {name!r} holds sub-arrays or records, which a data.frame column cannot")
        if field.dtype.kind == "S":
            try:
                field = np.char.decode(field, "utf-8").astype(object)
            except UnicodeDecodeError as error:
                raise NoMapping(f"field {name!r} holds bytes that are not UTF-8 ({error.reason})") from None
        columns[name] = field
    node = _encode_frame(pd.DataFrame(columns), writer)
    node["dtype"] = {
        "descr": [list(field) for field in value.dtype.descr],
        "record": isinstance(value, np.recarray),
    }
    return node


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


def _is_automatic_rownames(frame: Any) -> bool:
    """Whether a frame's index is the "1", "2", ... that R's automatic row names
    became in rpy2's shapes, unchanged."""
    if not _marks(frame).get("rownames"):
        return False
    n = len(frame.index)
    return frame.index.name is None and list(frame.index) == [str(i) for i in range(1, n + 1)]


def _encode_frame(frame: Any, writer: Writer) -> dict:
    if isinstance(frame.columns, pd.MultiIndex):
        raise NoMapping("a DataFrame with MultiIndex columns has no R counterpart; flatten the columns first")
    if isinstance(frame.index, pd.MultiIndex):
        raise NoMapping("a DataFrame with a MultiIndex has no R counterpart; call .reset_index() first")
    columns = []
    int64_columns = _marks(frame).get("integer64_columns", frozenset())
    for position in range(frame.shape[1]):
        name = frame.columns[position]
        try:
            columns.append(encode_array(frame.iloc[:, position].array, writer, int64=name in int64_columns))
        except NoMapping as error:
            raise NoMapping(f"column {name!r}: {error}") from None
    node = {
        "kind": "dataframe",
        "length": int(frame.shape[0]),
        "columns": columns,
        "names": [str(c) for c in frame.columns],
    }
    index = frame.index
    if not (_is_default_index(index) or _is_automatic_rownames(frame)):
        if index.dtype.kind in "iu" and index.size and index.min() > _INT32_MIN and index.max() < 2**31:
            node["rownames"] = _vector(writer, "integer", index.to_numpy().astype(np.int32))
        else:
            node["rownames"] = _encode_strings(index.astype(str).to_numpy(dtype=object), writer)
        if index.name is not None:
            node["index_name"] = str(index.name)
    return node


# --- decoding -------------------------------------------------------------------


def decode(node: dict, reader: Reader, *, column: bool = False, rpy2: bool = False) -> Any:
    """The Python value of one type tree. ``column`` keeps length-1 vectors as
    arrays. ``rpy2`` gives the shapes rpy2's numpy/pandas conversion gives, which
    code written for rpy2 expects: every vector an array in its R type's dtype
    (also of length one, names dropped), a data.frame's automatic row names as
    the strings "1", "2", ..., a structured array back as the data.frame it became."""
    if "origin" in node:
        _apply_origin(node, node.pop("origin"))
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
            _mark(frame, rownames=True)
        elif isinstance(node.get("dtype"), dict):
            return _structured(frame, node["dtype"])
        integer64 = frozenset(name for name, column in zip(node["names"], node["columns"]) if _from_r_integer64(column))
        if integer64:
            _mark(frame, integer64_columns=integer64)
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
    if _from_r_integer64(node):
        _mark(values, integer64=True)
    return values


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
    _strings.fill(_address(source), source.nbytes, _address(values), n)
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
