"""Text streams for ``sys.stdout`` and ``sys.stderr``.

They write to file descriptors 1 and 2, which the kernel captures at the fd
level, so Python prints, C extensions and subprocesses all share one ordered
path into the cell. Writes are buffered and flushed by size, at the end of each
cell, before any display, and within a short interval by a background thread, so
``print(".", end="")`` in a slow loop still shows up promptly.
"""

from __future__ import annotations

import io
import os
import threading

FLUSH_INTERVAL = 0.05
FLUSH_SIZE = 1 << 16

# Set by any write that leaves text buffered; the flusher thread waits on it.
_pending = threading.Event()


class OutStream(io.TextIOBase):
    """A buffered, thread-safe text stream over a file descriptor."""

    def __init__(self, fd: int, name: str) -> None:
        super().__init__()
        self._fd = fd
        self._name = name
        self._lock = threading.RLock()
        self._parts: list[str] = []
        self._size = 0
        self.buffer = _BinaryView(self)

    @property
    def name(self) -> str:
        return f"<{self._name}>"

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def errors(self) -> str:
        return "surrogateescape"

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            self._parts.append(text)
            self._size += len(text)
            if self._size >= FLUSH_SIZE:
                self._flush_locked()
            else:
                _pending.set()
        return len(text)

    def writelines(self, lines) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._parts:
            return
        data = "".join(self._parts).encode("utf-8", "surrogateescape")
        self._parts.clear()
        self._size = 0
        _write_all(self._fd, data)

    def write_bytes(self, data: bytes) -> int:
        with self._lock:
            self._flush_locked()
            _write_all(self._fd, bytes(data))
        return len(data)


class _BinaryView:
    """``sys.stdout.buffer``: bytes written in order with the text."""

    def __init__(self, stream: OutStream) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        return self._stream.write_bytes(data)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _flush_loop(streams: list[OutStream]) -> None:
    pause = threading.Event()
    while True:
        _pending.wait()
        pause.wait(FLUSH_INTERVAL)
        _pending.clear()
        for stream in streams:
            try:
                stream.flush()
            except OSError:
                pass


# Events after which other code writes to fds 1 and 2 directly: flushing our buffers
# first keeps the order on screen the order of execution.
_DIRECT_WRITERS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.exec",
     "pty.spawn", "ctypes.call_function"}
)


def _audit_hook(streams: list[OutStream]):
    def hook(event: str, args: tuple) -> None:
        if event in _DIRECT_WRITERS:
            for stream in streams:
                stream.flush()

    return hook


def install() -> tuple[OutStream, OutStream]:
    """Make ``sys.stdout``/``sys.stderr`` fd-backed streams with a background flusher."""
    import sys

    stdout = OutStream(1, "stdout")
    stderr = OutStream(2, "stderr")
    sys.stdout, sys.stderr = stdout, stderr
    sys.__stdout__, sys.__stderr__ = stdout, stderr  # type: ignore[misc]
    flusher = threading.Thread(
        target=_flush_loop, args=([stdout, stderr],), name="tandem-flush", daemon=True
    )
    flusher.start()
    sys.addaudithook(_audit_hook([stdout, stderr]))
    return stdout, stderr
