"""What the Swift kernel hands the Python half for later use, kept in a module
that costs nothing to import at kernel start."""

from __future__ import annotations

from typing import Callable

# (send, receive): the in-process link to the futures broker; None outside the kernel.
futures: tuple[Callable[[list], None], Callable[[float], list]] | None = None

# (cancel, queued): take a task off the pool's queue if it has not started; whether
# it has not. Both answer at once.
tasks: tuple[Callable[[bytes], bool], Callable[[bytes], bool]] | None = None

# (parent, publish): the header of the running request, and publishing to the cell
# of a given header, for task output that arrives after its cell ended.
cells: tuple[Callable[[], bytes | None], Callable[[bytes, str, bytes], None]] | None = None
