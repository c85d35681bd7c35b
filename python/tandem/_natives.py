"""What the Swift kernel hands the Python half for later use, kept in a module
that costs nothing to import at kernel start."""

from __future__ import annotations

from typing import Callable

# The in-process link to the futures broker, by name (``futures_send``,
# ``futures_receive``, ... as IPythonEngine.swift documents them); None outside the
# kernel.
futures: dict[str, Callable] | None = None

# ``fill_strings(source, column)``: fills an object array with the strings of an
# exchange string buffer, in C (ExchangeNatives.swift); None outside the kernel.
fill_strings: Callable | None = None
