"""``input()`` and ``getpass()`` answered by the frontend through input_request."""

from __future__ import annotations

import builtins
import getpass
from typing import Callable

from IPython.core.error import StdinNotImplementedError

from ._streams import flush_streams


class Stdin:
    """Replaces ``builtins.input`` and ``getpass.getpass`` while the kernel runs."""

    def __init__(self, request: Callable[[str, bool], str]) -> None:
        self._request = request
        self.allowed = False

    def install(self) -> None:
        builtins.input = self.input
        getpass.getpass = self.getpass

    def _ask(self, prompt: object, password: bool) -> str:
        if not self.allowed:
            raise StdinNotImplementedError(
                "input was called, but this frontend does not support input requests."
            )
        flush_streams()
        return self._request(str(prompt), password)

    def input(self, prompt: object = "") -> str:
        """Read a line from the frontend, as the built-in ``input`` does."""
        return self._ask(prompt, False)

    def getpass(self, prompt: str = "Password: ", stream: object = None) -> str:
        """Read a secret from the frontend without echoing it."""
        return self._ask(prompt, True)
