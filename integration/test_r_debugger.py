"""R's debugger in cells: browser(), debug(), debugonce() and recover() stop at
R's prompt and take their commands from the frontend (input_request), as %debug
does for Python; Q ends the cell; without stdin (nbclient) the cell ends with an
R error saying why, never a browser that carries on by itself or a hang."""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import run_cell, stdout_of

FUNCTION = "f <- function(x) {\n  y <- x * 2\n  browser()\n  z <- y + 1\n  z * 10\n}\n"


def debug_session(kc, code: str, commands: list[str]) -> tuple[list[str], dict, list[tuple]]:
    """Runs `code`, answering each input request with the next command; returns
    the prompts, the reply and the cell's (type, text) outputs."""
    msg_id = kc.execute(code, allow_stdin=True)
    prompts = []
    for command in commands:
        request = kc.get_stdin_msg(timeout=30)
        assert request["parent_header"]["msg_id"] == msg_id
        prompts.append(request["content"]["prompt"])
        kc.input(command)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    outputs = []
    while True:
        message = kc.get_iopub_msg(timeout=30)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        if kind == "stream":
            outputs.append((content["name"], content["text"]))
        elif kind == "execute_result":
            outputs.append((kind, content["data"]["text/plain"]))
        elif kind == "error":
            outputs.append((kind, content["evalue"]))
    return prompts, reply["content"], outputs


def text(outputs: list[tuple], name: str = "stdout") -> str:
    return "".join(t for kind, t in outputs if kind == name)


@pytest.mark.parametrize("kernel", ["tandem-r"], indirect=True)
def test_browser_stops_steps_and_shows_the_functions_variables(kernel):
    km, kc = kernel
    prompts, reply, outputs = debug_session(kc, FUNCTION + "f(1)", ["y", "n", "n", "z", "c"])
    assert reply["status"] == "ok"
    # R's own prompts: stepping with n opens the next level, as in R's console.
    assert prompts == ["Browse[1]> ", "Browse[1]> ", "Browse[2]> ", "Browse[2]> ", "Browse[2]> "]
    # The cell's source is kept (as in IRkernel): each step names its line.
    assert text(outputs) == "Called from: f(1)\n[1] 2\ndebug at <text>#4: z <- y + 1\ndebug at <text>#5: z * 10\n[1] 3\n"
    assert ("execute_result", "[1] 30") in outputs
    # An error typed at the prompt shows, and the browser goes on, as in the console.
    prompts, reply, outputs = debug_session(kc, "f(3)", ["stop('typo')", "y <- 100", "c"])
    assert reply["status"] == "ok"
    assert "Error in f(3) : typo" in text(outputs, "stderr") + text(outputs)
    assert ("execute_result", "[1] 1010") in outputs


@pytest.mark.parametrize("kernel", ["tandem-r"], indirect=True)
def test_debugonce_debugs_one_call_and_q_ends_the_cell(kernel):
    km, kc = kernel
    code = "g <- function(a) {\n  b <- a + 1\n  b * 2\n}\ndebugonce(g)\ng(5)"
    prompts, reply, outputs = debug_session(kc, code, ["n", "n", "b", "c"])
    assert reply["status"] == "ok"
    assert text(outputs).startswith("debugging in: g(5)\n")
    assert "[1] 6\n" in text(outputs) and ("execute_result", "[1] 12") in outputs
    # Once only: the next call runs straight through.
    assert run_cell(kc, "g(5)")[0]["status"] == "ok"
    prompts, reply, outputs = debug_session(kc, FUNCTION + "f(2)", ["Q"])
    assert reply["status"] == "error" and reply["ename"] == "ERROR"
    assert "Q: the browser was left" in reply["evalue"]
    assert not [o for o in outputs if o[0] == "execute_result"]
    assert stdout_of(run_cell(kc, "cat('still here')")[1]) == "still here"


@pytest.mark.parametrize("kernel", ["tandem-r"], indirect=True)
def test_recover_offers_the_frames_and_browses_the_one_chosen(kernel):
    km, kc = kernel
    code = (
        "options(error = recover)\n"
        "inner <- function(v) { secret <- v * 7; stop('deep failure') }\n"
        "outer <- function() inner(6)\n"
        "outer()"
    )
    prompts, reply, outputs = debug_session(kc, code, ["2", "secret", "c", "0"])
    assert prompts[:2] == ["Selection: ", "Browse[1]> "]
    shown = text(outputs)
    # The cell's frames only, as R's console lists them; the kernel's are left out.
    assert shown.startswith("Error in inner(6) : deep failure\n"), shown
    assert "1: outer()\n2: inner(6)\n" in shown and "3:" not in shown and "user_eval" not in shown
    assert "Called from: inner(6)\n[1] 42\n" in shown
    assert reply["status"] == "error" and "deep failure" in reply["evalue"]


@pytest.mark.parametrize("kernel", ["tandem"], indirect=True)
def test_browser_in_an_r_magic_cell_of_the_python_kernel(kernel):
    km, kc = kernel
    prompts, reply, outputs = debug_session(kc, "%%R\n" + FUNCTION + "f(4)", ["y", "c"])
    assert reply["status"] == "ok"
    assert prompts == ["Browse[1]> ", "Browse[1]> "]
    assert "[1] 8\n" in text(outputs)
    assert ("execute_result", "[1] 90") in outputs


@pytest.mark.parametrize("kernel", ["tandem-r"], indirect=True)
def test_an_interrupt_at_the_browser_prompt_ends_the_cell(kernel):
    km, kc = kernel
    msg_id = kc.execute(FUNCTION + "f(1)", allow_stdin=True)
    kc.get_stdin_msg(timeout=30)
    time.sleep(0.2)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert stdout_of(run_cell(kc, "cat(exists('f'))")[1]) == "TRUE"


@pytest.mark.parametrize("name", ["tandem-r", "tandem"])
def test_without_stdin_a_browser_ends_the_cell_with_an_error_under_nbclient(name):
    prefix = "" if name == "tandem-r" else "%%R\n"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(prefix + FUNCTION + "f(1)")]
    # A browser waiting for commands would end in nbclient's timeout instead.
    client = NotebookClient(notebook, kernel_name=name, timeout=60)
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    assert "does not support input" in str(failure.value)
    assert "remove browser(), debug() and debugonce()" in str(failure.value)
