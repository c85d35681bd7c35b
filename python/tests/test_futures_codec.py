"""The pure parts of the futures protocol: how a task's failure travels."""

from __future__ import annotations

import pickle

from tandem import _errors, _taskcodec


def _raise(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_an_exception_comes_back_as_itself_with_the_worker_traceback():
    frames = _taskcodec.error_outcome(_raise(KeyError("missing")))
    assert frames[0] == b"error"
    error = _taskcodec.exception_of(frames[1:])
    assert isinstance(error, KeyError) and error.args == ("missing",)
    assert isinstance(error.__cause__, _taskcodec.RemoteTraceback)
    assert "KeyError: 'missing'" in str(error.__cause__)
    assert "_raise" in str(error.__cause__)


class Unrebuildable(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def test_an_exception_that_cannot_be_rebuilt_arrives_as_text():
    frames = _taskcodec.error_outcome(_raise(Unrebuildable(1, 2)))
    assert frames[1] == b""  # its class cannot be unpickled with one argument
    error = _taskcodec.exception_of(frames[1:])
    assert isinstance(error, _errors.TaskError)
    assert str(error) == "Unrebuildable: 1/2"


def test_results_pickle_with_the_standard_pickler_when_they_can():
    assert pickle.loads(_taskcodec.dumps({"a": [1, 2.5]})) == {"a": [1, 2.5]}
    square = _taskcodec.dumps(lambda x: x * x)  # cloudpickle for what pickle cannot do
    assert pickle.loads(square)(4) == 16
