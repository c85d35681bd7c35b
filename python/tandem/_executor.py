"""What every executor Tandem makes shares, whichever pool runs its tasks (the
kernel's, in :mod:`tandem._futures`, or a Dask cluster's, in :mod:`tandem._dask`)."""

from __future__ import annotations

import concurrent.futures


class TrackingExecutor(concurrent.futures.Executor):
    """What Tandem's executors share: they remember their pending futures, so that
    ``shutdown`` can wait for them or cancel them."""

    def __init__(self) -> None:
        self._futures: set[concurrent.futures.Future] = set()
        self._shutdown = False

    def _check_open(self) -> None:
        if self._shutdown:
            raise RuntimeError("cannot submit after shutdown")

    def _track(self, future: concurrent.futures.Future) -> concurrent.futures.Future:
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True
        pending = list(self._futures)
        if cancel_futures:
            for future in pending:
                future.cancel()
        if wait:
            concurrent.futures.wait(pending)
