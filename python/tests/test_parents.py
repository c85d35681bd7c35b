"""Which request Python's output belongs to, as ipykernel decides it: the running
request, unless the kernel's thread chose another parent for the request it runs,
or another thread chose one for itself; routed text goes by the line."""

from __future__ import annotations

import importlib
import io
import json
import threading

import pytest

import tandem._natives
from tandem import _parents


class Kernel:
    """The natives `_parents` uses, recording what it sends: ``running`` is the
    header of the request the kernel runs."""

    def __init__(self) -> None:
        self.running: dict = {"msg_id": "A", "msg_type": "execute_request"}
        self.to_running: list[tuple[str, dict]] = []
        self.to_parent: list[tuple[str, str, dict]] = []

    def natives(self) -> dict:
        return {
            "parent": lambda: json.dumps(self.running).encode(),
            "publish": lambda kind, content, metadata, buffers: self.to_running.append((kind, json.loads(content))),
            "publish_to": lambda parent, kind, content, metadata, buffers: self.to_parent.append(
                (json.loads(parent)["msg_id"], kind, json.loads(content))
            ),
        }


@pytest.fixture
def kernel():
    natives = importlib.reload(tandem._natives)
    fake = Kernel()
    natives.provide(fake.natives())
    _parents._override.set(None)
    yield fake
    _parents._override.set(None)
    _parents._routed.clear()
    importlib.reload(tandem._natives)


def test_a_parent_is_a_message_or_a_header_and_reads_like_ipykernels():
    header = {"msg_id": "X", "msg_type": "execute_request"}
    assert _parents.header_of({"header": header}) == header
    assert _parents.header_of(header) == header
    assert _parents.header_of(None) == {}
    parent = _parents.message(header)
    assert (parent["msg_id"], parent["msg_type"], parent["header"]) == ("X", "execute_request", header)
    assert _parents.message({}) == {}


def test_output_goes_to_the_running_request_unless_another_parent_was_chosen(kernel):
    assert _parents.current()["msg_id"] == "A"
    _parents.publish("display_data", {"data": {}})
    assert kernel.to_running == [("display_data", {"data": {}})]
    # An Output widget captures into request W while A runs.
    token = _parents.set_parent({"msg_id": "W"})
    assert _parents.current()["msg_id"] == "W"
    _parents.publish("display_data", {"data": {"n": 1}})
    assert kernel.to_parent == [("W", "display_data", {"data": {"n": 1}})]
    # Chosen on the kernel's thread, it holds for the request that chose it only.
    kernel.running = {"msg_id": "B"}
    assert _parents.current()["msg_id"] == "B"
    kernel.running = {"msg_id": "A"}
    _parents.reset_parent(token)
    assert _parents.current()["msg_id"] == "A"


def test_a_parent_given_with_the_message_wins_and_the_running_one_goes_the_usual_way(kernel):
    _parents.publish("stream", {"text": "x"}, parent={"header": {"msg_id": "Z"}})
    _parents.publish("stream", {"text": "y"}, parent={"msg_id": "A"})
    assert kernel.to_parent == [("Z", "stream", {"text": "x"})]
    assert kernel.to_running == [("stream", {"text": "y"})]


def test_a_parent_another_thread_chose_outlives_the_request(kernel):
    seen = []

    def worker():
        _parents.set_parent({"msg_id": "T"})
        seen.append(_parents.current()["msg_id"])
        kernel.running = {"msg_id": "C"}
        seen.append(_parents.current()["msg_id"])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert seen == ["T", "T"]
    assert _parents.current()["msg_id"] == "C"  # this thread chose nothing


def test_routed_text_goes_by_the_line_and_the_rest_at_flush(kernel):
    stream = _parents.parent_stream(io.BytesIO(), "stdout", _parents._RoutingStream)
    assert stream.stream_name == "stdout"
    stream.write("plain ")  # no parent chosen: through the buffer, like a file
    assert kernel.to_parent == []
    _parents.set_parent({"msg_id": "W"})
    stream.write("half")
    assert kernel.to_parent == [] and _parents.has_routed()
    stream.write(" a line\nand more")
    assert kernel.to_parent == [("W", "stream", {"name": "stdout", "text": "half a line\nand more"})]
    stream.write("tail")
    stream.flush()
    assert kernel.to_parent[-1] == ("W", "stream", {"name": "stdout", "text": "tail"})
    assert not _parents.has_routed()
    stream.write("x" * (_parents._ROUTED_CHUNK + 1))
    assert len(kernel.to_parent[-1][2]["text"]) == _parents._ROUTED_CHUNK + 1
    assert stream.buffer.getvalue() == b"plain "


def test_text_for_a_new_parent_sends_the_old_parents_first(kernel):
    stream = _parents.parent_stream(io.BytesIO(), "stderr", _parents._RoutingStream)
    _parents.set_parent({"msg_id": "P"})
    stream.write("for P")
    _parents.set_parent({"msg_id": "Q"})
    stream.write("for Q\n")
    assert [(parent, content["text"]) for parent, _, content in kernel.to_parent] == [("P", "for P"), ("Q", "for Q\n")]
