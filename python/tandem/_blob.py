"""The blob a crossing value travels in: its buffers, 64-byte aligned, written
into a ZeroMQ frame or, when large, a file in the kernel's shared memory (an
arena reused from one crossing to the next), and read back without copying.
``docs/exchange-format.md`` is the specification.
"""

from __future__ import annotations

import fcntl
import mmap
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VERSION = 1
ALIGN = 64
#: Blobs at least this large travel through a file in shared memory instead of
#: a ZeroMQ frame: one copy in, and Python maps what R wrote.
FILE_THRESHOLD = 1 << 20

_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)  # Linux 5.14


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

    def finish(self, header: dict, directories: list[str]) -> tuple[dict, list[bytes]]:
        """The header and the frames that carry the blob: one frame, or none when
        the blob went to a file in the first of ``directories`` that can hold it
        (shared memory, then the scratch folder on disk)."""
        header = {"exchange": VERSION, **header, "buffers": self.layout(), "size": self.size}
        for directory in directories if self.size >= FILE_THRESHOLD else []:
            # Arenas are reused, so their pages stay allocated and writing one is a
            # copy. R maps what it reads and locks the file while it does.
            fd, path = _claim_arena(directory, "py-arena")
            try:
                mapping = _arena_mapping(fd, path, self.size)
            finally:
                os.close(fd)
            if mapping is not None:
                blob = np.frombuffer(mapping, dtype=np.uint8)
                try:
                    for offset, view in self.parts:
                        blob[offset : offset + view.nbytes] = view
                finally:
                    # The mapping can be resized later only once nothing views it,
                    # and an interrupt's traceback (kept as sys.last_traceback)
                    # would keep this view alive with the frame.
                    del blob
                header["file"] = path
                header["arena"] = True
                return header, []
            # This file system is full or too small (Docker's /dev/shm is 64 MB):
            # the next one, or the message itself.
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


def address(values: np.ndarray) -> int:
    """Where a contiguous array's data starts, for ``_strings`` (the caller keeps
    the array alive for the call)."""
    return values.__array_interface__["data"][0]
