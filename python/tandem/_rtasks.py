"""The frames of an R task (R code and its inputs in the exchange format) and of
its outcome, for the kernel's R workers and those beside Dask workers alike."""

from __future__ import annotations

from typing import Any

from . import _taskcodec
from ._errors import ConversionError, RError


def r_task(code: str, inputs: dict[str, Any]) -> list[bytes]:
    """The frames of an R task (R code with its inputs in the exchange format),
    for the kernel's R workers and those beside Dask workers alike."""
    from ._bridge import pack

    header, frames, errors = pack(inputs, to="R", inline=True)
    if errors:
        raise ConversionError("; ".join(errors))
    return [_taskcodec.dumps_json({"code": code, "values": header}), *frames]


def decode_r_value(frames: list) -> Any:
    """The Python value of an R task's result frames (after the status)."""
    from ._bridge import unpack

    header = _taskcodec.loads_json(frames[0])
    values, errors = unpack(header, frames[1:], source="R")
    if errors:
        raise ConversionError("the value of the R code " + errors[0].split(" ", 1)[1])
    return values["value"]


def r_error(frames: list) -> BaseException:
    """The ``RError`` of a failed R task's frames (after the status)."""
    message = bytes(frames[3]).decode("utf-8", "replace")
    trace = bytes(frames[2]).decode("utf-8", "replace").splitlines()
    return RError(message, trace or None)
