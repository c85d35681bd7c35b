"""The kernel's futures as the Python half keeps them, with the broker played by
the test through the natives: outcomes complete futures (a result, the task's
exception, a lost worker, a task the broker took back), a task's output goes to
the cell that submitted it, cancel() works only while no worker has the task, and
map gives results in order."""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import pickle
import queue
import threading

import pytest

import tandem._natives
from tandem import _futures, _taskcodec


class Broker:
    """The natives the futures client uses: what it sends is recorded, outcomes are
    handed to its reader thread by ``reply``."""

    def __init__(self) -> None:
        self.sent: list[list[bytes]] = []
        self.outcomes: queue.Queue = queue.Queue()
        self.queued: set[bytes] = set()
        self.published: list[tuple[str, dict]] = []
        self.parent: bytes | None = json.dumps({"msg_id": "cell-1"}).encode()

    def send(self, frames: list) -> None:
        self.sent.append([bytes(frame) for frame in frames])
        if frames[0] == b"submit":
            self.queued.add(bytes(frames[1]))

    def reply(self, *frames: bytes) -> None:
        self.queued.discard(frames[1])
        self.outcomes.put([list(frames)])

    def natives(self) -> dict:
        return {
            "futures_send": self.send,
            "futures_receive": lambda timeout: self.outcomes.get(),
            "futures_cancel": lambda task_id: task_id in self.queued and not self.queued.discard(task_id),
            "futures_queued": lambda task_id: task_id in self.queued,
            "parent": lambda: self.parent,
            "publish_to": lambda parent, kind, content, metadata, buffers: self.published.append(
                (json.loads(parent)["msg_id"], json.loads(content))
            ),
        }


@pytest.fixture
def broker():
    natives = importlib.reload(tandem._natives)
    fake = Broker()
    natives.provide(fake.natives())
    _futures._client = None
    yield fake
    _futures._client = None
    importlib.reload(tandem._natives)


def test_outcomes_complete_futures(broker):
    done = _futures.submit(abs, -2)
    failed = _futures.submit(int, "x")
    lost = _futures.submit(abs, 1)
    assert [frames[:2] for frames in broker.sent] == [[b"submit", b"1"], [b"submit", b"2"], [b"submit", b"3"]]
    assert broker.sent[0][2:4] == [b"py", b"call"]
    broker.reply(b"done", b"1", b"ok", _taskcodec.dumps(2))
    broker.reply(b"done", b"2", *_taskcodec.error_outcome(ValueError("bad")))
    broker.reply(b"failed", b"3", b"lost", b"the worker running it died (killed by signal 9)")
    assert done.result(10) == 2
    with pytest.raises(ValueError, match="bad"):
        failed.result(10)
    with pytest.raises(_futures.WorkerLost, match="killed by signal 9"):
        lost.result(10)


def test_a_task_the_broker_took_back_is_cancelled(broker):
    future = _futures.submit(abs, 1)
    broker.reply(b"failed", b"1", b"cancelled", b"")
    with pytest.raises(concurrent.futures.CancelledError):
        future.result(10)
    assert future._interrupted


def test_cancel_works_only_while_no_worker_has_the_task(broker):
    queued = _futures.submit(abs, 1)
    assert not queued.running()
    assert queued.cancel() and queued.cancelled()
    taken = _futures.submit(abs, 2)
    broker.queued.discard(b"2")  # a worker has it
    assert taken.running()
    assert not taken.cancel()
    broker.reply(b"done", b"2", b"ok", _taskcodec.dumps(2))
    assert taken.result(10) == 2


def test_a_tasks_output_goes_to_the_cell_that_submitted_it(broker):
    future = _futures.submit(print, "hi")
    broker.parent = json.dumps({"msg_id": "cell-2"}).encode()  # a later cell runs
    broker.reply(b"out", b"1", b"stdout", b"hi\n")
    broker.reply(b"done", b"1", b"ok", _taskcodec.dumps(None))
    future.result(10)
    assert broker.published == [("cell-1", {"name": "stdout", "text": "hi\n"})]


def test_an_executors_map_gives_results_in_order_however_they_arrive(broker):
    results = _futures.executor().map(abs, [-1, -2, -3], timeout=10)
    assert len(broker.sent) == 3  # submitted at the call, as the standard library's
    for task_id, value in [(b"3", 3), (b"1", 1), (b"2", 2)]:
        broker.reply(b"done", task_id, b"ok", _taskcodec.dumps(value))
    assert list(results) == [1, 2, 3]
    arguments = [pickle.loads(frames[5]) for frames in broker.sent]
    assert [args for args, kwargs, chunked in arguments] == [(-1,), (-2,), (-3,)]


def test_an_interrupt_while_the_client_is_made_leaves_one_client_and_one_reader(broker, monkeypatch):
    import signal

    from tandem import _interrupts

    previous = signal.getsignal(signal.SIGINT)
    _interrupts.install(None)
    start = threading.Thread.start

    def start_then_interrupt(thread):
        start(thread)
        signal.raise_signal(signal.SIGINT)  # lands while the client is being made

    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt)
    try:
        with _interrupts.allowed(), pytest.raises(KeyboardInterrupt):
            _futures.client()  # the cell's code: the interrupt is raised, once the client is whole
        monkeypatch.setattr(threading.Thread, "start", start)
        made = _futures._client
        assert made is not None and _futures.client() is made
        readers = [t for t in threading.enumerate() if t.name == "tandem-futures" and t is made._reader]
        assert len(readers) == 1
    finally:
        signal.signal(signal.SIGINT, previous)
        _interrupts.drop_pending()
