"""The kernel's R session as Tandem's rpy2 API reaches it.

Each proxy stands for an R object kept in R under a number (`r/tandem/R/rpy2.R`);
when Python lets go of a proxy, its number is released with the next request.
Values cross through Tandem's exchange, in the shapes rpy2's converters give.
"""

from __future__ import annotations

from typing import Any

from .. import _bridge
from .._errors import RRuntimeError

_released: list[int] = []


def release(ref: int) -> None:
    """Lets R drop object ``ref`` (called when its proxy is collected; sent with
    the next request, from the thread that runs cells)."""
    _released.append(ref)


def request(op: str, *, values: dict[str, Any] | None = None, **fields: Any) -> tuple[dict, list]:
    """Sends one rpy2 request to R: its reply and the reply's frames. An R error
    raises :class:`RRuntimeError`; a value that cannot cross, ``NotImplementedError``
    as rpy2's converters raise it."""
    bridge = _bridge.installed()
    message: dict[str, Any] = {"type": "rpy2", "op": op, **fields}
    frames: list = []
    if values:
        header, frames, errors = _bridge.pack(values)
        if errors:
            _bridge.release_packed(header)
            raise NotImplementedError("; ".join(errors))
        message["values"] = header
    # What Python let go of since the last request, dropped by R before this one.
    if _released:
        message["release"] = _released[:]
        del _released[: len(message["release"])]
    reply, reply_frames = bridge.call(message, frames)
    status = reply.get("status")
    if status == "interrupted":
        raise KeyboardInterrupt
    if status != "ok":
        traceback = reply.get("traceback") or [reply.get("evalue", "")]
        raise RRuntimeError(traceback[0], traceback)
    return reply, reply_frames


def decode(reply: dict, frames: list) -> Any:
    """The value a reply carries, in rpy2's numpy/pandas shapes."""
    values, errors = _bridge.installed().decode_reply(reply, frames, rpy2=True)
    if errors:
        raise NotImplementedError("; ".join(errors))
    return values["value"]
