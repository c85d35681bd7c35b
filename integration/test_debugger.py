"""The Python debugger through jupyter_client, as JupyterLab's debugger panel
drives it: the behaviour of ipykernel's own debugger tests (initialize, attach,
dumpCell, setBreakpoints, the stopped event, stackTrace, scopes, variables,
richInspectVariables, copyToGlobals, continue, disconnect), run side by side
with ipykernel 7.4 in the same environment and compared where a user would see
the answer. Then what Tandem adds: the debugger starts again after a disconnect,
answers while a cell is stopped, and shows neither its own threads nor its
frames."""

from __future__ import annotations

import itertools
import os
import time

import pytest

from conftest import PYTHON, install_ipykernel, run_cell, running_kernel

IPYKERNEL = install_ipykernel(PYTHON, "ipykernel-tandem-env")
BOTH = ["tandem", IPYKERNEL]
_seq = itertools.count(1)

CELL = """def f(a, b):
    c = a + b
    return c

f(2, 3)"""


def debug(kc, command: str, arguments: dict | None = None) -> dict:
    msg = kc.session.msg(
        "debug_request", {"type": "request", "seq": next(_seq), "command": command, "arguments": arguments or {}}
    )
    kc.control_channel.send(msg)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = kc.get_control_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]
    raise AssertionError(f"no reply to {command}")


def start(kc) -> None:
    reply = debug(kc, "initialize", {
        "clientID": "test-client", "clientName": "testClient", "adapterID": "", "pathFormat": "path",
        "linesStartAt1": True, "columnsStartAt1": True, "supportsVariableType": True,
        "supportsVariablePaging": True, "supportsRunInTerminalRequest": True, "locale": "en",
    })
    assert reply["success"], reply
    assert debug(kc, "attach")["success"]


def stopped_event(kc, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["msg_type"] == "debug_event" and msg["content"].get("event") == "stopped":
            return msg
    raise AssertionError("never stopped")


def break_in(kc, code: str, line: int) -> tuple[str, dict]:
    """Sets a breakpoint at `line` of cell `code`, runs it and waits for the stop;
    returns the cell's file and the stopped event."""
    source = debug(kc, "dumpCell", {"code": code})["body"]["sourcePath"]
    reply = debug(kc, "setBreakpoints", {
        "breakpoints": [{"line": line}], "source": {"path": source}, "sourceModified": False,
    })
    assert reply["success"]
    assert [(b["verified"], b["source"]["path"]) for b in reply["body"]["breakpoints"]] == [(True, source)]
    assert source in [b["source"] for b in debug(kc, "debugInfo")["body"]["breakpoints"]]
    assert debug(kc, "configurationDone")["success"]
    kc.execute(code)
    return source, stopped_event(kc)


def frame_variables(kc, frame_id: int, scope: str) -> dict[str, dict]:
    scopes = debug(kc, "scopes", {"frameId": frame_id})["body"]["scopes"]
    reference = next(s["variablesReference"] for s in scopes if s["name"] == scope)
    found = debug(kc, "variables", {"variablesReference": reference})["body"]["variables"]
    return {v["name"]: v for v in found}


def finish(kc, event: dict) -> dict:
    assert debug(kc, "continue", {"threadId": event["content"]["body"]["threadId"]})["success"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = kc.get_shell_msg(timeout=30)
        if reply["msg_type"] == "execute_reply":
            return reply["content"]
    raise AssertionError("the cell never ended")


def session_at_breakpoint(name: str) -> dict:
    """What a user sees stopped at line 2 of CELL: the stop, the frames' names
    and lines, the locals, the rich view of `a`, and the cell's end."""
    with running_kernel(name) as (_, kc):
        info = kc.kernel_info(reply=True)["content"]
        assert "debugger" in info["supported_features"]
        if name == "tandem":  # ipykernel 7.4 leaves the older field out
            assert info["debugger"] is True
        start(kc)
        source, event = break_in(kc, CELL, 2)
        body = event["content"]["body"]
        frames = debug(kc, "stackTrace", {"threadId": body["threadId"]})["body"]["stackFrames"]
        local = frame_variables(kc, frames[0]["id"], "Locals")
        rich = debug(kc, "richInspectVariables", {"variableName": "a", "frameId": frames[0]["id"]})
        reply = finish(kc, event)
        assert debug(kc, "disconnect", {"restart": False, "terminateDebuggee": True})["success"]
        return {
            "reason": body["reason"],
            "frames": [(f["name"], f["line"], f["source"]["path"] == source) for f in frames],
            "locals": {k: (v["value"], v["type"]) for k, v in local.items() if k in "ab"},
            "rich": rich["body"]["data"],
            "status": reply["status"],
        }


def test_stopping_at_a_breakpoint_shows_what_ipykernel_shows():
    tandem = session_at_breakpoint("tandem")
    assert tandem == session_at_breakpoint(IPYKERNEL)
    assert tandem == {
        "reason": "breakpoint",
        # The stack ends at the cell: no frame of IPython's or the kernel's.
        "frames": [("f", 2, True), ("<module>", 5, True)],
        "locals": {"a": ("2", "int"), "b": ("3", "int")},
        "rich": {"text/plain": "2"},
        "status": "ok",
    }


@pytest.mark.parametrize("name", BOTH)
def test_a_breakpoint_after_leading_blank_lines(name):
    with running_kernel(name) as (_, kc):
        start(kc)
        code = "\n" + CELL
        _, event = break_in(kc, code, 6)
        assert event["content"]["body"]["reason"] == "breakpoint"
        assert finish(kc, event)["status"] == "ok"


def variables_between_cells(name: str) -> tuple[list, dict, dict]:
    with running_kernel(name) as (_, kc):
        start(kc)
        content, _ = run_cell(kc, "text = 'Hello the world'\nnumber = 42\nprint(text)")
        assert content["status"] == "ok"
        listed = debug(kc, "inspectVariables")["body"]["variables"]
        shown = sorted((v["name"], v["value"], v["type"]) for v in listed if v["name"] in ("text", "number"))
        rich = debug(kc, "richInspectVariables", {"variableName": "text"})["body"]
        html = debug(kc, "richInspectVariables", {"variableName": "number"})["body"]
        hidden = {v["name"] for v in listed} & {"In", "Out", "get_ipython", "exit", "quit"}
        assert not hidden
        return shown, rich, html


def test_variables_between_cells_as_ipykernel_shows_them():
    tandem = variables_between_cells("tandem")
    assert tandem == variables_between_cells(IPYKERNEL)
    shown, rich, _ = tandem
    assert shown == [("number", "42", "int"), ("text", "'Hello the world'", "str")]
    assert rich["data"] == {"text/plain": "'Hello the world'"}


def copy_to_globals(name: str) -> tuple:
    code = (
        "from IPython.core.display import HTML\n"
        "def my_test():\n"
        "    var = HTML('<p>test content</p>')\n"
        "    pass\n"
        "a = 2\n"
        "my_test()"
    )
    with running_kernel(name) as (_, kc):
        start(kc)
        _, event = break_in(kc, code, 4)
        frames = debug(kc, "stackTrace", {"threadId": event["content"]["body"]["threadId"]})["body"]["stackFrames"]
        copied = debug(kc, "copyToGlobals", {
            "srcVariableName": "var", "dstVariableName": "var_copy", "srcFrameId": frames[0]["id"],
        })
        assert copied["success"], copied
        local = frame_variables(kc, frames[0]["id"], "Locals")["var"]
        copy = frame_variables(kc, frames[0]["id"], "Globals")["var_copy"]
        rich = debug(kc, "richInspectVariables", {"variableName": "var", "frameId": frames[0]["id"]})["body"]
        assert finish(kc, event)["status"] == "ok"
        content, outputs = run_cell(kc, "print(var_copy.data)")
        printed = "".join(c["text"] for t, c in outputs if t == "stream")
        return (copy["value"] == local["value"], copy["type"], rich["data"].get("text/html"), printed)


def test_copy_to_globals_as_ipykernel_does():
    tandem = copy_to_globals("tandem")
    assert tandem == copy_to_globals(IPYKERNEL)
    assert tandem == (True, "HTML", "<p>test content</p>", "<p>test content</p>\n")


@pytest.mark.parametrize("name", BOTH)
def test_evaluate_and_source_and_modules(name):
    with running_kernel(name) as (_, kc):
        start(kc)
        evaluated = debug(kc, "evaluate", {"expression": "'a' + 'b'", "context": "repl"})
        assert evaluated["success"]
        if name == "tandem":  # ipykernel's adapter answers "" without a stopped frame
            assert evaluated["body"]["result"] == "'ab'"
        source = debug(kc, "dumpCell", {"code": CELL})["body"]["sourcePath"]
        assert debug(kc, "source", {"source": {"path": source}})["body"]["content"] == CELL
        missing = debug(kc, "source", {"source": {"path": source + ".missing"}})
        assert missing["success"] is False
        modules = debug(kc, "modules", {})["body"]
        shown = {m["name"]: m["path"] for m in modules["modules"]}
        assert shown["json"].endswith("json/__init__.py")
        assert modules["totalModules"] >= len(shown)


def test_the_debugger_starts_again_after_a_disconnect_and_hides_the_kernels_threads():
    with running_kernel("tandem") as (_, kc):
        for _ in range(2):
            start(kc)
            _, event = break_in(kc, CELL, 3)
            threads = debug(kc, "threads")["body"]["threads"]
            # Only the user's thread: the kernel's own (output, history, debugger) are hidden.
            assert [t["name"] for t in threads] == ["MainThread"]
            stopped = debug(kc, "debugInfo")["body"]["stoppedThreads"]
            assert stopped == [event["content"]["body"]["threadId"]]
            # Control requests are answered while the cell is stopped.
            info = kc.session.msg("kernel_info_request")
            kc.control_channel.send(info)
            assert kc.get_control_msg(timeout=10)["parent_header"]["msg_id"] == info["header"]["msg_id"]
            assert finish(kc, event)["status"] == "ok"
            assert debug(kc, "disconnect", {"restart": False, "terminateDebuggee": True})["success"]
        # Without the debugger the breakpoints are gone: the cell runs through,
        # and untraced (pydevd's tracing makes Python code some 25 times slower).
        content, _ = run_cell(kc, CELL)
        assert content["status"] == "ok"
        assert debug(kc, "debugInfo")["body"]["isStarted"] is False
        traced = "import sys\nprint(sys.gettrace() is not None)"
        assert "".join(c["text"] for t, c in run_cell(kc, traced)[1] if t == "stream") == "False\n"
        start(kc)
        assert "".join(c["text"] for t, c in run_cell(kc, traced)[1] if t == "stream") == "True\n"


def test_requests_before_initialize_are_refused_by_name():
    with running_kernel("tandem") as (_, kc):
        reply = debug(kc, "stackTrace", {"threadId": 1})
        assert reply["success"] is False
        assert "initialize" in reply["message"]
        info = debug(kc, "debugInfo")["body"]
        assert info["isStarted"] is False
        assert info["hashMethod"] == "Murmur2"
        assert info["tmpFilePrefix"].endswith("/") and info["tmpFileSuffix"] == ".py"


def test_an_interrupt_at_a_breakpoint_lets_the_cell_go_on_into_the_interrupt():
    """Interrupted while stopped, the cell goes on and is interrupted in its own
    code (raised inside the debugger it would stop the debugger tracing the
    thread for good); later breakpoints stop as before."""
    looping = "import time\ndef spin():\n    x = 1\n    while True:\n        time.sleep(0.01)\n\nspin()"
    with running_kernel("tandem") as (km, kc):
        start(kc)
        _, event = break_in(kc, looping, 3)
        km.interrupt_kernel()
        deadline = time.monotonic() + 30
        reply = None
        while reply is None and time.monotonic() < deadline:
            message = kc.get_shell_msg(timeout=30)
            if message["msg_type"] == "execute_reply":
                reply = message["content"]
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        assert any("while True" in line or "sleep" in line for line in reply["traceback"])
        assert debug(kc, "debugInfo")["body"]["stoppedThreads"] == []
        _, event = break_in(kc, CELL, 3)
        assert event["content"]["body"]["reason"] == "breakpoint"
        assert finish(kc, event)["status"] == "ok"


def test_a_debugged_kernel_removes_its_cell_files_when_it_shuts_down():
    with running_kernel("tandem") as (km, kc):
        start(kc)
        source = debug(kc, "dumpCell", {"code": CELL})["body"]["sourcePath"]
        folder = os.path.dirname(source)
        assert os.path.isfile(source) and os.stat(folder).st_mode & 0o077 == 0
        kc.shutdown()
        deadline = time.monotonic() + 10
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not km.is_alive()
    assert not os.path.exists(folder)
