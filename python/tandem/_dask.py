"""``tandem.executor(dask=...)``: the same executor API on an existing Dask cluster.

Tandem does not grow a scheduler of its own for many machines; this adapter turns
``distributed`` futures into ``concurrent.futures`` ones, so code written for the
kernel's pool runs on a cluster unchanged. R tasks (``submit_r``, ``map_r``) run on
Tandem's R worker beside each Dask worker (:mod:`tandem._dask_workers`).
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any, Callable, Iterable, Iterator

from ._dask_clients import count_task, ensure_r, refuse_downgrade, used
from ._executor import TrackingExecutor


class DaskExecutor(TrackingExecutor):
    """A ``concurrent.futures.Executor`` submitting to a Dask cluster.

    ``client`` is a ``distributed.Client`` or a scheduler address (then a client is
    made, and closed by ``shutdown``)."""

    def __init__(self, client: Any) -> None:
        from distributed import Client

        super().__init__()
        if isinstance(client, str):
            refuse_downgrade(client)
        self._owns_client = not isinstance(client, Client)
        self.client = used(Client(client) if self._owns_client else client)

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        from ._dask_workers import located

        self._check_open()
        return self._wrap(self.client.submit(located, fn, *args, pure=False, **kwargs), "py")

    def submit_r(self, code: str, /, **inputs: Any) -> concurrent.futures.Future:
        """Runs R ``code`` with ``inputs`` as R variables on the R worker beside a
        Dask worker; the future's result is the value of its last expression,
        converted to Python (an R error raises ``tandem.RError``)."""
        from ._dask_workers import run_r
        from ._rtasks import r_task

        self._check_open()
        ensure_r(self.client)
        return self._wrap(self.client.submit(run_r, b"expr", r_task(code, inputs), pure=False), "r", _r_result)

    def map_r(self, code: str, /, **iterables: Iterable) -> Iterator:
        """``submit_r(code, name=item, ...)`` for each item of the named iterables
        taken together (as ``map`` zips them); the results in order."""
        names = list(iterables)
        futures = [self.submit_r(code, **dict(zip(names, items))) for items in zip(*iterables.values())]
        return (future.result() for future in futures)

    def _wrap(
        self, remote: Any, language: str, transform: Callable[[Any], Any] | None = None
    ) -> concurrent.futures.Future:
        """A ``concurrent.futures`` future settled by the Dask one, whose result is
        the worker's address and a value (passed through ``transform``, when given);
        its end is counted in the kernel's metrics, labelled by that worker."""
        future = self._track(_DaskFuture(remote))
        submitted = time.monotonic()

        def settle(done: Any) -> None:
            worker, state = "unknown", "failed"
            try:
                if done.status == "cancelled":
                    state = "cancelled"
                    concurrent.futures.Future.cancel(future)
                elif done.status == "error":
                    future.set_exception(done.exception())
                else:
                    worker, value = done.result()
                    result = transform(value) if transform else value  # an R error raises here
                    state = "finished"
                    future.set_result(result)
            except BaseException as error:  # the future carries whatever went wrong
                if not future.done():
                    future.set_exception(error)
            finally:
                count_task(language, state, worker, time.monotonic() - submitted)

        remote.add_done_callback(settle)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait, cancel_futures=cancel_futures)
        if self._owns_client:
            self.client.close()


class _DaskFuture(concurrent.futures.Future):
    """Cancelling it cancels the task on the cluster too."""

    def __init__(self, remote: Any) -> None:
        super().__init__()
        self._remote = remote

    def cancel(self) -> bool:
        cancelled = super().cancel()
        if cancelled:
            self._remote.cancel()
        return cancelled


def _r_result(outcome: list[bytes]) -> Any:
    """The Python value of an R task's outcome frames, or its R error raised."""
    from ._rtasks import decode_r_value, r_error

    if outcome[0] == b"ok":
        return decode_r_value(outcome[1:])
    raise r_error(outcome[1:])
