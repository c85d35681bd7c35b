"""Parallel futures on the kernel's worker pool, with the ``concurrent.futures`` API.

The kernel runs a broker (a ZeroMQ ROUTER that workers and the R session connect
to) and starts worker processes at the first task. The kernel's own Python talks
to the broker in-process, through two functions the kernel provides: tasks go out
from any thread, outcomes come back to a daemon thread that completes the futures.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from . import _interrupts, _natives, _taskcodec
from ._errors import RemoteTraceback, WorkerLost
from ._callpickle import name_of, pickled_arguments, pickled_function, unpickle
from ._executor import TrackingExecutor
from ._rtasks import decode_r_value, r_error, r_task
from ._jsonutil import dumps
from ._streams import flush_streams


#: How long a wait for a future lasts before it looks for an interrupt again.
_WAIT_STEP = 0.1


class Future(concurrent.futures.Future):
    """A ``concurrent.futures.Future`` of a task on the pool: ``running()`` is true
    once a worker has it, and ``cancel()`` takes it off the pool's queue, which
    succeeds, as in the standard library, only while no worker has it."""

    def __init__(self, client: _Client | None = None, task_id: bytes = b"") -> None:
        super().__init__()
        self._client = client
        self._task_id = task_id
        #: Cancelled by an interrupt of the kernel rather than by ``cancel()``.
        self._interrupted = False

    def cancel(self) -> bool:
        if self._client is None or self.done() or super().running():
            return super().cancel()
        if self._client.cancel(self._task_id):
            return self._cancel_taken_off()
        self._mark_running()
        return False

    def _cancel_taken_off(self) -> bool:
        """Cancels the future of a task no worker will run, and tells ``wait()`` and
        ``as_completed()`` (which, in the standard library, the executor does)."""
        if not super().cancel():
            return False
        try:
            self.set_running_or_notify_cancel()
        except RuntimeError:  # another thread told them already
            pass
        return True

    def result(self, timeout: float | None = None) -> Any:
        return self._wait(timeout, super().result)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._wait(timeout, super().exception)

    def _wait(self, timeout: float | None, get: Callable[[float | None], Any]) -> Any:
        """``get`` (the standard library's result() or exception()), waiting in
        short steps with interrupts deferred: an interrupt inside it could leave the
        future's lock taken, and then no outcome could ever complete it."""
        if self.done():
            return get(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            _interrupts.check()
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = _WAIT_STEP if left is None else min(_WAIT_STEP, left)
            try:
                with _interrupts.deferred():
                    return get(step)
            except concurrent.futures.TimeoutError:
                if left is not None and left <= step:
                    raise

    def running(self) -> bool:
        if super().running():
            return True
        if self._client is None or self.done() or self._client.queued(self._task_id):
            return False
        return self._mark_running()

    def _mark_running(self) -> bool:
        """Records that a worker has the task (it may even have finished, its
        outcome on its way); false when the future was done meanwhile."""
        try:
            return self.set_running_or_notify_cancel()
        except RuntimeError:  # the outcome arrived first
            return False


class _Client:
    """The kernel's connection to its broker, in-process: ``send`` hands a message
    to the broker's thread, a daemon thread waits on ``receive`` (the GIL
    released) and completes the futures."""

    def __init__(self) -> None:
        self._send = _natives.futures_send
        self._receive = _natives.futures_receive
        self._cancel = _natives.futures_cancel
        self._queued = _natives.futures_queued
        self._parent = _natives.parent
        self._publish = _natives.publish_to
        self._ids = itertools.count(1)
        self._futures: dict[bytes, tuple[Future, Callable[[list], Any], Callable[[list], BaseException]]] = {}
        # The request (cell) each task was submitted from: its output goes there.
        self._parents: dict[bytes, bytes] = {}
        self._reader = threading.Thread(target=self._read, name="tandem-futures", daemon=True)
        self._reader.start()

    def submit(
        self,
        language: bytes,
        kind: bytes,
        data: list,
        decode: Callable[[list], Any],
        error: Callable[[list], BaseException] = _taskcodec.exception_of,
    ) -> Future:
        """Sends a task; ``decode`` makes the result of a success's frames,
        ``error`` the exception of a failure's."""
        task_id = str(next(self._ids)).encode()
        future = Future(self, task_id)
        self._futures[task_id] = (future, decode, error)
        parent = self._parent()
        if parent is not None:
            self._parents[task_id] = parent
        self._send([b"submit", task_id, language, kind, *data])
        return future

    def cancel(self, task_id: bytes) -> bool:
        """Takes a task off the pool's queue if no worker has it; returns whether it did."""
        if not self._cancel(task_id):
            return False
        self._futures.pop(task_id, None)
        self._parents.pop(task_id, None)
        return True

    def queued(self, task_id: bytes) -> bool:
        """Whether a task still waits for a worker."""
        return self._queued(task_id)

    def resize(self, language: bytes, workers: int) -> None:
        self._send([b"resize", language, str(workers).encode()])

    def _read(self) -> None:
        while True:
            for frames in self._receive(None):
                try:
                    self._handle(frames)
                except Exception as error:  # one bad message must not stop the reader
                    print(f"tandem futures: {error!r}", file=sys.__stderr__)

    def _relay(self, task_id: bytes, name: str, data: bytes) -> None:
        """A task's output, in the cell that submitted it, even once that cell ended."""
        text = data.decode("utf-8", "replace")
        parent = self._parents.get(task_id)
        if parent is None:
            stream = sys.stderr if name == "stderr" else sys.stdout
            stream.write(text)
            stream.flush()
            return
        flush_streams()  # what the cell printed itself goes out first
        self._publish(parent, "stream", dumps({"name": name, "text": text}), b"{}", [])

    def _handle(self, frames: list[bytes]) -> None:
        verb = frames[0]
        if verb == b"out":
            self._relay(frames[1], "stderr" if frames[2] == b"stderr" else "stdout", frames[3])
            return
        self._parents.pop(frames[1], None)
        entry = self._futures.pop(frames[1], None)
        if entry is None:
            return
        future, decode, error = entry
        if future.cancelled():
            return
        if verb == b"done" and frames[2] == b"ok":
            try:
                result = decode(frames[3:])
            except BaseException as failure:
                future.set_exception(failure)
            else:
                future.set_result(result)
        elif verb == b"done":
            future.set_exception(error(frames[3:]))
        elif verb == b"failed" and frames[2] == b"cancelled":
            # The broker took it off the queue (an interrupt): no need to ask it again.
            future._interrupted = True
            future._cancel_taken_off()
        else:
            future.set_exception(WorkerLost(frames[3].decode("utf-8", "replace")))


_client: _Client | None = None
_client_lock = threading.Lock()


def client() -> _Client:
    """The kernel's connection to its broker, made at first use."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                if not _natives.provided("futures_send"):
                    raise RuntimeError(
                        "tandem futures run inside the Tandem kernel; outside it use "
                        "concurrent.futures or tandem.executor(dask=...)"
                    )
                # Made whole or not at all: an interrupt inside (starting the reader
                # thread waits for it) left a reader without its client, and that
                # orphan then took outcomes the next client waited for in vain.
                with _interrupts.deferred():
                    _client = _Client()
    return _client


def _submit_call(function: list[bytes], args: Any, kwargs: dict, chunked: bool = False) -> Future:
    data = [function[0], pickled_arguments(args, kwargs, chunked), *function[1:]]
    return client().submit(b"py", b"call", data, unpickle)


class Executor(TrackingExecutor):
    """A ``concurrent.futures.Executor`` on the kernel's worker pool: ``submit``,
    ``map``, ``with`` blocks, ``wait``/``as_completed`` and callbacks work as in the
    standard library. Every executor shares the one pool of the kernel;
    ``max_workers`` resizes it."""

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__()
        if max_workers is not None:
            if max_workers < 1:
                raise ValueError("max_workers must be at least 1")
            client().resize(b"py", max_workers)

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        self._check_open()
        return self._track(_submit_call(pickled_function(fn), args, kwargs))

    def map(
        self, fn: Callable, *iterables: Iterable, timeout: float | None = None, chunksize: int = 1
    ) -> Iterator:
        self._check_open()
        futures = [self._track(f) for f in _map_futures(fn, zip(*iterables), chunksize)]
        return _results_in_order(futures, timeout, chunksize > 1)


def _map_futures(fn: Callable, items: Iterable[tuple], chunksize: int) -> list[Future]:
    if chunksize < 1:
        raise ValueError("chunksize must be at least 1")
    function = pickled_function(fn)  # once for the whole map
    items = iter(items)
    if chunksize == 1:
        return [_submit_call(function, item, {}) for item in items]
    futures = []
    while chunk := list(itertools.islice(items, chunksize)):
        futures.append(_submit_call(function, chunk, {}, chunked=True))
    return futures


def _results_in_order(futures: list[Future], timeout: float | None, chunked: bool) -> Iterator:
    # As the standard library's map: results in order, `timeout` for the whole map
    # from the call; leaving early cancels the rest.
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        for future in futures:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if chunked:
                yield from future.result(left)
            else:
                yield future.result(left)
    finally:
        for future in futures:
            future.cancel()


def executor(max_workers: int | None = None, *, dask: Any = None) -> concurrent.futures.Executor:
    """A ``concurrent.futures.Executor``: on the kernel's worker pool, or with
    ``dask=`` (a ``distributed.Client`` or a scheduler address) on a Dask cluster."""
    if dask is not None:
        from ._dask import DaskExecutor

        return DaskExecutor(dask)
    return Executor(max_workers)


def submit(fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
    """Runs ``fn(*args, **kwargs)`` on a worker; returns its Future."""
    return _submit_call(pickled_function(fn), args, kwargs)


def map(
    fn: Callable,
    *iterables: Iterable,
    chunksize: int | None = None,
    progress: bool = True,
) -> list:
    """``[fn(*args) for args in zip(*iterables)]`` on the worker pool, with a
    progress bar in the cell. ``chunksize`` items travel per task (by default
    enough for about eight tasks per worker)."""
    from ._progress import Progress

    items = list(zip(*iterables))
    if chunksize is None:
        workers = os.cpu_count() or 1
        chunksize = max(1, len(items) // (workers * 8))
    futures = _map_futures(fn, items, chunksize)
    chunked = chunksize > 1
    bar = Progress(len(items), f"tandem.map({name_of(fn)})") if progress and items else None
    try:
        done_items = 0
        pending = set(futures)
        sizes = {f: chunksize for f in futures}
        if chunked and items:
            sizes[futures[-1]] = len(items) - chunksize * (len(futures) - 1)
        while pending:
            _interrupts.check()
            # wait() takes every future's lock: cut short, it would keep them.
            with _interrupts.deferred():
                done, pending = concurrent.futures.wait(
                    pending, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED
                )
            if bar:
                done_items += sum(sizes[f] for f in done)
                bar.update(done_items)
        results = []
        for future in futures:
            if chunked:
                results.extend(future.result())
            else:
                results.append(future.result())
        return results
    except BaseException as error:
        for future in futures:
            future.cancel()
        if _ended_by_interrupt(error, futures):
            # Whichever reached this thread first (a task cancelled by the interrupt,
            # or a worker's KeyboardInterrupt), the cell was interrupted.
            raise KeyboardInterrupt from None
        raise
    finally:
        if bar:
            bar.close()


def _ended_by_interrupt(error: BaseException, futures: list[Future]) -> bool:
    if isinstance(error, concurrent.futures.CancelledError):
        return any(future._interrupted for future in futures)
    return isinstance(error, KeyboardInterrupt) and isinstance(error.__cause__, RemoteTraceback)


def submit_r(code: str, /, **inputs: Any) -> Future:
    """Runs R ``code`` on an R worker with ``inputs`` as R variables; the Future's
    result is the value of the code's last expression, converted to Python."""
    return client().submit(b"r", b"expr", r_task(code, inputs), decode_r_value, r_error)
