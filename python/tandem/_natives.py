"""What the Swift kernel hands the Python half for later use, kept in a module
that costs nothing to import at kernel start."""

from __future__ import annotations

from typing import Callable

# The in-process link to the futures broker, by name (``futures_send``,
# ``futures_receive``, ... as IPythonEngine.swift documents them); None outside the
# kernel.
futures: dict[str, Callable] | None = None
