"""Text streams for ``sys.stdout`` and ``sys.stderr``.

They write to file descriptors 1 and 2, which the kernel captures at the fd
level, so Python prints, C extensions and subprocesses all share one ordered
path into the cell. They are ``io.TextIOWrapper`` objects in write-through mode
over a ``BufferedWriter`` (fast C code). All buffering is in the BufferedWriter,
which has its own lock, so other threads may flush it safely (TextIOWrapper's own
buffer may not be flushed from another thread: that corrupts and leaks memory).
What is buffered is written out at the end of each cell, before any display,
before a subprocess starts, and by a background thread every ``FLUSH_INTERVAL``
seconds while a request runs, so ``print(".", end="")`` in a slow loop shows up
promptly. An idle kernel's flusher backs off to ``IDLE_FLUSH_INTERVAL`` while
nothing is written (a thread printing after its cell ended brings it back), so
that an idle kernel does not wake twenty times a second for nothing.
"""

from __future__ import annotations

import io
import sys
import threading
from typing import TextIO

from ._parents import flush_routed, has_routed, parent_stream

FLUSH_INTERVAL = 0.05
IDLE_FLUSH_INTERVAL = 1.0
BUFFER_SIZE = 1 << 16

# Events after which other code writes to fds 1 and 2 directly: flushing our buffers
# first keeps the order on screen the order of execution.
_DIRECT_WRITERS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.posix_spawn",
        "os.fork",
        "os.exec",
        "pty.spawn",
        "ctypes.call_function",
    }
)


class _CountingFileIO(io.FileIO):
    """The file descriptor under a stream, counting what reaches it: the flusher's
    sign that something was written. It is called per buffer flushed, not per
    ``print``."""

    written = 0

    def write(self, data) -> int | None:
        count = super().write(data)
        self.written += count or 0
        return count


class _Activity:
    """Whether a request runs, and the event that wakes the flusher when one starts."""

    def __init__(self) -> None:
        self.busy = False
        self.started = threading.Event()


_activity = _Activity()


def request_started() -> None:
    """A request runs: flush every ``FLUSH_INTERVAL`` until it ends."""
    _activity.busy = True
    _activity.started.set()


def request_ended() -> None:
    """No request runs: the flusher may back off while nothing is written."""
    _activity.busy = False


def open_stream(fd: int, name: str) -> io.TextIOWrapper:
    """A buffered UTF-8 text stream over a file descriptor it does not own, named
    ``name`` (stdout, stderr) in messages."""
    raw = _CountingFileIO(fd, "w", closefd=False)
    return parent_stream(io.BufferedWriter(raw, buffer_size=BUFFER_SIZE), name)


def flush_all(streams: list[TextIO]) -> None:
    """Flush the byte buffers under the streams, and the text threads wrote for
    parents of their own; safe from any thread."""
    flush_routed()
    for stream in streams:
        try:
            stream.buffer.flush()
        except (AttributeError, OSError, ValueError):
            pass


def flush_streams() -> None:
    """Flush ``sys.stdout`` and ``sys.stderr``: text written so far goes out first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _written(streams: list[TextIO]) -> int:
    return sum(getattr(getattr(stream.buffer, "raw", None), "written", 0) for stream in streams)


def _flush_loop(streams: list[TextIO]) -> None:
    interval = FLUSH_INTERVAL
    while True:
        _activity.started.wait(interval)
        _activity.started.clear()
        before = _written(streams)
        routed = has_routed()
        flush_all(streams)
        if _activity.busy or routed or _written(streams) != before:
            interval = FLUSH_INTERVAL
        else:
            interval = min(IDLE_FLUSH_INTERVAL, interval * 2)


def _audit_hook(streams: list[TextIO]):
    def hook(event: str, args: tuple) -> None:
        if event in _DIRECT_WRITERS:
            flush_all(streams)

    return hook


def install() -> tuple[TextIO, TextIO]:
    """Point ``sys.stdout``/``sys.stderr`` at fds 1 and 2, with a background flusher."""
    stdout, stderr = open_stream(1, "stdout"), open_stream(2, "stderr")
    sys.stdout, sys.stderr = stdout, stderr
    sys.__stdout__, sys.__stderr__ = stdout, stderr  # type: ignore[misc]
    streams = [stdout, stderr]
    threading.Thread(target=_flush_loop, args=(streams,), name="tandem-flush", daemon=True).start()
    sys.addaudithook(_audit_hook(streams))
    return stdout, stderr
