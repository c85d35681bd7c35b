"""The memory of a kernel's process tree, read from /proc: shared by the tests and
the benchmarks (it needs nothing but the standard library)."""

from __future__ import annotations

import os
import threading


def process_tree(root: int) -> set[int]:
    """`root` and every process below it, walked from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found = {root}
    while more := {pid for pid, parent in parents.items() if parent in found} - found:
        found |= more
    return found


def pss(pid: int) -> int:
    """The process's proportional set size from /proc, in bytes."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:"))


def tree_memory(root: int) -> int:
    """The memory `root` and every process below it hold, in bytes: each one's
    anonymous pages, plus the resident pages of every file they map counted once
    (a value R maps from the file Python wrote, a library every worker maps).

    Counting files by file rather than by process (as PSS splits them) keeps the
    sum right although the processes are read one after the other: a file that a
    second process maps between the two reads is not counted one and a half times."""
    anonymous = 0
    files: dict[tuple[str, str], int] = {}
    for pid in process_tree(root):
        try:
            own, mapped = _mappings(pid)
        except OSError:
            continue  # a process that ended meanwhile
        anonymous += own
        for key, resident in mapped.items():
            files[key] = max(files.get(key, 0), resident)
    return anonymous + sum(files.values())


def _mappings(pid: int) -> tuple[int, dict[tuple[str, str], int]]:
    """A process's anonymous bytes, and its resident bytes of each mapped file by
    (device, inode), from /proc/PID/smaps."""
    anonymous = 0
    files: dict[tuple[str, str], int] = {}
    key = None
    resident = 0
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            field, _, rest = line.partition(" ")
            if field == "Rss:":
                resident = int(rest.split()[0]) * 1024
            elif field == "Anonymous:":
                private = int(rest.split()[0]) * 1024
                anonymous += private
                if key is not None:
                    files[key] = files.get(key, 0) + resident - private
            elif not field.endswith(":"):
                # A mapping's first line: address perms offset device inode [path].
                parts = line.split()
                key = (parts[3], parts[4]) if len(parts) > 4 and parts[4] != "0" else None
    return anonymous, files


class PeakMemory:
    """Samples a process tree's memory on a thread until `stop()`, which returns the peak."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak = tree_memory(root)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, tree_memory(self.root))

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return max(self.peak, tree_memory(self.root))
