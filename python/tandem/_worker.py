"""A Python worker of the futures pool: ``python -m tandem._worker``.

The kernel starts it (through ``tandem worker``); it connects to the kernel's
broker as a ZeroMQ DEALER and runs its tasks one at a time. A task is either a
pickled call (``tandem.submit``) or Python code with inputs in the exchange
format (R's ``py_future``). What the task prints goes back to the cell that
submitted it; SIGINT interrupts the running task only.

The broker may send a worker its next tasks before the current one ends. The
worker's state page (a small file both map, changed under ``flock``) says which
task it started, so that the broker knows what it was running if it dies, and
how many of the tasks it received the broker took back (for an idle worker, or
cancelled by an interrupt): the worker skips those.
"""

from __future__ import annotations

import argparse
import ast
import fcntl
import io
import mmap
import os
import pickle
import signal
import sys
from typing import Any

import zmq

from . import _taskcodec
from ._errors import ConversionError

_SIGINT = {signal.SIGINT}


class _TaskOutput(io.TextIOBase):
    """sys.stdout / sys.stderr of the worker: lines go to the submitting cell."""

    def __init__(self, worker: Worker, name: bytes) -> None:
        self._worker = worker
        self._name = name
        self._pending: list[str] = []

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending.append(text)
        if "\n" in text:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._worker.output(self._name, text)


class Worker:
    """The worker loop: receive a task, run it, send its outcome."""

    def __init__(self, endpoint: str, name: str, state: str | None = None) -> None:
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.IDENTITY, name.encode())
        self._socket.setsockopt(zmq.LINGER, 1000)
        self._socket.connect(endpoint)
        self._task: bytes | None = None
        self._running = False
        #: An interrupt that came while a task's output was being sent.
        self._held_interrupt = False
        self._functions: dict[bytes, Any] = {}
        self._received = 0
        self._state_file = open(state, "r+b") if state is not None else None
        self._state = mmap.mmap(self._state_file.fileno(), 16) if self._state_file else None

    def output(self, name: bytes, text: str) -> None:
        if self._task is None:
            sys.__stdout__.write(text)
            return
        # Not interrupted halfway through the message's parts: an interrupt
        # meanwhile is raised once the message is out.
        running, self._running = self._running, False
        try:
            self._socket.send_multipart([b"out", self._task, name, text.encode("utf-8", "replace")])
        finally:
            self._running = running
        if running and self._held_interrupt:
            self._held_interrupt = False
            raise KeyboardInterrupt

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        # Only a running task is interrupted; an idle worker shrugs.
        if self._running:
            raise KeyboardInterrupt
        self._held_interrupt = True

    def serve(self) -> None:
        signal.signal(signal.SIGINT, self._on_interrupt)
        sys.stdout = _TaskOutput(self, b"stdout")
        sys.stderr = _TaskOutput(self, b"stderr")
        self._socket.send_multipart([b"ready", b"py", str(os.getpid()).encode()])
        while True:
            frames = self._socket.recv_multipart()
            verb = frames[0]
            if verb == b"stop":
                break
            if verb == b"task" and len(frames) >= 3:
                task_id = frames[1]
                self._received += 1
                # An interrupt that came while no task ran was meant for one that ended.
                signal.sigtimedwait(_SIGINT, 0)
                self._held_interrupt = False
                if self._state is not None and not self._start(task_id):
                    continue
                self._send(task_id, self._run(task_id, frames[2], frames[3:]))
        self._socket.close()
        self._context.term()

    def _start(self, task_id: bytes) -> bool:
        """Records that the task starts, unless the broker took it back."""
        fcntl.flock(self._state_file, fcntl.LOCK_EX)
        try:
            if self._received <= int.from_bytes(self._state[8:16], "little"):
                return False
            self._state[0:8] = task_id
            return True
        finally:
            fcntl.flock(self._state_file, fcntl.LOCK_UN)

    def _send(self, task_id: bytes, outcome: list[bytes]) -> None:
        self._socket.send_multipart([b"done", task_id, *outcome], copy=False)

    def _run(self, task_id: bytes, kind: bytes, data: list[bytes]) -> list[bytes]:
        self._task = task_id
        try:
            try:
                # SIGINT reaches the worker only while a task runs: never in the
                # middle of a message to the broker, which would garble it.
                self._running = True
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGINT)
                if kind == b"call":
                    outcome = self._call(data)
                elif kind == b"expr":
                    outcome = self._expr(data)
                else:
                    raise ValueError(f"unknown task kind {kind!r}")
            finally:
                signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)
                self._running = False
        except BaseException as error:  # the task's failure, whatever it is, is its outcome
            outcome = _taskcodec.error_outcome(error)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            self._task = None
        return outcome

    def _call(self, data: list[bytes]) -> list[bytes]:
        function = self._functions.get(data[0])
        if function is None:
            if len(data) > 2:
                _taskcodec.install_sources(data[2])
            function = pickle.loads(data[0])
            if len(self._functions) > 64:
                self._functions.clear()
            self._functions[data[0]] = function
        args, kwargs, chunked = pickle.loads(data[1])
        if chunked:
            result = [function(*item) for item in args]
        else:
            result = function(*args, **kwargs)
        return [b"ok", _taskcodec.dumps(result)]

    def _expr(self, data: list[bytes]) -> list[bytes]:
        return run_expression(data)


def run_expression(data: list[bytes]) -> list[bytes]:
    """Python code from R (``py_future``): its inputs decoded, the value of its
    last line encoded back; the outcome frames, status first. Raises what the
    code raises."""
    from ._bridge import pack, unpack

    header = _taskcodec.loads_json(data[0])
    values, errors = unpack(header["values"], data[1:], source="R")
    if errors:
        raise ConversionError("; ".join(errors))
    result = evaluate(header["code"], values)
    packed, frames, errors = pack({"value": result}, to="R", inline=True)
    if errors:
        raise ConversionError("the result " + errors[0])
    return [b"ok", _taskcodec.dumps_json(packed), *frames]


def evaluate(code: str, namespace: dict[str, Any]) -> Any:
    """Runs ``code`` in ``namespace``; the value of its last line if that is an
    expression (as a cell shows it), else None."""
    tree = ast.parse(code, "<py_future>", "exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    namespace.setdefault("__builtins__", __builtins__)
    exec(compile(tree, "<py_future>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<py_future>", "eval"), namespace)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tandem._worker", description=__doc__)
    parser.add_argument("--connect", required=True, help="the broker's endpoint")
    parser.add_argument("--id", required=True, help="this worker's name")
    parser.add_argument("--state", help="the state page the broker made for this worker")
    options = parser.parse_args(argv)
    # Blocked before ZeroMQ starts its threads, which inherit the mask: SIGINT then
    # reaches only the main thread, and only while it runs a task (Worker._run).
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)
    # Notebook functions arrive by value; modules beside the notebook import as in the kernel.
    sys.path.insert(0, os.getcwd())
    Worker(options.connect, options.id, options.state).serve()


if __name__ == "__main__":
    main()
