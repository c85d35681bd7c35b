"""The functions the Swift kernel gives the Python half.

Each is a stub here, with the signature and meaning the kernel's implementation
has (``Sources/TandemKernel/Engines/Python/Natives``); the kernel replaces them at
start with :func:`provide`. One the kernel did not provide (outside the kernel,
or a kernel without R or without a futures pool) raises :class:`NativeUnavailable`
naming it. Importing this module costs nothing.
"""

from __future__ import annotations

from typing import Callable

from ._errors import NativeUnavailable

_stubs: set[str] = set()
_provided: set[str] = set()


def _stub(name: str, where: str) -> Callable:
    def unavailable(*args, **kwargs):
        raise NativeUnavailable(f"{name} is provided by the Tandem kernel{where}; it is not available here")

    unavailable.__name__ = name
    _stubs.add(name)
    return unavailable


# -- output and input (OutputNatives.swift, InputNatives.swift) ---------------

#: ``publish(msg_type, content_json, metadata_json, buffers)``: an IOPub message
#: whose parent is the running request.
publish: Callable[[str, bytes, bytes, list], None] = _stub("publish", "")

#: ``parent() -> bytes | None``: the running request's header (JSON).
parent: Callable[[], bytes | None] = _stub("parent", "")

#: ``publish_to(parent, msg_type, content_json, metadata_json, buffers)``: an IOPub
#: message whose parent is the header given (output of another request: a
#: future's cell, a thread that set its parent).
publish_to: Callable[[bytes, str, bytes, bytes, list], None] = _stub("publish_to", "")

#: ``request_input(prompt, password) -> str``: asks the frontend (input_request)
#: and waits, the GIL released; an interrupt raises KeyboardInterrupt.
request_input: Callable[[str, bool], str] = _stub("request_input", "")

#: ``debug_event(event_json)``: a debugger event (DAP), published as debug_event
#: with the last debug request as its parent (DebugNatives.swift).
debug_event: Callable[[bytes], None] = _stub("debug_event", "")

# -- R (RBridgeNatives.swift) --------------------------------------------------

#: ``r_call(request_json, frames) -> [reply_json, frames]``: one request to the R
#: session (docs/r-session-protocol.md).
r_call: Callable[[bytes, list], list] = _stub("r_call", " when it runs R")

# -- futures (FuturesNatives.swift, docs/futures-protocol.md) -----------------

#: ``futures_send(frames)``: one message to the broker.
futures_send: Callable[[list], None] = _stub("futures_send", " with its worker pool")
#: ``futures_receive(timeout) -> [frames, ...]``: the broker's messages, waiting
#: up to ``timeout`` seconds for the first, the GIL released.
futures_receive: Callable[[float], list] = _stub("futures_receive", " with its worker pool")
#: ``futures_interrupt()``: cancels queued tasks and interrupts running ones.
futures_interrupt: Callable[[], None] = _stub("futures_interrupt", " with its worker pool")
#: ``futures_cancel(task_id) -> bool``: takes a task off the queue if not started.
futures_cancel: Callable[[bytes], bool] = _stub("futures_cancel", " with its worker pool")
#: ``futures_queued(task_id) -> bool``: whether a task has not started.
futures_queued: Callable[[bytes], bool] = _stub("futures_queued", " with its worker pool")
#: ``futures_status() -> str``: the pool's state as JSON (workers, queues, totals,
#: recent task durations), for :func:`tandem.status`.
futures_status: Callable[[], str] = _stub("futures_status", " with its worker pool")
#: ``futures_stuck_after(seconds)``: a task running longer counts as stuck.
futures_stuck_after: Callable[[float], None] = _stub("futures_stuck_after", " with its worker pool")

# -- metrics (TelemetryNatives.swift) -------------------------------------------

#: ``metrics_address() -> {"url": str | None, "problem": str | None}``: where the
#: kernel serves Prometheus metrics, or why it does not (both None: metrics off).
metrics_address: Callable[[], dict] = _stub("metrics_address", "")
#: ``metrics_exchange(direction, nbytes, seconds)``: values crossed between Python
#: and R (``python_to_r`` or ``r_to_python``), timed in Python's half.
metrics_exchange: Callable[[str, int, float], None] = _stub("metrics_exchange", "")
#: ``metrics_dask_task(language, state, worker, seconds)``: a task on a Dask cluster
#: ended ("py" or "r"; "finished", "failed", "cancelled" or "lost").
metrics_dask_task: Callable[[str, str, str, float], None] = _stub("metrics_dask_task", "")

# -- the session (SessionNatives.swift) -------------------------------------------

#: ``connection_file() -> str | None``: the absolute path of the connection file the
#: kernel was started with.
connection_file: Callable[[], str | None] = _stub("connection_file", "")


def provide(natives: dict[str, Callable]) -> None:
    """Called once by the kernel with its implementations."""
    unknown = set(natives) - _stubs
    if unknown:
        raise TypeError(f"the kernel provides natives this Python half does not know: {sorted(unknown)}")
    globals().update(natives)
    _provided.update(natives)


def provided(name: str) -> bool:
    """Whether the kernel provided the native ``name``."""
    return name in _provided
