"""The natives module: what the kernel provides replaces the stubs, what it did not
raises an error naming the function, and a name it does not know is refused."""

from __future__ import annotations

import importlib

import pytest

import tandem._natives
from tandem._errors import NativeUnavailable


@pytest.fixture
def natives():
    module = importlib.reload(tandem._natives)
    yield module
    importlib.reload(tandem._natives)


def test_a_native_not_provided_raises_naming_it(natives):
    with pytest.raises(NativeUnavailable, match="futures_send is provided by the Tandem kernel with its worker pool"):
        natives.futures_send([b"x"])
    with pytest.raises(NativeUnavailable, match="r_call .* when it runs R"):
        natives.r_call(b"{}", [])
    assert not natives.provided("r_call")


def test_provided_natives_replace_the_stubs(natives):
    calls = []
    natives.provide({"publish": lambda *args: calls.append(args)})
    natives.publish("stream", b"{}", b"{}", [])
    assert calls == [("stream", b"{}", b"{}", [])]
    assert natives.provided("publish")
    assert not natives.provided("request_input")


def test_an_unknown_native_is_refused(natives):
    with pytest.raises(TypeError, match="does not know: \\['frobnicate'\\]"):
        natives.provide({"frobnicate": print})
    with pytest.raises(TypeError):
        natives.provide({"NativeUnavailable": print})
