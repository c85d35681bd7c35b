"""Which request Python's output belongs to: its parent.

Output goes to the running request unless code set another parent, as under
ipykernel: ipywidgets' Output widget calls ``shell.set_parent`` with the request
it captures, a thread may call ``sys.stdout.set_thread_parent``. A parent set on
the kernel's own thread holds for the request that set it (the next request has
its own); one set on another thread holds for that thread until it is reset (its
output goes to the cell it chose, even while later cells run).

Text written to ``sys.stdout`` and ``sys.stderr`` goes out through the kernel's
file descriptors, attributed to the running request. Only once some thread set
a parent other than the running request (or a subshell runs) are the two
streams replaced by routing ones (:class:`_RoutingStream`): until then a write
costs what a plain ``io.TextIOWrapper`` write costs.
"""

from __future__ import annotations

import contextvars
import io
import json
import threading
from . import _natives
from ._jsonutil import dumps

#: Threads that serve requests of their own (subshells'): their text goes to the
#: request they serve, not through the kernel's file descriptors.
_own_requests = threading.local()

#: The parent this thread set: its header, and the msg_id of the request it was
#: set during when it was set on the kernel's thread (it ends with that request).
_override: contextvars.ContextVar[tuple[dict, str | None] | None] = contextvars.ContextVar(
    "tandem_parent", default=None
)


def header_of(parent: dict | None) -> dict:
    """The header of a parent given as a message or as a header (as ipykernel
    accepts both)."""
    if not parent:
        return {}
    return parent["header"] if "header" in parent else parent


def _running() -> dict:
    raw = _natives.parent() if _natives.provided("parent") else None
    return json.loads(raw) if raw else {}


def message(header: dict) -> dict:
    """A parent request as ipykernel's ``get_parent()`` gives it."""
    if not header:
        return {}
    return {
        "header": header, "msg_id": header.get("msg_id"), "msg_type": header.get("msg_type"),
        "parent_header": {}, "metadata": {}, "content": {}, "buffers": [],
    }


def current() -> dict:
    """The parent of output written here and now: this thread's, else the running
    request (ipykernel's ``get_parent()``)."""
    header = _chosen()
    return message(header if header is not None else _running())


def set_parent(parent: dict | None) -> contextvars.Token:
    """Sends this thread's output to ``parent`` (a message or a header; None: the
    running request again). Returns a token for :func:`reset_parent`."""
    header = header_of(parent)
    if not header:
        return _override.set(None)
    scope = _running().get("msg_id") if threading.current_thread() is threading.main_thread() else None
    token = _override.set((header, scope))
    if scope is None or header.get("msg_id") != scope:
        _route_streams()
    return token


def reset_parent(token: contextvars.Token) -> None:
    """Undoes the :func:`set_parent` that returned ``token``."""
    _override.reset(token)


def _chosen() -> dict | None:
    """The header this thread chose, if it still holds."""
    entry = _override.get()
    if entry is None:
        return None
    header, scope = entry
    if scope is not None and scope != _running().get("msg_id"):
        return None  # set during a request that has ended
    return header


def serve_own_requests() -> None:
    """Marks this thread as one that serves its own requests (a subshell's): its
    output goes to the request it serves, or to the parent it chose."""
    _own_requests.active = True
    _route_streams()


def serves_own_requests() -> bool:
    """Whether this thread serves requests of its own (a subshell's)."""
    return getattr(_own_requests, "active", False)


def _elsewhere() -> bytes | None:
    """The header (JSON) to send this thread's output to, when that is not the
    main shell's running request (whose output goes through the file descriptors)."""
    if getattr(_own_requests, "active", False):
        header = _chosen() or _running()
        return dumps(header) if header else None
    if _override.get() is None:
        return None
    return _unless_running(_chosen())


def _unless_running(header: dict | None) -> bytes | None:
    if not header or header.get("msg_id") == _running().get("msg_id"):
        return None
    return dumps(header)


def publish(
    msg_type: str,
    content: dict,
    metadata: dict | None = None,
    buffers: list | None = None,
    parent: dict | None = None,
) -> None:
    """Publishes an IOPub message from this thread: to ``parent`` (a message or a
    header) if given, else to the thread's parent."""
    target = _elsewhere() if parent is None else _unless_running(header_of(parent))
    if target is None:
        publish_running(msg_type, content, metadata, buffers)
    else:
        views = [bytes(memoryview(b)) for b in buffers] if buffers else []
        _natives.publish_to(target, msg_type, dumps(content), dumps(metadata) if metadata else b"{}", views)


def publish_running(msg_type: str, content: dict, metadata: dict | None = None, buffers: list | None = None) -> None:
    """Publishes an IOPub message to the running request, whatever parent this
    thread chose: comm messages, as ipykernel sends them with the kernel's parent."""
    views = [bytes(memoryview(b)) for b in buffers] if buffers else []
    _natives.publish(msg_type, dumps(content), dumps(metadata) if metadata else b"{}", views)


def parent_stream(buffer: io.BufferedWriter, name: str, cls: type = io.TextIOWrapper) -> io.TextIOWrapper:
    """``sys.stdout`` / ``sys.stderr``: an ``io.TextIOWrapper`` over ``buffer``
    with ipykernel's stream methods for choosing a parent (``set_parent``,
    ``set_thread_parent``, ``reset_thread_parent``) and ``stream_name``, its name
    in messages. The methods are the instance's own, not a subclass's: ``print``
    to a subclass of ``io.TextIOWrapper`` costs a tenth more."""
    stream = cls(buffer, encoding="utf-8", errors="backslashreplace", write_through=True)
    stream.stream_name = name
    stream.set_parent = _set_stream_parent
    stream.set_thread_parent = set_parent
    stream.reset_thread_parent = reset_parent
    return stream


def _set_stream_parent(parent: dict | None) -> None:
    set_parent(parent)


#: Text written for a parent other than the main shell's running request and not
#: sent yet, by (thread, stream name): ``[parent, pieces, size]``.
_routed: dict[tuple[int, str], list] = {}
_routed_lock = threading.Lock()

#: Routed text is sent by the line, as a terminal shows it, and at most this many
#: characters at once; the rest at the next flush (the kernel's flush loop runs
#: every few tens of milliseconds).
_ROUTED_CHUNK = 8192


class _RoutingStream(io.TextIOWrapper):
    """A parent stream whose writes from a thread with a parent of its own go to
    that parent, a line at a time (the rest on ``flush``)."""

    def write(self, text: str) -> int:
        parent = _elsewhere()
        if parent is None:
            return super().write(text)
        key = (threading.get_ident(), self.stream_name)
        with _routed_lock:
            pending = _routed.get(key)
            stale = _routed.pop(key) if pending is not None and pending[0] != parent else None
            if pending is None or stale is not None:
                pending = _routed[key] = [parent, [], 0]
                fresh = True
            else:
                fresh = False
            pending[1].append(text)
            pending[2] += len(text)
            full = "\n" in text or pending[2] >= _ROUTED_CHUNK
            if full:
                del _routed[key]
        if stale is not None:
            _send(self.stream_name, stale)
        if fresh:
            super().flush()  # what was written before goes out first
        if full:
            _send(self.stream_name, pending)
        return len(text)

    def flush(self) -> None:
        flush_routed(self.stream_name)
        super().flush()


def has_routed() -> bool:
    """Whether any thread's routed text waits to be sent."""
    return bool(_routed)


def flush_routed(stream_name: str | None = None) -> None:
    """Sends the routed text every thread wrote so far (to ``stream_name``, or to
    both streams); safe from any thread."""
    with _routed_lock:
        keys = [key for key in _routed if stream_name is None or key[1] == stream_name]
        taken = [(key[1], _routed.pop(key)) for key in keys]
    for name, pending in taken:
        _send(name, pending)


def _send(stream_name: str, pending: list) -> None:
    content = dumps({"name": stream_name, "text": "".join(pending[1])})
    _natives.publish_to(pending[0], "stream", content, b"{}", [])


def _route_streams() -> None:
    """Makes ``sys.stdout`` and ``sys.stderr`` routing streams over the same
    buffers (nothing is held between a text stream and its buffer, so the two
    objects interleave safely; one kept from before writes as it did)."""
    import sys

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if type(stream) is io.TextIOWrapper and hasattr(stream, "stream_name"):
            setattr(sys, name, parent_stream(stream.buffer, stream.stream_name, _RoutingStream))
