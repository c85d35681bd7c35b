"""Subshells (JEP 91, protocol 5.5), side by side with ipykernel 7.4 in the same
environment: create, list and delete on control; requests on a subshell run on a
thread of their own, concurrently with the main shell; busy/idle and replies name
the subshell's request; stop_on_error aborts only the failing subshell's queue; an
ipywidgets slider answers its observer while the main shell sleeps. Tandem's own:
a subshell's output kept apart from the main shell's, R code refused in a
subshell by name, input from a subshell, and requests for a deleted subshell
answered with an error."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from conftest import PYTHON, install_ipykernel, running_kernel

IPYKERNEL = install_ipykernel(PYTHON, "ipykernel-tandem-env")
BOTH = ["tandem", IPYKERNEL]


def control(kc, msg_type: str, content: dict | None = None) -> dict:
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = kc.get_control_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply
    raise AssertionError(f"no reply to {msg_type}")


def create(kc) -> str:
    content = control(kc, "create_subshell_request")["content"]
    assert content["status"] == "ok", content
    return content["subshell_id"]


def listed(kc) -> list[str]:
    return control(kc, "list_subshell_request")["content"]["subshell_id"]


def send(kc, code: str, subshell: str | None, msg_type: str = "execute_request", **content) -> str:
    msg = kc.session.msg(msg_type, {"code": code, **content} if code or msg_type == "execute_request" else content)
    msg["header"]["subshell_id"] = subshell
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def replies(kc, msg_ids: list[str], timeout: float = 60) -> list[dict]:
    """The shell replies to `msg_ids`, in that order."""
    found: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    # Other replies may come first (a late kernel_info reply from the start).
    while not set(msg_ids) <= found.keys() and time.monotonic() < deadline:
        reply = kc.get_shell_msg(timeout=timeout)
        found[reply["parent_header"].get("msg_id")] = reply
    missing = [msg_id for msg_id in msg_ids if msg_id not in found]
    assert not missing, f"no reply to {missing}"
    return [found[msg_id] for msg_id in msg_ids]


def stdout(kc, code: str, subshell: str | None) -> str:
    """Runs `code` on `subshell`; what it printed."""
    msg_id = send(kc, code, subshell)
    text = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert replies(kc, [msg_id])[0]["content"]["status"] == "ok"
    return "".join(text).strip()


@pytest.mark.parametrize("name", BOTH)
def test_kernel_info_offers_subshells_and_protocol_5_5(name):
    with running_kernel(name) as (_, kc):
        info = kc.kernel_info(reply=True)["content"]
        assert "kernel subshells" in info["supported_features"]
        if name == "tandem":  # ipykernel 7.4 still says 5.3 here; its kernelspec says 5.5
            assert info["protocol_version"] == "5.5"


@pytest.mark.parametrize("name", BOTH)
def test_subshells_are_created_listed_and_deleted(name):
    with running_kernel(name) as (_, kc):
        assert listed(kc) == []
        first, second = create(kc), create(kc)
        assert first != second
        assert listed(kc) == [first, second]
        assert control(kc, "delete_subshell_request", {"subshell_id": first})["content"]["status"] == "ok"
        assert listed(kc) == [second]
        gone = control(kc, "delete_subshell_request", {"subshell_id": first})["content"]
        assert gone["status"] == "error"
        assert control(kc, "delete_subshell_request", {"subshell_id": second})["content"]["status"] == "ok"
        assert listed(kc) == []


@pytest.mark.parametrize("name", BOTH)
def test_a_subshell_is_a_thread_of_its_own_that_ends_with_it(name):
    with running_kernel(name) as (_, kc):
        stdout(kc, "import threading", None)
        count = "print(threading.active_count())"
        before = int(stdout(kc, count, None))
        subshell = create(kc)
        assert int(stdout(kc, count, None)) == before + 1
        ids = "print(threading.get_ident() == threading.main_thread().ident)"
        assert stdout(kc, ids, None) == "True"
        assert stdout(kc, ids, subshell) == "False"
        # State is shared: one namespace, one interpreter.
        stdout(kc, "shared = 6 * 7", subshell)
        assert stdout(kc, "print(shared)", None) == "42"
        control(kc, "delete_subshell_request", {"subshell_id": subshell})
        deadline = time.monotonic() + 10
        while int(stdout(kc, count, None)) != before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert int(stdout(kc, count, None)) == before


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("on_subshells", [(False, True), (True, False), (True, True)])
def test_two_sleeping_cells_run_at_once(name, on_subshells):
    """The second cell checks, while it runs, that the first is running too."""
    with running_kernel(name) as (_, kc):
        shells = [create(kc) if on else None for on in on_subshells]
        # Cells that ran one after the other would break the barrier (timeout).
        stdout(kc, "import threading, time; barrier = threading.Barrier(2, timeout=10); print('ok')", None)
        codes = [
            "barrier.wait(); started = True; ended = False; time.sleep(1); ended = True",
            "barrier.wait(); time.sleep(0.5); assert started and not ended; time.sleep(1); assert ended",
        ]
        msg_ids = [send(kc, code, shell) for code, shell in zip(codes, shells)]
        for answer, shell in zip(replies(kc, msg_ids), shells):
            assert answer["content"]["status"] == "ok", answer["content"]
            assert answer["parent_header"].get("subshell_id") == shell


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("on_subshells", [(False, True), (True, False), (True, True)])
def test_an_error_aborts_only_its_own_subshells_queue(name, on_subshells):
    with running_kernel(name) as (_, kc):
        shells = [create(kc) if on else None for on in on_subshells]
        msg_ids = [
            send(kc, "import time; time.sleep(1); raise ValueError('first')", shells[0]),
            send(kc, "print('hello')", shells[0]),
            send(kc, "print('goodbye')", shells[0]),
            send(kc, "import time; time.sleep(1.5)", shells[1]),
            send(kc, "print('other')", shells[1]),
        ]
        answers = replies(kc, msg_ids)
        statuses = [answer["content"]["status"] for answer in answers]
        assert statuses == ["error", "aborted", "aborted", "ok", "ok"]
        owners = [answer["parent_header"].get("subshell_id") for answer in answers]
        assert owners == [shells[0]] * 3 + [shells[1]] * 2
        # The abort ends with the queue it emptied.
        assert replies(kc, [send(kc, "print('again')", shells[0])])[0]["content"]["status"] == "ok"


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("on_subshells", [(False, True), (True, True)])
def test_busy_and_idle_name_each_shells_request(name, on_subshells):
    with running_kernel(name, setup="import time") as (_, kc):
        shells = [create(kc) if on else None for on in on_subshells]
        msg_ids = [send(kc, "time.sleep(0.5)", shell) for shell in shells]
        statuses = []
        deadline = time.monotonic() + 30
        while len(statuses) < 4 and time.monotonic() < deadline:
            msg = kc.get_iopub_msg(timeout=30)
            if msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") in msg_ids:
                statuses.append(msg)
        states = Counter(m["content"]["execution_state"] for m in statuses)
        assert states == {"busy": 2, "idle": 2}
        parents = Counter(m["parent_header"]["msg_id"] for m in statuses)
        assert parents == {msg_ids[0]: 2, msg_ids[1]: 2}
        owners = Counter(m["parent_header"].get("subshell_id") for m in statuses)
        assert owners == Counter({shells[0]: 2}) + Counter({shells[1]: 2})
        # Both busy before either is idle: they overlapped.
        assert [m["content"]["execution_state"] for m in statuses][:2] == ["busy", "busy"]
        replies(kc, msg_ids)


@pytest.mark.parametrize("name", BOTH)
def test_control_answers_at_once_while_a_cell_runs(name):
    with running_kernel(name) as (_, kc):
        running = send(kc, "import time; time.sleep(1)", None)
        created = control(kc, "create_subshell_request")
        finished = replies(kc, [running])[0]
        assert created["header"]["date"] < finished["header"]["date"]


SLIDER = """
import ipywidgets as widgets
slider = widgets.IntSlider(value=1)
label = widgets.Label(value="start")
def follow(change):
    label.value = f"slider at {change['new']}"
slider.observe(follow, names="value")
print(slider.model_id, label.model_id)
"""


def slider_update_during_sleep(name: str, sleep: int) -> tuple[list, bool]:
    """Sends a slider update on a subshell while the main shell runs
    `time.sleep(sleep)`. Returns the comm messages the update caused (in order, ids
    as names) and whether they all came out while the sleep still ran."""
    with running_kernel(name) as (km, kc):
        slider, label = stdout(kc, SLIDER, None).split()
        names = {slider: "slider", label: "label"}
        subshell = create(kc)
        sleeping = send(kc, f"import time; time.sleep({sleep})", None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the sleep runs
            msg = kc.get_iopub_msg(timeout=10)
            if msg["parent_header"].get("msg_id") == sleeping and msg["msg_type"] == "execute_input":
                break
        update = send(
            kc, "", subshell, "comm_msg", comm_id=slider,
            data={"method": "update", "state": {"value": 42}, "buffer_paths": []},
        )
        caused, asleep = [], True
        deadline = time.monotonic() + sleep + 20
        while time.monotonic() < deadline:
            msg = kc.get_iopub_msg(timeout=sleep + 20)
            parent, kind = msg["parent_header"].get("msg_id"), msg["msg_type"]
            if parent == sleeping and kind == "status" and msg["content"]["execution_state"] == "idle":
                asleep = False
            if parent != update:
                continue
            if kind == "comm_msg":
                caused.append((names[msg["content"]["comm_id"]], msg["content"]["data"]))
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                break
        if asleep:
            km.interrupt_kernel()
        assert replies(kc, [sleeping])[0]["content"]["status"] == ("error" if asleep else "ok")
        assert stdout(kc, "print(slider.value, label.value)", None) == "42 slider at 42"
        return caused, asleep


def test_a_slider_answers_its_observer_while_the_main_shell_sleeps():
    """As JupyterLab sends widget messages on a subshell: the slider's update, sent
    while the main shell runs `time.sleep(30)`, reaches the observer, and the label's
    update comes out while the sleep still runs. ipykernel 7.4 answers with the same
    messages, but only once the sleeping cell has ended (it runs comm messages on
    the main shell's thread), so it runs a short sleep here."""
    tandem, during = slider_update_during_sleep("tandem", 30)
    ipykernel, _ = slider_update_during_sleep(IPYKERNEL, 2)
    assert tandem == ipykernel
    assert ("label", {"method": "update", "state": {"value": "slider at 42"}, "buffer_paths": []}) in tandem
    assert during


@pytest.mark.parametrize("name", BOTH)
def test_the_subshell_magic_names_the_shell_and_lists_the_subshells(name):
    with running_kernel(name) as (_, kc):
        first, second = create(kc), create(kc)
        lines = lambda text: dict(line.split(": ", 1) for line in text.splitlines())  # noqa: E731
        main, on_first = lines(stdout(kc, "%subshell", None)), lines(stdout(kc, "%subshell", first))
        assert main["subshell id"] == "None" and on_first["subshell id"] == first
        assert main["subshell list"] == on_first["subshell list"] == str([first, second])
        assert main["thread id"] == main["main thread id"] != on_first["thread id"]


def test_a_subshells_output_goes_to_its_own_request():
    """Print, display and results from a subshell cell name the subshell's request,
    while the main shell prints at the same time."""
    with running_kernel("tandem") as (_, kc):
        subshell = create(kc)
        stdout(kc, "import threading; barrier = threading.Barrier(2)", None)
        loop = "barrier.wait()\nfor i in range(200):\n    print('{0}', i)\n"
        main = send(kc, loop.format("main"), None)
        sub = send(kc, loop.format("sub") + "from IPython.display import display\ndisplay('shown')\n7 * 6", subshell)
        texts = {main: "", sub: ""}
        outputs = {main: [], sub: []}
        idle = set()
        deadline = time.monotonic() + 60
        while len(idle) < 2 and time.monotonic() < deadline:
            msg = kc.get_iopub_msg(timeout=60)
            parent = msg["parent_header"].get("msg_id")
            if parent not in texts:
                continue
            if msg["msg_type"] == "stream":
                texts[parent] += msg["content"]["text"]
            elif msg["msg_type"] in ("display_data", "execute_result"):
                outputs[parent].append(msg["content"]["data"]["text/plain"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle.add(parent)
        assert texts[main] == "".join(f"main {i}\n" for i in range(200))
        assert texts[sub] == "".join(f"sub {i}\n" for i in range(200))
        assert outputs == {main: [], sub: ["'shown'", "42"]}
        assert [r["content"]["status"] for r in replies(kc, [main, sub])] == ["ok", "ok"]


def test_r_code_in_a_subshell_is_refused_by_name_and_r_stays_whole():
    """R's printed text reaches the kernel through the main shell's file
    descriptors, so R code runs on the main shell only: in a subshell it ends with
    an error saying so, and the R session goes on. R completion works there."""
    with running_kernel("tandem") as (_, kc):
        subshell = create(kc)
        stdout(kc, "%%R\nx <- 5", None)
        for cell in ["%%R\ncat(x * 2, '\\n')", "%R x + 1", "y = 3\n%Rpush y"]:
            reply = replies(kc, [send(kc, cell, subshell)])[0]["content"]
            assert reply["status"] == "error", cell
            assert "R code runs on the main shell only" in reply["evalue"], reply["evalue"]
        completion = replies(kc, [send(kc, "%%R\nsum(xy", subshell, "complete_request", cursor_pos=11)])
        assert completion[0]["content"]["status"] == "ok"
        assert stdout(kc, "%%R\ncat(x * 2, '\\n')", None) == "10"


def test_requests_for_a_deleted_subshell_are_answered_with_an_error():
    with running_kernel("tandem") as (_, kc):
        subshell = create(kc)
        control(kc, "delete_subshell_request", {"subshell_id": subshell})
        reply = replies(kc, [send(kc, "print('lost?')", subshell)])[0]["content"]
        assert reply["status"] == "error"
        assert reply["ename"] == "SubshellNotFound"
        assert "create_subshell_request" in reply["evalue"]
        # The main shell is untouched.
        assert stdout(kc, "print('main')", None) == "main"


def test_input_in_a_subshell_asks_with_the_subshells_request():
    with running_kernel("tandem") as (_, kc):
        subshell = create(kc)
        asking = send(kc, "answer = input('name? ')\nprint('hi', answer)", subshell, allow_stdin=True)
        request = kc.get_stdin_msg(timeout=30)
        assert request["content"]["prompt"] == "name? "
        assert request["parent_header"]["msg_id"] == asking
        kc.input("Ada")
        assert replies(kc, [asking])[0]["content"]["status"] == "ok"
        assert stdout(kc, "print(answer)", None) == "Ada"


def test_shutdown_with_a_subshell_ends_the_kernel():
    with running_kernel("tandem") as (km, kc):
        subshell = create(kc)
        send(kc, "import time; time.sleep(0.2)", subshell)
        kc.shutdown()
        deadline = time.monotonic() + 10
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not km.is_alive()
