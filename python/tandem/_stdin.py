"""``input()`` and ``getpass()`` answered by the frontend through input_request."""

from __future__ import annotations

import builtins
import getpass
import threading
from typing import Callable

from IPython.core.error import StdinNotImplementedError

from ._streams import flush_streams


class Stdin:
    """Replaces ``builtins.input`` and ``getpass.getpass`` while the kernel runs."""

    def __init__(self, request: Callable[[str, bool], str]) -> None:
        self._request = request
        # A subshell's request allows stdin or not for its own thread; every
        # other thread (the user's too) follows the main shell's request.
        self._main_allowed = False
        self._subshell = threading.local()

    @property
    def allowed(self) -> bool:
        """Whether the request this thread serves allows input requests."""
        return getattr(self._subshell, "allowed", self._main_allowed)

    @allowed.setter
    def allowed(self, value: bool) -> None:
        if threading.current_thread() is threading.main_thread():
            self._main_allowed = value
        else:
            self._subshell.allowed = value

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
