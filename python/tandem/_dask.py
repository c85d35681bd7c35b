"""``tandem.executor(dask=...)``: the same executor API on an existing Dask cluster.

Tandem does not grow a scheduler of its own for many machines; this adapter turns
``distributed`` futures into ``concurrent.futures`` ones, so code written for the
kernel's pool runs on a cluster unchanged.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable

from ._executor import TrackingExecutor


class DaskExecutor(TrackingExecutor):
    """A ``concurrent.futures.Executor`` submitting to a Dask cluster.

    ``client`` is a ``distributed.Client`` or a scheduler address (then a client is
    made, and closed by ``shutdown``)."""

    def __init__(self, client: Any) -> None:
        from distributed import Client

        super().__init__()
        self._owns_client = not isinstance(client, Client)
        self.client = Client(client) if self._owns_client else client

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        self._check_open()
        remote = self.client.submit(fn, *args, pure=False, **kwargs)
        future = self._track(_DaskFuture(remote))

        def settle(done: Any) -> None:
            if future.cancelled():
                return
            try:
                if done.status == "cancelled":
                    concurrent.futures.Future.cancel(future)
                elif done.status == "error":
                    future.set_exception(done.exception())
                else:
                    future.set_result(done.result())
            except BaseException as error:  # the future carries whatever went wrong
                if not future.done():
                    future.set_exception(error)

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
