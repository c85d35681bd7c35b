"""The requests the Swift kernel hands to Python, one method per message type.

The kernel process owns the sockets, busy/idle and the execution queue; this
module runs the language side: it executes cells in IPython, completes,
inspects, and returns each reply's content as JSON bytes.

Over 400 lines on purpose: it is the one object the Swift kernel calls, one method
per message type, each short; the work itself lives in the modules it imports.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import sys
import threading
import time
from typing import Any, Callable

from IPython.core.completer import provisionalcompleter, rectify_completions
from IPython.utils.tokenutil import token_at_cursor

from . import _comms, _detection, _natives, _parents, _streams
from ._streams import flush_streams
from ._jsonutil import dumps
from . import _bridge, _cell_files, _debugger, _errors, _interrupts, _rpy2
from ._bridge import Bridge
from ._kernel_object import KernelObject
from ._kernel_magics import KernelMagics
from ._magics import TandemMagics
from ._rmagic import RMagics, r_first_cell_transform
from ._shell import ZMQInteractiveShell
from ._stdin import Stdin

class Kernel:
    """The Python side of one Tandem kernel."""

    def __init__(self, language: str = "python") -> None:
        _streams.install()
        _detection.install()
        os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        self.shell = ZMQInteractiveShell.instance()
        self._history = _DeferredHistoryWrites(self.shell.history_manager)
        self.shell.displayhook.publish_message = _parents.publish
        self.shell.display_pub.publish_message = _parents.publish
        self.stdin = Stdin(_natives.request_input)
        self.stdin.install()
        self.comm_manager = _comms.install(_parents.publish_running)
        self.shell.register_magics(TandemMagics(self.shell))
        self.shell.register_magics(KernelMagics(self.shell))
        # Modules beside the notebook import, as under ipykernel (IPython puts ''
        # first: the working directory at each import, so also after %cd).
        if "" not in sys.path:
            sys.path.insert(0, "")
        self.shell.kernel = _comms.TandemComm.kernel = KernelObject(self.shell, self.comm_manager)
        self.bridge: Bridge | None = None
        #: The language of the cell being served and the length of its magic line,
        #: as the kernel's router found them.
        self._cell: tuple[str, int] = (language, 0)
        if _natives.provided("r_call"):
            self.bridge = Bridge(_natives.r_call, self.shell.user_ns)
            self.bridge.handlers["dask"] = _serve_dask
            _bridge.install(self.bridge)
            self.shell.provide({"r": _bridge.R(self.bridge)})
            # rpy2's Python API on this R session: never a second R in the kernel.
            _rpy2.install()
            self.r = RMagics(self.shell, self.bridge, lambda: self.stdin.allowed)
            self.shell.register_magics(self.r)
            if language == "r":
                self.r.default_plot = {}  # R cells keep IRkernel's plot size
                _errors.r_first = True
                self.shell.transform_cell = r_first_cell_transform(self.shell.transform_cell, lambda: self._cell)
        _interrupts.install(
            _natives.futures_interrupt if _natives.provided("futures_interrupt") else None
        )
        # The extension IPython loads by default, as ipykernel does: %store.
        self.shell.extension_manager.load_extension("storemagic")
        self._run_startup_files()
        self._handlers: dict[str, Callable[[dict, list], dict | None]] = {
            "execute_request": self.execute,
            "complete_request": self.complete,
            "inspect_request": self.inspect,
            "is_complete_request": self.is_complete,
            "history_request": self.history,
            "comm_info_request": self.comm_info,
            "comm_open": self.comm_open,
            "comm_msg": self.comm_msg,
            "comm_close": self.comm_close,
        }

    def message_types(self) -> list[str]:
        """The message types this side serves."""
        return list(self._handlers)

    def handle(
        self,
        msg_type: str,
        content: bytes,
        buffers: list,
        cell_language: str,
        magic_length: int,
        execution_count: int,
    ) -> tuple[str, bytes] | None:
        """Serve one request; returns the reply's status and content, or None for
        comm messages. ``cell_language`` and ``magic_length`` say what the cell's
        first line names (``%%R``, ``%%python``) and how long that line is;
        ``execution_count`` is the number the kernel gave an execute request (it
        counts the cells every engine runs).

        Interrupts reach the code of a cell only (see :mod:`tandem._interrupts`);
        the kernel drops those meant for earlier requests before each one."""
        self._cell = (cell_language, magic_length)
        _streams.request_started()
        if msg_type == "execute_request":
            self.shell.execution_count = execution_count
        reply = self._handlers[msg_type](json.loads(content), buffers)
        return None if reply is None else (reply.get("status", "ok"), dumps(reply))

    def record_history(self, code: str, execution_count: int) -> None:
        """Keeps a cell another engine ran (an R cell of the R-first kernel) in
        IPython's history, where history requests, ``%history`` and ``In`` find it."""
        self.shell.history_manager.store_inputs(execution_count, code, code)

    def serve_r(self, request: bytes, frames: list) -> list:
        """A call from R while it runs (``py$x``): ``[reply_json, frames]``."""
        if self.bridge is None:
            return [dumps({"status": "error", "evalue": "no R bridge"}), []]
        try:
            return self.bridge.serve(request, frames)
        finally:
            flush_streams()  # what Python printed comes before what R prints next

    def shutdown(self) -> None:
        """The kernel's orderly end: IPython's exit work (history saved), and the
        cell files the debugger was given removed."""
        try:
            self.shell.atexit_operations()
        finally:
            _cell_files.remove()

    def cell_ended(self) -> None:
        """Work due when a cell of any language ends, before its reply: the last
        update of the pool panels it showed."""
        status = sys.modules.get("tandem._status")
        if status is not None:
            status.finish_request()

    def after_request(self) -> None:
        """Deferred work once the reply is out (and the end of a pool panel shown
        by a request that is not a cell)."""
        _streams.request_ended()
        self._history.touch()
        status = sys.modules.get("tandem._status")
        if status is not None:
            status.finish_request()

    def kernel_info(self) -> bytes:
        """The language part of kernel_info_reply."""
        import IPython

        version = ".".join(map(str, sys.version_info[:3]))
        return dumps(
            {
                "language_info": {
                    "name": "python",
                    "version": version,
                    "mimetype": "text/x-python",
                    "codemirror_mode": {"name": "ipython", "version": 3},
                    "pygments_lexer": "ipython3",
                    "nbconvert_exporter": "python",
                    "file_extension": ".py",
                },
                "banner": f"Tandem: Python {version}, IPython {IPython.__version__}\n",
                "help_links": [
                    {"text": "Python Reference", "url": "https://docs.python.org/3/"},
                    {"text": "IPython Reference", "url": "https://ipython.readthedocs.io/"},
                ],
            }
        )

    # -- execute -------------------------------------------------------------

    def execute(self, content: dict, buffers: list) -> dict:
        shell = self.shell
        code = content.get("code", "")
        silent = bool(content.get("silent", False))
        store_history = bool(content.get("store_history", not silent)) and not silent
        # Interrupts reach the cell's code only: one that lands before it runs
        # ends it at once, one that lands after it ended is dropped.
        if not silent:
            _parents.publish("execute_input", {"code": code, "execution_count": shell.execution_count})
        self.stdin.allowed = bool(content.get("allow_stdin", False))
        shell.last_error = None
        _debugger.before_cell()
        try:
            with _interrupts.allowed():
                result = shell.run_cell(code, store_history=store_history, silent=silent)
        except KeyboardInterrupt:
            result = None
        finally:
            self.stdin.allowed = False
            flush_streams()
        return self._execute_reply(content, result)

    def _execute_reply(self, content: dict, result: Any) -> dict:
        """The reply to an execute request; ``result`` is None when an interrupt
        ended the cell outside the code IPython runs (and reports)."""
        shell = self.shell
        if result is None:
            shell.showtraceback((KeyboardInterrupt, KeyboardInterrupt(), None))
            return {"status": "error", "execution_count": shell.execution_count - 1, "user_expressions": {},
                    "payload": [], **shell.last_error}
        reply: dict[str, Any] = {"execution_count": shell.execution_count - 1}
        if result.success:
            reply["status"] = "ok"
            expressions = content.get("user_expressions") or {}
            reply["user_expressions"] = shell.user_expressions(expressions)
        else:
            error = shell.last_error or {
                "ename": type(result.error_in_exec or result.error_before_exec).__name__,
                "evalue": str(result.error_in_exec or result.error_before_exec),
                "traceback": [],
            }
            reply.update(status="error", user_expressions={}, **error)
        reply["payload"] = shell.payload_manager.read_payload()
        shell.payload_manager.clear_payload()
        return reply

    # -- introspection -------------------------------------------------------

    def complete(self, content: dict, buffers: list) -> dict:
        code = content.get("code", "")
        cursor = content.get("cursor_pos")
        cursor = len(code) if cursor is None else cursor
        with provisionalcompleter():
            raw = self.shell.Completer.completions(code, cursor)
            completions = list(rectify_completions(code, raw))
        types = [
            {
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "type": c.type,
                "signature": c.signature,
            }
            for c in completions
        ]
        start, end = (completions[0].start, completions[0].end) if completions else (cursor, cursor)
        return {
            "status": "ok",
            "matches": [c.text for c in completions],
            "cursor_start": start,
            "cursor_end": end,
            "metadata": {"_jupyter_types_experimental": types},
        }

    def inspect(self, content: dict, buffers: list) -> dict:
        code = content.get("code", "")
        cursor = content.get("cursor_pos", len(code))
        name = token_at_cursor(code, cursor)
        reply = {"status": "ok", "data": {}, "metadata": {}, "found": False}
        try:
            bundle = self.shell.object_inspect_mime(
                name, detail_level=int(content.get("detail_level", 0))
            )
        except KeyError:
            return reply
        if not self.shell.enable_html_pager:
            bundle.pop("text/html", None)
        reply.update(data=bundle, found=True)
        return reply

    def is_complete(self, content: dict, buffers: list) -> dict:
        status, indent = self.shell.input_transformer_manager.check_complete(
            content.get("code", "")
        )
        reply: dict[str, Any] = {"status": status}
        if status == "incomplete":
            reply["indent"] = " " * (indent or 0)
        return reply

    def history(self, content: dict, buffers: list) -> dict:
        manager = self.shell.history_manager
        access = content.get("hist_access_type", "tail")
        raw = bool(content.get("raw", True))
        output = bool(content.get("output", False))
        if access == "tail":
            entries = manager.get_tail(
                int(content.get("n", 10)), raw=raw, output=output, include_latest=True
            )
        elif access == "range":
            entries = manager.get_range(
                int(content.get("session", 0)),
                int(content.get("start", 0)),
                content.get("stop"),
                raw=raw,
                output=output,
            )
        elif access == "search":
            entries = manager.search(
                content.get("pattern", "*"),
                raw=raw,
                output=output,
                n=content.get("n"),
                unique=bool(content.get("unique", False)),
            )
        else:
            entries = []
        # IPython numbers the current session 0 in ranges; clients expect its number.
        current = manager.session_number
        return {
            "status": "ok",
            "history": [[e[0] or current, *e[1:]] for e in entries],
        }

    # -- comms ---------------------------------------------------------------

    def comm_info(self, content: dict, buffers: list) -> dict:
        target = content.get("target_name")
        comms = {
            comm_id: {"target_name": c.target_name}
            for comm_id, c in self.comm_manager.comms.items()
            if target is None or c.target_name == target
        }
        return {"status": "ok", "comms": comms}

    def _comm_message(self, content: dict, buffers: list) -> dict:
        # As ipykernel hands it to comm handlers: the request with its header.
        return {**_parents.current(), "content": content, "buffers": buffers}

    def comm_open(self, content: dict, buffers: list) -> None:
        self._comm_handler(self.comm_manager.comm_open, content, buffers)

    def comm_msg(self, content: dict, buffers: list) -> None:
        self._comm_handler(self.comm_manager.comm_msg, content, buffers)

    def comm_close(self, content: dict, buffers: list) -> None:
        self._comm_handler(self.comm_manager.comm_close, content, buffers)

    def _comm_handler(self, serve: Callable, content: dict, buffers: list) -> None:
        """Runs a comm's handler (a widget's callback: the user's code) where an
        interrupt ends it, as it ends a cell; the interrupt is logged where the
        ``comm`` package logs a handler's exception."""
        message = self._comm_message(content, buffers)
        try:
            with _interrupts.allowed():
                serve(None, None, message)
        except KeyboardInterrupt:
            logging.getLogger("Comm").error(
                "KeyboardInterrupt: the handler of %s for comm %s was interrupted",
                message.get("header", {}).get("msg_type", "a comm message"),
                content.get("comm_id"),
            )

    # -- start-up ------------------------------------------------------------

    def _run_startup_files(self) -> None:
        """Run the profile's startup scripts, as IPython and ipykernel do."""
        startup = self.shell.profile_dir.startup_dir
        for path in sorted(glob.glob(os.path.join(startup, "*.py"))):
            self.shell.safe_execfile(path, self.shell.user_ns, raise_exceptions=False)
        for path in sorted(glob.glob(os.path.join(startup, "*.ipy"))):
            self.shell.safe_execfile_ipy(path)
        flush_streams()


class _DeferredHistoryWrites:
    """Writes IPython's history to disk once cells have stopped coming for a moment.

    IPython writes after every cell and holds the cache lock during the SQLite
    commit, which stalls the next cell. Here the cache only grows while cells run,
    and is written ``delay`` seconds after the last one; history requests still see
    everything (IPython writes the cache out before reading).
    """

    def __init__(self, manager, delay: float = 0.5) -> None:
        self._manager = manager
        self._delay = delay
        self._last = 0.0
        self._wake = threading.Event()
        manager.db_cache_size = sys.maxsize
        threading.Thread(target=self._run, name="tandem-history", daemon=True).start()

    def touch(self) -> None:
        self._last = time.monotonic()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            while (remaining := self._last + self._delay - time.monotonic()) > 0:
                time.sleep(remaining)
            self._wake.clear()
            if self._manager.save_flag is not None:
                self._manager.save_flag.set()


def _serve_dask(request: dict, values: dict) -> tuple[dict, dict | None]:
    """R's futures under ``plan(tandem::workers, dask = ...)`` (Dask is imported
    at R's first such call, not at the kernel's start)."""
    from ._dask_tasks import serve

    return serve(request, values)


def start(language: str = "python") -> Kernel:
    """Create the kernel's Python side; called once by the kernel process, after
    it provided the natives (:mod:`tandem._natives`)."""
    return Kernel(language)
