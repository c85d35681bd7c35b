"""`get_ipython().kernel` and the libraries that use it, side by side with
ipykernel 7 (same environment, same ipywidgets and bokeh): ipywidgets' Output
widget in a cell, as a decorator and in a thread that outlives its cell; bokeh's
push_notebook through ipykernel.comm; a comm target registered on the kernel's
comm_manager, as pyviz_comms does. Checked at the message level: which request
each output names as its parent (what a frontend's Output widget captures by) and
which comm messages go out."""

from __future__ import annotations

import pytest

from conftest import PYTHON, install_ipykernel, running_kernel

IPYKERNEL = install_ipykernel(PYTHON, "ipykernel-tandem-env")


def run_traced(kc, code: str, cells: list[str]) -> list[tuple]:
    """Runs a cell; returns its IOPub messages until its idle status, described
    without ids: every request id becomes the index of the cell that sent it."""
    msg_id = kc.execute(code)
    cells.append(msg_id)
    events: list[tuple] = []
    while True:
        message = kc.get_iopub_msg(timeout=60)
        parent = message["parent_header"].get("msg_id")
        if message["msg_type"] == "status":
            if parent == msg_id and message["content"]["execution_state"] == "idle":
                break
            continue
        if message["msg_type"] == "execute_input":
            continue
        event = describe(message, cells)
        # Text may arrive in other chunks; what a reader sees is the text per parent.
        if event[0] == "stream" and events and events[-1][:3] == event[:3]:
            events[-1] = (*event[:3], events[-1][3] + event[3])
        else:
            events.append(event)
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            assert reply["content"]["status"] == "ok", reply["content"]
            return events


def cell_name(msg_id: str | None, cells: list[str]) -> str:
    if not msg_id:
        return ""
    return f"cell {cells.index(msg_id)}" if msg_id in cells else "another request"


def describe(message: dict, cells: list[str]) -> tuple:
    kind, content = message["msg_type"], message["content"]
    parent = cell_name(message["parent_header"].get("msg_id"), cells)
    if kind == "stream":
        return (kind, parent, content["name"], content["text"])
    if kind == "comm_msg":
        data = content["data"]
        if not isinstance(data, dict):
            return (kind, parent, type(data).__name__)
        state = data.get("state", {})
        if "msg_id" in state:
            return (kind, parent, "capture", cell_name(state["msg_id"], cells))
        return (kind, parent, data.get("method", ""), tuple(sorted(state)))
    if kind == "comm_open":
        return (kind, parent, content["target_name"])
    if kind in ("display_data", "execute_result"):
        return (kind, parent, tuple(sorted(content["data"])))
    if kind == "error":
        return (kind, parent, content["ename"])
    return (kind, parent)


def both(cells_code: list[str]) -> dict[str, list[list[tuple]]]:
    """The traces of the same cells under ipykernel and under Tandem."""
    traces = {}
    for name in (IPYKERNEL, "tandem"):
        with running_kernel(name) as (km, kc):
            cells: list[str] = []
            traces[name] = [run_traced(kc, code, cells) for code in cells_code]
    return traces


OUTPUT_WIDGET = """
import ipywidgets as widgets
out = widgets.Output()
display(out)
with out:
    print("inside")
    display("shown inside")
print("outside")
"""

CAPTURE = """
@out.capture()
def report():
    print("from the decorated function")
report()
print("after it")
"""


def test_output_widget_captures_what_ipykernel_lets_it_capture():
    traces = both([OUTPUT_WIDGET, CAPTURE])
    assert traces["tandem"] == traces[IPYKERNEL]
    first, second = traces["tandem"]
    # The widget points at the cell while the text and display go to it, then lets go.
    captures = [e for e in first if e[:3] == ("comm_msg", "cell 0", "capture")]
    assert [e[3] for e in captures] == ["cell 0", ""]
    inside = first.index(("stream", "cell 0", "stdout", "inside\n"))
    assert first.index(captures[0]) < inside < first.index(captures[1])
    assert ("stream", "cell 0", "stdout", "outside\n") in first[first.index(captures[1]):]
    assert [e[3] for e in second if e[:3] == ("comm_msg", "cell 1", "capture")] == ["cell 1", ""]


THREAD_START = """
import threading, time
import ipywidgets as widgets
out = widgets.Output()
go, done = threading.Event(), threading.Event()
def work():
    with out:
        print("first")
        go.wait(30)
        print("late")
    done.set()
threading.Thread(target=work).start()
time.sleep(0.5)
"""

THREAD_FINISH = """
go.set()
done.wait(30)
print("after")
"""


def test_a_thread_that_chose_a_cell_keeps_writing_to_it_while_later_cells_run():
    traces = both([THREAD_START, THREAD_FINISH])
    assert traces["tandem"] == traces[IPYKERNEL]
    second = traces["tandem"][1]
    # "late" belongs to the first cell (the widget captures it), "after" to the second.
    assert ("stream", "cell 0", "stdout", "late\n") in second
    assert ("stream", "cell 1", "stdout", "after\n") in second


BOKEH_SHOW = """
from bokeh.io import output_notebook, push_notebook, show
from bokeh.plotting import figure
output_notebook(hide_banner=True)
plot = figure()
line = plot.line([1, 2, 3], [4, 5, 6])
handle = show(plot, notebook_handle=True)
"""

BOKEH_PUSH = """
line.data_source.data["y"] = [7, 8, 9]
push_notebook(handle=handle)
"""


def test_bokeh_push_notebook_sends_its_update_through_ipykernel_comm():
    traces = both([BOKEH_SHOW, BOKEH_PUSH])
    assert traces["tandem"] == traces[IPYKERNEL]
    show, push = traces["tandem"]
    assert [e for e in show if e[0] == "comm_open"], show
    assert [e for e in push if e[0] == "comm_msg"], push


@pytest.mark.parametrize("kernel", ["tandem"], indirect=True)
def test_a_target_registered_on_comm_manager_gets_the_frontends_comm(kernel):
    km, kc = kernel
    code = (
        "opened = []\n"
        "def on_open(comm, msg):\n"
        "    opened.append(msg['content']['data'])\n"
        "    comm.on_msg(lambda m: comm.send({'echo': m['content']['data']['n'] * 2}))\n"
        "get_ipython().kernel.comm_manager.register_target('pyviz-style', on_open)"
    )
    cells: list[str] = []
    assert run_traced(kc, code, cells) == []
    comm_id = "c0ffee"
    kc.session.send(
        kc.shell_channel.socket, "comm_open",
        {"comm_id": comm_id, "target_name": "pyviz-style", "data": {"hello": 1}},
    )
    kc.session.send(kc.shell_channel.socket, "comm_msg", {"comm_id": comm_id, "data": {"n": 21}})
    echoed = None
    for _ in range(200):
        message = kc.get_iopub_msg(timeout=30)
        if message["msg_type"] == "comm_msg" and message["content"]["comm_id"] == comm_id:
            echoed = message["content"]["data"]
            break
    assert echoed == {"echo": 42}
    assert run_traced(kc, "print(opened)", cells) == [("stream", "cell 1", "stdout", "[{'hello': 1}]\n")]


@pytest.mark.parametrize("kernel", ["tandem"], indirect=True)
def test_the_kernel_object_names_what_it_lacks(kernel):
    km, kc = kernel
    code = (
        "k = get_ipython().kernel\n"
        "print(k.get_parent()['header']['msg_type'], type(k.comm_manager).__name__)\n"
        "k.session.send(k.iopub_socket, 'display_data', {'data': {'text/plain': 'sent'}, 'metadata': {}})\n"
        "try:\n"
        "    k.shell_handlers\n"
        "except AttributeError as error:\n"
        "    print(error)\n"
        "try:\n"
        "    k.session.send('shell', 'execute_reply', {})\n"
        "except ValueError as error:\n"
        "    print('refused:', error)\n"
    )
    cells: list[str] = []
    events = run_traced(kc, code, cells)
    text = "".join(e[3] for e in events if e[0] == "stream")
    assert text.startswith("execute_request CommManager\n"), text
    assert "has no 'shell_handlers'" in text and "comm_manager" in text, text
    assert "refused: Tandem's kernel.session sends on kernel.iopub_socket only" in text, text
    assert ("display_data", "cell 0", ("text/plain",)) in events
