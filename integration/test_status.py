"""The pool panel, `tandem.status()` / `%tandem status` / `tandem::status()`, at the
message level: one display, updates in place while the cell runs, a last update
before the cell's reply, and figures that match the pool (its worker pids under the
kernel, their memory in /proc, the tasks the cell ran)."""

from __future__ import annotations

import html
import re

import pytest

from conftest import process_tree, pss, running_kernel, run_cell


def panel_messages(outputs):
    """The panel's display and its updates, in order."""
    return [
        (t, c) for t, c in outputs
        if t in ("display_data", "update_display_data") and "Tandem pool" in c["data"]["text/plain"]
    ]


def rows(content) -> list[dict[str, str]]:
    """The workers' rows of one panel message, read from its HTML table."""
    markup = content["data"]["text/html"]
    headings = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", markup)]
    found = []
    for row in re.findall(r"<tr[^>]*>((?:<td>.*?</td>)+)</tr>", markup):
        cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
        found.append(dict(zip(headings, cells)))
    return found


def megabytes(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[unit]


@pytest.fixture(scope="module")
def kernel():
    with running_kernel() as started:
        yield started


def test_the_panel_updates_in_place_and_ends_with_the_cell(kernel):
    km, kc = kernel
    msg_id = kc.execute(
        "import tandem, time\n"
        "tandem.status()\n"
        "def spin(seconds):\n"
        "    end = time.monotonic() + seconds\n"
        "    while time.monotonic() < end:\n"
        "        pass\n"
        "    return seconds\n"
        "futures = [tandem.submit(spin, 1.2) for _ in range(4)]\n"
        "print(sum(f.result() for f in futures))\n"
    )
    outputs = []
    while True:
        message = kc.get_iopub_msg(timeout=60)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append((message["msg_type"], message["content"]))
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=10)
    assert reply["content"]["status"] == "ok"
    panel = panel_messages(outputs)
    assert panel[0][0] == "display_data" and len(panel) >= 3, [t for t, _ in panel]
    assert all(t == "update_display_data" for t, _ in panel[1:])
    display_id = panel[0][1]["transient"]["display_id"]
    assert all(c["transient"]["display_id"] == display_id for _, c in panel)
    # The last update comes before the cell's idle status: a saved notebook keeps it.
    kinds = [t for t, _ in outputs]
    assert kinds.index("status", 1) > max(i for i, (t, c) in enumerate(outputs) if (t, c) in panel)

    # While the cell ran, the panel showed busy workers spinning: about one core
    # each on a quiet machine; CI's two cores also run the kernel and this client,
    # and a worker there was once measured at exactly half a core.
    busy = [row for _, c in panel for row in rows(c) if row["state"] == "busy"]
    assert busy, [c["data"]["text/plain"] for _, c in panel]
    assert max(float(row["CPU"].rstrip("%")) for row in busy if row["CPU"]) >= 30
    assert all(re.fullmatch(r"#\d+", row["task"]) for row in busy)

    final = panel[-1][1]
    text = final["data"]["text/plain"]
    assert "queued: Python 0" in text
    assert re.search(r"Python: .*\b4 finished", text), text
    assert "last 4 task durations" in text
    workers = rows(final)
    assert {row["state"] for row in workers} == {"idle"}
    assert sum(int(row["done"]) for row in workers) == 4
    # The pids are the kernel's own children, and their memory is what /proc says.
    kernel_pid = km.provisioner.process.pid
    pids = {int(row["pid"]) for row in workers}
    assert pids <= process_tree(kernel_pid)
    for row in workers:
        assert megabytes(row["memory"]) == pytest.approx(pss(int(row["pid"])) / 2**20, rel=0.25)
    # The panel's thread ended with its cell.
    _, outputs = run_cell(
        kc, "import threading\nprint(sum(t.name == 'tandem status panel' for t in threading.enumerate()))"
    )
    assert [c["text"] for t, c in outputs if t == "stream"] == ["0\n"]


def test_a_task_past_the_threshold_is_stuck_and_failures_mark_the_pool(kernel):
    km, kc = kernel
    content, outputs = run_cell(
        kc,
        "import tandem, time\n"
        "tandem.status(stuck_after=0.5)\n"
        "slow = tandem.submit(time.sleep, 2)\n"
        "bad = [tandem.submit(int, 'x') for _ in range(3)]\n"
        "errors = sum(1 for f in bad if f.exception() is not None)\n"
        "slow.result()\n"
        "print(errors)\n",
        timeout=60,
    )
    assert content["status"] == "ok", outputs
    panel = panel_messages(outputs)
    texts = [c["data"]["text/plain"] for _, c in panel]
    stuck = [c for _, c in panel if any(row["state"] == "STUCK" for row in rows(c))]
    assert stuck, texts
    assert any(re.search(r"STUCK: w\d+ running one task for over 500\.0 ms", t) for t in texts), texts
    assert 'style="color:#c00' in stuck[0]["data"]["text/html"]
    assert "FAILING: " in texts[-1] and "tasks failed in the last minute" in texts[-1], texts[-1]
    failed = int(re.search(r"FAILING: (\d+)", texts[-1]).group(1))
    assert failed >= 3
    # Later panels keep the user's threshold.
    _, outputs = run_cell(kc, "%tandem status")
    snapshot_text = panel_messages(outputs)[-1][1]["data"]["text/plain"]
    assert "Tandem pool:" in snapshot_text
    content, outputs = run_cell(kc, "import json; json.loads(tandem._natives.futures_status())['stuckAfter']")
    assert outputs[-2][1]["data"]["text/plain"] == "0.5"


def test_watch_waits_until_the_pool_is_idle(kernel):
    km, kc = kernel
    content, _ = run_cell(kc, "import tandem, time\nlater = [tandem.submit(time.sleep, 1) for _ in range(3)]")
    assert content["status"] == "ok"
    content, outputs = run_cell(kc, "tandem.status(watch=60)\nprint(all(f.done() for f in later))", timeout=90)
    assert content["status"] == "ok", outputs
    assert [c["text"] for t, c in outputs if t == "stream"] == ["True\n"]
    final = panel_messages(outputs)[-1][1]
    assert {row["state"] for row in rows(final)} == {"idle"}
    assert "queued: Python 0" in final["data"]["text/plain"]
    # %tandem counts the same workers.
    _, outputs = run_cell(kc, "%tandem")
    text = "".join(c["text"] for t, c in outputs if t == "stream")
    assert f"pool: {len(rows(final))} Python, 0 R workers running" in text, text


@pytest.mark.parametrize(
    "code, message",
    [
        ("tandem.status(stuck_after=-1)", "stuck_after must be a positive number of seconds"),
        ("tandem.status(watch=0)", "watch must be a positive number of seconds"),
        ("%tandem bogus", "%tandem does not know 'bogus': use %tandem [status"),
        ("%tandem status --watch soon", "use %tandem [status"),
        ("tandem.submit(tandem.status).result()", "call it in a Tandem notebook cell"),
    ],
)
def test_bad_calls_name_the_problem(kernel, code, message):
    km, kc = kernel
    content, outputs = run_cell(kc, "import tandem\n" + code, timeout=60)
    assert content["status"] == "error"
    assert message in content["evalue"], content


def test_r_shows_the_same_panel_with_its_workers():
    with running_kernel("tandem-r") as (km, kc):
        content, outputs = run_cell(
            kc,
            "library(future)\nplan(tandem::workers)\ntandem::status()\n"
            "fs <- lapply(1:3, function(i) future({Sys.sleep(0.7); i}))\nprint(sum(sapply(fs, value)))",
            timeout=120,
        )
        assert content["status"] == "ok", outputs
        # What the cell shows (R may write a line in two pieces, which can arrive
        # as two stream messages; frontends join them).
        assert "".join(c["text"] for t, c in outputs if t == "stream") == "[1] 6\n"
        panel = panel_messages(outputs)
        assert len(panel) >= 2
        final = panel[-1][1]
        assert re.search(r"R: .*\b3 finished", final["data"]["text/plain"]), final["data"]["text/plain"]
        workers = rows(final)
        assert {row["language"] for row in workers} == {"R"}
        assert sum(int(row["done"]) for row in workers) == 3
        assert {int(row["pid"]) for row in workers} <= process_tree(km.provisioner.process.pid)
        content, outputs = run_cell(kc, "tandem::status(stuck_after = 'soon')")
        assert content["status"] == "error"
        assert "stuck_after must be one positive number of seconds" in content["evalue"]


def test_python_displays_from_an_r_cell_reach_that_cell():
    with running_kernel("tandem-r") as (km, kc):
        msg_id = kc.execute("py_run('from IPython.display import display; display({\"text/plain\": \"from Python\"}, raw=True)')")
        while True:
            message = kc.get_iopub_msg(timeout=60)
            if message["msg_type"] == "display_data":
                assert message["parent_header"]["msg_id"] == msg_id
                assert message["content"]["data"] == {"text/plain": "from Python"}
                break
            assert not (message["msg_type"] == "status" and message["content"]["execution_state"] == "idle"
                        and message["parent_header"].get("msg_id") == msg_id), "no display reached the cell"
