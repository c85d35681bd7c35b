"""Protocol behaviour beyond the conformance suite, through jupyter_client."""

from __future__ import annotations

import time
import uuid

from conftest import run_cell, stdout_of


def collect_iopub(kc, msg_id, timeout=10):
    """IOPub messages of one request, up to its idle status."""
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise AssertionError("no idle status")


def test_input_round_trip(kernel):
    km, kc = kernel
    msg_id = kc.execute("name = input('your name: ')\nprint('hi', name)", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=10)
    assert request["msg_type"] == "input_request"
    assert request["content"] == {"prompt": "your name: ", "password": False}
    kc.input("Ada")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "ok"
    outputs = collect_iopub(kc, msg_id)
    text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    assert "hi Ada" in text


def test_getpass_asks_for_a_password(kernel):
    km, kc = kernel
    kc.execute("import getpass\nsecret = getpass.getpass()", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=10)
    assert request["content"]["password"] is True
    kc.input("s3cret")
    assert kc.get_shell_msg(timeout=10)["content"]["status"] == "ok"
    reply, outputs = run_cell(kc, "print(len(secret))")
    assert stdout_of(outputs) == "6\n"


def test_input_without_stdin_is_a_clear_error(kernel):
    km, kc = kernel
    reply, _ = run_cell(kc, "input()", allow_stdin=False)
    assert reply["status"] == "error"
    assert reply["ename"] == "StdinNotImplementedError"


def test_comm_round_trip(kernel):
    km, kc = kernel
    setup = (
        "import comm\n"
        "def _target(c, msg):\n"
        "    c.send({'opened': msg['content']['data']})\n"
        "    c.on_msg(lambda m: c.send({'echo': m['content']['data']}))\n"
        "comm.get_comm_manager().register_target('tandem.echo', _target)\n"
    )
    assert run_cell(kc, setup)[0]["status"] == "ok"
    comm_id = uuid.uuid4().hex
    open_msg = kc.session.msg(
        "comm_open", {"comm_id": comm_id, "target_name": "tandem.echo", "data": {"x": 1}}
    )
    kc.shell_channel.send(open_msg)
    messages = collect_iopub(kc, open_msg["header"]["msg_id"])
    sent = [m["content"] for m in messages if m["msg_type"] == "comm_msg"]
    assert sent == [{"comm_id": comm_id, "data": {"opened": {"x": 1}}}]

    data_msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"ping": [1, 2]}})
    kc.shell_channel.send(data_msg)
    messages = collect_iopub(kc, data_msg["header"]["msg_id"])
    sent = [m["content"]["data"] for m in messages if m["msg_type"] == "comm_msg"]
    assert sent == [{"echo": {"ping": [1, 2]}}]

    info_id = kc.comm_info(target_name="tandem.echo")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == info_id
    assert reply["content"]["comms"] == {comm_id: {"target_name": "tandem.echo"}}


def test_widget_opens_a_comm_and_displays(kernel):
    km, kc = kernel
    msg_id = kc.execute("import ipywidgets\nw = ipywidgets.IntSlider(value=7)\nw")
    messages = collect_iopub(kc, msg_id, timeout=30)
    types = [m["msg_type"] for m in messages]
    assert "comm_open" in types
    results = [m for m in messages if m["msg_type"] == "execute_result"]
    assert "application/vnd.jupyter.widget-view+json" in results[0]["content"]["data"]


def test_stop_on_error_aborts_queued_executions(kernel):
    km, kc = kernel
    first = kc.execute("import time; time.sleep(0.5); raise RuntimeError('boom')")
    second = kc.execute("print('must not run')")
    third = kc.execute("1", stop_on_error=False)
    replies = {}
    while len(replies) < 3:
        msg = kc.get_shell_msg(timeout=10)
        replies[msg["parent_header"]["msg_id"]] = msg["content"]
    assert replies[first]["status"] == "error"
    assert replies[second]["status"] == "aborted"
    assert replies[third]["status"] == "aborted"
    reply, outputs = run_cell(kc, "print('runs again')")
    assert stdout_of(outputs) == "runs again\n"


def test_no_abort_without_stop_on_error(kernel):
    km, kc = kernel
    first = kc.execute("raise RuntimeError('boom')", stop_on_error=False)
    second = kc.execute("2")
    statuses = {}
    while len(statuses) < 2:
        msg = kc.get_shell_msg(timeout=10)
        statuses[msg["parent_header"]["msg_id"]] = msg["content"]["status"]
    assert statuses == {first: "error", second: "ok"}


def test_fd_level_output_from_c_and_subprocesses(kernel):
    km, kc = kernel
    code = (
        "import ctypes, os, subprocess, sys\n"
        "print('python')\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.printf(b'from C\\n')\n"
        "subprocess.run(['echo', 'from a subprocess'])\n"
        "os.write(2, b'raw fd 2\\n')\n"
        "!echo from bang\n"
    )
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok"
    out = stdout_of(outputs)
    assert out.index("python") < out.index("from a subprocess") < out.index("from bang")
    assert "from C" in out
    err = "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")
    assert "raw fd 2" in err


def test_output_order_between_print_and_display(kernel):
    km, kc = kernel
    code = "from IPython.display import display\nprint('a')\ndisplay('b')\nprint('c')"
    reply, outputs = run_cell(kc, code)
    seq = [
        c["text"].strip() if t == "stream" else c["data"]["text/plain"].strip("'")
        for t, c in outputs
        if t in ("stream", "display_data")
    ]
    assert seq == ["a", "b", "c"]


def test_update_display_by_id(kernel):
    km, kc = kernel
    code = (
        "from IPython.display import display\n"
        "h = display('first', display_id='progress')\n"
        "h.update('second')"
    )
    reply, outputs = run_cell(kc, code)
    shown = [(t, c["data"]["text/plain"], c["transient"]) for t, c in outputs if "data" in c]
    assert shown == [
        ("display_data", "'first'", {"display_id": "progress"}),
        ("update_display_data", "'second'", {"display_id": "progress"}),
    ]


def test_matplotlib_inline_png_and_pandas_html(kernel):
    km, kc = kernel
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 3, 2])\n"
        "plt.show()\n"
    )
    reply, outputs = run_cell(kc, code, timeout=60)
    assert reply["status"] == "ok"
    images = [c for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
    assert len(images) == 1
    reply, outputs = run_cell(kc, "import pandas as pd\npd.DataFrame({'a': [1, 2]})")
    result = [c for t, c in outputs if t == "execute_result"][0]
    assert "<table" in result["data"]["text/html"]


def test_libraries_see_a_notebook_frontend(kernel):
    km, kc = kernel
    code = (
        "from pandas.io.formats.console import in_ipython_frontend\n"
        "shell = get_ipython()\n"
        "print(in_ipython_frontend(), type(shell).__name__, 'IPKernelApp' in shell.config)\n"
    )
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok"
    assert stdout_of(outputs).split() == ["True", "ZMQInteractiveShell", "True"]
    reply, outputs = run_cell(kc, "from tqdm.auto import trange\nfor i in trange(3):\n    pass")
    assert reply["status"] == "ok"
    widget = "application/vnd.jupyter.widget-view+json"
    widgets = [c for t, c in outputs if t == "display_data" and widget in c["data"]]
    assert widgets, "tqdm.auto should draw a widget progress bar, as under ipykernel"


def test_top_level_await_and_async_comprehension(kernel):
    km, kc = kernel
    code = "import asyncio\nasync def f():\n    return 7\nawait asyncio.sleep(0)\nawait f()"
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok"
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["7"]
    code = "async def g():\n    yield 1\n    yield 2\n[x async for x in g()]"
    reply, outputs = run_cell(kc, code)
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["[1, 2]"]


def test_silent_and_store_history(kernel):
    km, kc = kernel
    before, _ = run_cell(kc, "1")
    reply, outputs = run_cell(kc, "x_silent = 5\nx_silent", silent=True)
    types = [t for t, _ in outputs]
    assert "execute_input" not in types and "execute_result" not in types
    after, _ = run_cell(kc, "x_silent")
    assert after["execution_count"] == before["execution_count"] + 1


def test_user_expressions(kernel):
    km, kc = kernel
    reply, _ = run_cell(kc, "y = 21", user_expressions={"double": "y * 2", "bad": "1/0"})
    assert reply["user_expressions"]["double"]["data"]["text/plain"] == "42"
    assert reply["user_expressions"]["bad"]["status"] == "error"


def test_control_answers_while_a_cell_runs(kernel):
    km, kc = kernel
    kc.execute("import time; time.sleep(3)")
    time.sleep(0.3)
    msg = kc.session.msg("kernel_info_request")
    started = time.monotonic()
    kc.control_channel.send(msg)
    reply = kc.control_channel.get_msg(timeout=2)
    assert reply["content"]["implementation"] == "tandem"
    assert time.monotonic() - started < 1.0
    km.interrupt_kernel()
    kc.get_shell_msg(timeout=5)


def test_restart_gives_fresh_session(kernel):
    km, kc = kernel
    run_cell(kc, "lost = 1")
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=30)
    reply, _ = run_cell(kc, "lost")
    assert reply["status"] == "error" and reply["ename"] == "NameError"


def test_shutdown_request_ends_the_process(kernel):
    km, kc = kernel
    kc.shutdown()
    reply = kc.get_control_msg(timeout=10) if hasattr(kc, "get_control_msg") else kc.control_channel.get_msg(timeout=10)
    assert reply["content"] == {"status": "ok", "restart": False}
    deadline = time.monotonic() + 5
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not km.is_alive()


def test_kernel_exits_when_its_launcher_dies(tmp_path):
    """As with ipykernel, a kernel whose client process died does not linger (nor its R)."""
    import os
    import signal
    import subprocess
    import sys

    launcher = (
        "import sys, time\n"
        "from jupyter_client.manager import start_new_kernel\n"
        "km, kc = start_new_kernel(kernel_name='tandem', startup_timeout=30)\n"
        "kc.execute_interactive('%R 1', timeout=30, output_hook=lambda m: None)\n"
        "print(km.provisioner.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, text=True)
    kernel_pid = int(process.stdout.readline())
    children = subprocess.run(["pgrep", "-P", str(kernel_pid)], capture_output=True, text=True).stdout.split()
    assert children, "R should be running"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    alive = [kernel_pid, *map(int, children)]
    while alive and time.monotonic() < deadline:
        alive = [
            pid for pid in alive
            if os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]
        ]
        time.sleep(0.2)
    assert not alive, f"still running: {alive}"
