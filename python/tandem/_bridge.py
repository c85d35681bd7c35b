"""Python's side of the bridge to R: the ``r`` object and the calls R makes.

Every crossing value goes through the exchange format (:mod:`tandem._exchange`).
Python asks R with the kernel's ``r_call`` (a request and its frames in, R's reply
and its frames out); while R runs, R's calls into Python (``py$x``) arrive at
:func:`Bridge.serve`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Callable

from . import _natives
from ._errors import ConversionError, NoMapping, check_reply
from ._interrupts import import_whole
from ._parents import serves_own_requests

# The codec needs numpy (and pandas for frames): imported at the first transfer,
# not at kernel start.

RCall = Callable[[bytes, list], list]


def pack(
    values: dict[str, Any], *, to: str = "R", inline: bool = False
) -> tuple[dict, list[bytes], list[str]]:
    """Encodes named values into one message: header, frames, and an error line
    for each value that cannot cross (the others still do). Large values go
    through the exchange area unless ``inline`` (messages that may wait in a
    queue, as futures' tasks do, must carry their values)."""
    _exchange = import_whole("tandem._exchange")

    start = time.perf_counter()
    writer = _exchange.Writer()
    nodes = {}
    errors = []
    for name, value in values.items():
        try:
            nodes[name] = _exchange.encode(value, writer)
        except (NoMapping, ValueError, TypeError, OverflowError, RecursionError) as error:
            # Whatever stops a value from encoding, it is that value's error alone.
            errors.append(
                f"{name} ({_exchange.type_name(value)}) cannot cross to {to}: {error}. "
                "Convert it to a type in Tandem's conversion table first."
            )
    if to == "R":
        _say_where_integer64(nodes)
    header, frames = writer.finish({"values": nodes}, [] if inline else exchange_directories())
    _count_exchange("python_to_r", header, start)
    return header, frames, errors


def exchange_directories() -> list[str]:
    """Where large values cross, in order: the kernel's folder in shared memory,
    then its scratch folder on disk, for values that shared memory cannot hold
    (their pages are then the file's, which the system can write out, rather
    than the several copies a message takes)."""
    return [d for d in (os.environ.get("TANDEM_EXCHANGE_DIR"), os.environ.get("TANDEM_SCRATCH_DIR")) if d]


def _count_exchange(direction: str, header: dict, start: float) -> None:
    """Counts a crossing in the kernel's metrics (worker processes have none)."""
    if _natives.provided("metrics_exchange"):
        _natives.metrics_exchange(direction, header.get("size", 0), time.perf_counter() - start)


def _say_where_integer64(nodes: dict[str, dict]) -> None:
    """Tells the cell (once per value) which integers arrive in R as
    ``bit64::integer64``: base R functions read those wrongly."""
    found: list[str] = []

    def walk(node: dict, label: str) -> None:
        if node.get("type") == "int64" and node.get("dtype") != "integer64":  # not R's own integer64
            found.append(label)
        for name, column in zip(node.get("names") or [], node.get("columns", [])):
            walk(column, f"{label}${name}")
        for position, item in enumerate(node.get("items", []), 1):
            walk(item, f"{label}[[{position}]]")

    for name, node in nodes.items():
        walk(node, name)
    if found:
        print(
            f"tandem: {', '.join(found)} {'holds' if len(found) == 1 else 'hold'} integers beyond 2^53, "
            "which neither R's integer nor its "
            "double can hold exactly: they arrive in R as bit64::integer64. Base R functions (mean, lm, "
            "ggplot2 scales) read integer64 wrongly: use bit64's functions on them, or convert them first.",
            file=sys.stderr,
        )


def unpack(
    header: dict, frames: list, *, source: str = "R", rpy2: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """The named values of one message, and an error line for each that has no
    Python counterpart; with ``rpy2``, in the shapes rpy2's conversion gives."""
    _exchange = import_whole("tandem._exchange")

    start = time.perf_counter()
    reader = _exchange.Reader(header, frames)
    values = {}
    errors = []
    for name, node in header.get("values", {}).items():
        try:
            values[name] = _exchange.decode(node, reader, rpy2=rpy2)
        except (NoMapping, ValueError, TypeError, KeyError) as error:
            errors.append(f"{name} cannot cross from {source}: {error}")
    _count_exchange("r_to_python", header, start)
    return values, errors


class Bridge:
    """Requests to R and R's requests to Python, for one kernel."""

    def __init__(self, r_call: RCall, namespace: dict) -> None:
        self._r_call = r_call
        self.namespace = namespace
        #: Further ops R may call, by name: each takes the request and its decoded
        #: values and returns the reply's fields and the values it carries (or
        #: None). The kernel adds ``dask`` (R's futures on a Dask cluster).
        self.handlers: dict[str, Callable[[dict, dict], tuple[dict, dict | None]]] = {}

    def call(self, request: dict, frames: list | None = None) -> tuple[dict, list]:
        """Sends one request to R; returns its reply and the reply's frames."""
        if threading.current_thread() is not threading.main_thread() and not serves_own_requests():
            # Only the threads that run cells talk to R (the kernel takes turns
            # between the main shell's and the subshells'): R's socket is not shared.
            raise RuntimeError(
                "R can be reached only from the threads that run cells (the main shell's "
                "and subshells'), not from other threads"
            )
        reply, reply_frames = self._r_call(json.dumps(request).encode(), frames or [])
        return json.loads(reply), reply_frames

    def request_values(self, request: dict, *, rpy2: bool = False) -> dict[str, Any]:
        """Sends a request whose reply carries values (in rpy2's shapes with
        ``rpy2``); raises R's error or a :class:`ConversionError`."""
        reply, frames = self.call(request)
        check_reply(reply, missing_names=True)
        values, errors = self.decode_reply(reply, frames, rpy2=rpy2)
        if errors:
            raise ConversionError("; ".join(errors))
        return values

    def decode_reply(self, reply: dict, frames: list, *, rpy2: bool = False) -> tuple[dict[str, Any], list[str]]:
        """The values a reply carries, and an error line for each that could not cross."""
        errors = list(reply.get("errors", {}).values())
        values: dict[str, Any] = {}
        if "values" in reply:
            values, decode_errors = unpack(reply["values"], frames, rpy2=rpy2)
            errors += decode_errors
        return values, errors

    def assign(self, values: dict[str, Any]) -> None:
        """Assigns values to R variables of these names; a value that cannot cross
        raises :class:`ConversionError` after the others were assigned."""
        self.assign_packed(*pack(values))

    def assign_packed(self, header: dict, frames: list, errors: list[str]) -> None:
        """:meth:`assign` of values :func:`pack` already encoded."""
        if header["values"]:
            reply, _ = self.call({"type": "assign", "values": header}, frames)
            check_reply(reply)
        else:
            _release(header)
        if errors:
            raise ConversionError("; ".join(errors))

    def serve(self, request_json: bytes, frames: list) -> list:
        """Serves a call from R: ``get``/``eval``/``exec``/``set``/``names``, and
        the ops of :attr:`handlers`.
        Returns ``[reply_json, frames]``."""
        request = json.loads(request_json)
        try:
            reply, reply_frames = self._serve(request, frames)
        except BaseException as error:  # noqa: BLE001 - every failure goes back to R
            if "values" in request:
                _release(request["values"])
            reply, reply_frames = failure_reply(error), []
        return [json.dumps(reply).encode(), reply_frames]

    def _serve(self, request: dict, frames: list) -> tuple[dict, list]:
        op = request.get("op")
        if op == "get":
            name = request["name"]
            if name not in self.namespace:
                raise NameError(f"Python has no variable named {name}")
            return self._reply_values({name: self.namespace[name]})
        if op == "eval":
            value = eval(compile(request["code"], "<py_eval>", "eval"), self.namespace)  # noqa: S307
            return self._reply_values({"value": value})
        if op == "exec":
            exec(compile(request["code"], "<py_run>", "exec"), self.namespace)  # noqa: S102
            return {"status": "ok"}, []
        if op == "set":
            values, errors = unpack(request["values"], frames)
            self.namespace.update(values)
            if errors:
                return failure_reply("; ".join(errors)), []
            return {"status": "ok"}, []
        if op == "names":
            return {"status": "ok", "names": [n for n in self.namespace if not n.startswith("_")]}, []
        if op in self.handlers:
            values, errors = unpack(request["values"], frames) if "values" in request else ({}, [])
            if errors:
                return failure_reply("; ".join(errors)), []
            fields, carried = self.handlers[op](request, values)
            reply, reply_frames = self._reply_values(carried) if carried is not None else ({"status": "ok"}, [])
            return {**reply, **fields}, reply_frames
        raise ValueError(f"unknown request {op!r} from R")

    def _reply_values(self, values: dict[str, Any]) -> tuple[dict, list]:
        header, frames, errors = pack(values)
        if errors:
            _release(header)
            return failure_reply("; ".join(errors)), []
        return {"status": "ok", "values": header}, frames


_installed: Bridge | None = None


def install(bridge: Bridge) -> None:
    """Makes ``bridge`` the one ``tandem.r`` uses."""
    global _installed
    _installed = bridge


def installed() -> Bridge:
    """The kernel's bridge to R; outside the kernel, a RuntimeError saying so."""
    if _installed is None:
        raise RuntimeError("R is reached only inside the Tandem kernel, which runs it")
    return _installed


def release_packed(header: dict) -> None:
    """Frees what :func:`pack` wrote for values that are not sent after all."""
    _release(header)


def session() -> R:
    """The kernel's R session (``tandem.r``)."""
    if _installed is None:
        raise RuntimeError("tandem.r works inside the Tandem kernel, which runs R")
    return R(_installed)


def failure_reply(error: BaseException | str) -> dict:
    """What R is told when a call into Python failed: the one mapping of failures to
    replies. R signals an interrupt for "interrupted" and raises the text of
    "error": an exception's type and message, or a text as it is (the values that
    could not cross)."""
    if isinstance(error, KeyboardInterrupt):
        return {"status": "interrupted", "evalue": "interrupted"}
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return {"status": "error", "evalue": text}


class R:
    """The kernel's R session, as seen from Python.

    ``r.x`` reads the R variable ``x``, ``r.x = value`` assigns it, and
    ``r("expr")`` or ``r["expr"]`` evaluates R code and returns its value.
    """

    def __init__(self, bridge: Bridge) -> None:
        object.__setattr__(self, "_bridge", bridge)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._bridge.request_values({"type": "get", "name": name})[name]
        except NameError as error:
            raise AttributeError(str(error)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._bridge.assign({name: value})

    def __setitem__(self, name: str, value: Any) -> None:
        self._bridge.assign({name: value})

    def __getitem__(self, code: str) -> Any:
        return self(code)

    def __call__(self, code: str) -> Any:
        return self._bridge.request_values({"type": "eval", "code": code})["value"]

    def __dir__(self) -> list[str]:
        reply, _ = self._bridge.call({"type": "names"})
        return list(reply.get("names", []))

    def __repr__(self) -> str:
        return "<R session: r.x reads, r.x = value assigns, r('code') evaluates>"


def _release(header: dict) -> None:
    _exchange = import_whole("tandem._exchange")

    _exchange.release(header)

