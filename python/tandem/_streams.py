"""Text streams for ``sys.stdout`` and ``sys.stderr``.

They write to file descriptors 1 and 2, which the kernel captures at the fd
level, so Python prints, C extensions and subprocesses all share one ordered
path into the cell. They are ``io.TextIOWrapper`` objects in write-through mode
over a ``BufferedWriter`` (fast C code). All buffering is in the BufferedWriter,
which has its own lock, so other threads may flush it safely (TextIOWrapper's own
buffer may not be flushed from another thread: that corrupts and leaks memory).
What is buffered is written out at the end of each cell, before any display,
before a subprocess starts, and by a background thread every ``FLUSH_INTERVAL``
seconds, so ``print(".", end="")`` in a slow loop shows up promptly.
"""

from __future__ import annotations

import io
import sys
import threading
from typing import TextIO

from ._parents import flush_routed, parent_stream

FLUSH_INTERVAL = 0.05
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


def open_stream(fd: int, name: str) -> io.TextIOWrapper:
    """A buffered UTF-8 text stream over a file descriptor it does not own, named
    ``name`` (stdout, stderr) in messages."""
    raw = io.FileIO(fd, "w", closefd=False)
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


def _flush_loop(streams: list[TextIO]) -> None:
    pause = threading.Event()
    while not pause.wait(FLUSH_INTERVAL):
        flush_all(streams)


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
