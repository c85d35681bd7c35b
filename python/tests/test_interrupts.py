"""Where an interrupt may land: the standard library's waits on futures take every
future's lock in a Python loop, and an interrupt there must not keep any."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import threading

import pytest

from tandem import _interrupts


@pytest.fixture
def tandem_handler():
    previous = signal.getsignal(signal.SIGINT)
    original = concurrent.futures._base._AcquireFutures
    _interrupts.install(None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        concurrent.futures._base._AcquireFutures = original
        _interrupts.drop_pending()


class _InterruptingLock:
    """A future's lock that delivers SIGINT to this process as it is taken, so
    that the interrupt lands inside the loop that takes the futures' locks."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.fired = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        taken = self._lock.acquire(blocking, timeout)
        if not self.fired:
            self.fired = True
            os.kill(os.getpid(), signal.SIGINT)
        return taken

    def release(self) -> None:
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *args) -> None:
        self.release()

    def _is_owned(self) -> bool:
        return self._lock._is_owned()


def _futures_with_a_trap(count: int) -> tuple[list[concurrent.futures.Future], _InterruptingLock]:
    futures = [concurrent.futures.Future() for _ in range(count)]
    trap = _InterruptingLock()
    futures[1]._condition = threading.Condition(trap)
    return futures, trap


@pytest.mark.parametrize("wait", ["wait", "as_completed"])
def test_an_interrupt_while_the_locks_are_taken_keeps_none(tandem_handler, wait):
    futures, trap = _futures_with_a_trap(5)
    with pytest.raises(KeyboardInterrupt):
        with _interrupts.allowed():
            if wait == "wait":
                concurrent.futures.wait(futures, timeout=30)
            else:
                list(concurrent.futures.as_completed(futures, timeout=30))
    assert trap.fired
    # Every lock is free again: another thread can take each one, and the futures
    # still complete.
    def take_all() -> bool:
        return all(future._condition.acquire(timeout=1) and (future._condition.release() or True) for future in futures)

    result: list[bool] = []
    taker = threading.Thread(target=lambda: result.append(take_all()))
    taker.start()
    taker.join(10)
    assert result == [True]
    for number, future in enumerate(futures):
        future.set_result(number)
    assert [future.result(timeout=1) for future in futures] == list(range(5))


def test_outside_the_cell_an_interrupt_waits_for_the_next_one(tandem_handler):
    futures, trap = _futures_with_a_trap(3)
    for number, future in enumerate(futures):
        future.set_result(number)
    # Not in a cell: recorded, not raised, and the wait completes.
    done, _ = concurrent.futures.wait(futures, timeout=5)
    assert trap.fired and len(done) == 3
    with pytest.raises(KeyboardInterrupt):
        with _interrupts.allowed():
            pass
