"""The Python half's kernel (``tandem._kernel``) served directly, without the Swift
kernel: in a fresh interpreter (it installs process-wide state: streams, the SIGINT
handler), with the natives it publishes through recording what it sends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

DRIVER = textwrap.dedent(
    """
    import json, sys
    from tandem import _natives
    published = []
    record = lambda kind, content: published.append((kind, json.loads(content)))
    _natives.provide({
        "publish": lambda kind, content, metadata, buffers: record(kind, content),
        "publish_to": lambda parent, kind, content, metadata, buffers: record(kind, content),
        "parent": lambda: json.dumps({"msg_id": "m1", "msg_type": "execute_request"}).encode(),
    })
    from tandem import _kernel
    kernel = _kernel.start("python")
    out = {"types": kernel.message_types(), "info": json.loads(kernel.kernel_info())}

    def handle(kind, content, count=0):
        status, body = kernel.handle(kind, json.dumps(content).encode(), [], "python", 0, count)
        return [status, json.loads(body)]

    cell = {"silent": False, "store_history": True}
    out["value"] = handle("execute_request", {**cell, "code": "x = 40\\nx + 2"}, 1)
    out["error"] = handle("execute_request", {**cell, "code": "1/0"}, 2)
    kernel.record_history("y <- 1", 3)
    out["complete"] = handle("complete_request", {"code": "impo", "cursor_pos": 4})
    out["is_complete"] = handle("is_complete_request", {"code": "for i in x:"})
    out["inspect"] = handle("inspect_request", {"code": "len", "cursor_pos": 3, "detail_level": 0})
    out["history"] = handle("history_request", {"hist_access_type": "tail", "n": 10, "output": False, "raw": True})
    out["comms"] = handle("comm_info_request", {})
    out["published"] = [entry for entry in published if entry[0] != "stream"]
    kernel.shutdown()
    sys.__stdout__.write(json.dumps(out) + "\\n")
    """
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    environment = {**os.environ, "HOME": str(home), "IPYTHONDIR": str(home / ".ipython")}
    result = subprocess.run(
        [sys.executable, "-c", DRIVER], capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_it_serves_what_ipykernel_serves_and_says_so(served):
    assert set(served["types"]) >= {"execute_request", "complete_request", "inspect_request", "history_request"}
    assert served["info"]["language_info"]["name"] == "python"
    assert served["info"]["language_info"]["version"] == ".".join(map(str, sys.version_info[:3]))


def test_a_cell_shows_its_input_and_value_under_the_kernels_number(served):
    status, reply = served["value"]
    assert (status, reply["execution_count"]) == ("ok", 1)
    assert ["execute_input", {"code": "x = 40\nx + 2", "execution_count": 1}] in served["published"]
    results = [content for kind, content in served["published"] if kind == "execute_result"]
    assert results == [{"execution_count": 1, "data": {"text/plain": "42"}, "metadata": {}}]


def test_an_error_is_replied_and_published_alike(served):
    status, reply = served["error"]
    assert (status, reply["ename"], reply["evalue"]) == ("error", "ZeroDivisionError", "division by zero")
    errors = [content for kind, content in served["published"] if kind == "error"]
    assert errors == [{key: reply[key] for key in ("ename", "evalue", "traceback")}]


def test_introspection_answers(served):
    assert served["complete"][1]["matches"] == ["import"]
    assert served["complete"][1]["cursor_start"] == 0 and served["complete"][1]["cursor_end"] == 4
    assert served["is_complete"][1] == {"status": "incomplete", "indent": "    "}
    assert served["inspect"][1]["found"] and "len(obj, /)" in served["inspect"][1]["data"]["text/plain"]
    assert served["comms"][1] == {"status": "ok", "comms": {}}


def test_history_holds_the_cells_of_every_engine(served):
    history = [entry[2] for entry in served["history"][1]["history"]]
    assert history == ["x = 40\nx + 2", "1/0", "y <- 1"]
