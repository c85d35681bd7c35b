"""A pool worker (``python -m tandem._worker``) against a broker played by the
test over a real ZeroMQ socket: it says ready, runs calls, sends their output
while they run and their outcome after, turns a failure or an interrupt into an
outcome, drops an interrupt that came while it was idle, and stops when told."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time

import pytest
import zmq

from tandem import _taskcodec
from tandem._worker import evaluate


@pytest.fixture
def broker(tmp_path):
    context = zmq.Context()
    socket = context.socket(zmq.ROUTER)
    endpoint = f"ipc://{tmp_path}/broker"
    socket.bind(endpoint)
    socket.setsockopt(zmq.RCVTIMEO, 20_000)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tandem._worker", "--connect", endpoint, "--id", "w1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        yield socket, worker
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(10)
        socket.close(0)
        context.term()


def call(socket, task_id: bytes, function, *args) -> None:
    socket.send_multipart([b"w1", b"task", task_id, b"call", pickle.dumps(function), pickle.dumps((args, {}, False))])


def outcome(socket, task_id: bytes) -> tuple[list[tuple[bytes, str]], list[bytes]]:
    """The output the task sent while it ran, and its outcome's frames."""
    output = []
    while True:
        frames = socket.recv_multipart()
        assert frames[0] == b"w1"
        if frames[1] == b"out":
            assert frames[2] == task_id
            output.append((frames[3], frames[4].decode()))
        else:
            assert frames[1:3] == [b"done", task_id], frames
            return output, frames[3:]


def test_a_worker_runs_calls_and_sends_their_output_and_outcomes(broker):
    socket, worker = broker
    ready = socket.recv_multipart()
    assert ready[:3] == [b"w1", b"ready", b"py"] and int(ready[3]) == worker.pid
    call(socket, b"t1", abs, -3)
    output, frames = outcome(socket, b"t1")
    assert output == [] and frames[0] == b"ok" and pickle.loads(frames[1]) == 3
    call(socket, b"t2", print, "hello")
    output, frames = outcome(socket, b"t2")
    assert "".join(text for name, text in output if name == b"stdout") == "hello\n"
    call(socket, b"t3", int, "x")
    output, frames = outcome(socket, b"t3")
    assert frames[0] == b"error"
    error = _taskcodec.exception_of(frames[1:])
    assert isinstance(error, ValueError) and "invalid literal" in str(error)
    socket.send_multipart([b"w1", b"stop"])
    assert worker.wait(10) == 0


def test_an_interrupt_ends_the_running_task_and_one_while_idle_is_dropped(broker):
    socket, worker = broker
    socket.recv_multipart()  # ready
    call(socket, b"t1", time.sleep, 30)
    time.sleep(0.5)
    os.kill(worker.pid, signal.SIGINT)
    _, frames = outcome(socket, b"t1")
    assert frames[0] == b"error"
    assert isinstance(_taskcodec.exception_of(frames[1:]), KeyboardInterrupt)
    os.kill(worker.pid, signal.SIGINT)  # while idle: meant for a task that ended
    time.sleep(0.2)
    call(socket, b"t2", abs, -5)
    _, frames = outcome(socket, b"t2")
    assert frames[0] == b"ok" and pickle.loads(frames[1]) == 5
    assert worker.poll() is None


def test_code_from_r_shows_its_last_expression_as_a_cell_does():
    assert evaluate("x = 2\nx * 21", {}) == 42
    assert evaluate("y = 1", {}) is None
    namespace = {"a": 3}
    assert evaluate("a + 1", namespace) == 4 and "__builtins__" in namespace
