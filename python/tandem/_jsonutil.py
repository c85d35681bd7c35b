"""JSON encoding of message content, tolerant of the types user code produces."""

from __future__ import annotations

import base64
import datetime
import json
import math
from typing import Any


def _default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        return item()
    tolist = getattr(obj, "tolist", None)  # numpy arrays
    if callable(tolist):
        return tolist()
    return repr(obj)


def _clean(obj: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) with None, recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def dumps(obj: Any) -> bytes:
    """Serialise message content to UTF-8 JSON bytes."""
    try:
        text = json.dumps(obj, default=_default, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_clean(obj), default=_default, ensure_ascii=False)
    return text.encode("utf-8", "surrogateescape")
