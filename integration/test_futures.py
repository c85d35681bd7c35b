"""Parallel futures through a real kernel: its broker, real Python and R worker
processes, real ZeroMQ, driven by jupyter_client as a notebook would.

Over 400 lines on purpose: the cases share one kernel and its warm worker pool,
whose start is most of their cost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import interrupt_running_cell, run_cell, running_kernel, stdout_of


@pytest.fixture(scope="module")
def pool():
    with running_kernel(setup="import os, time, tandem\nfrom concurrent.futures import wait, as_completed") as started:
        yield started


def ok(kc, code: str, timeout: float = 90) -> str:
    content, outputs = run_cell(kc, code, timeout=timeout)
    errors = [c for t, c in outputs if t == "error"]
    assert content["status"] == "ok", (code, errors and "\n".join(errors[0]["traceback"]))
    return stdout_of(outputs)


def failing(kc, code: str, timeout: float = 90) -> dict:
    content, outputs = run_cell(kc, code, timeout=timeout)
    assert content["status"] == "error", code
    return content


def values(kc, expr: str):
    return json.loads(ok(kc, f"import json; print(json.dumps(({expr})))"))


def both_workers_ready(kc) -> None:
    """Waits until both workers of the pool run tasks (one replacing a crashed worker may still be starting)."""
    ok(kc, "pids = set()\nwhile len(pids) < 2:\n    pids |= set(tandem.map(lambda _: time.sleep(0.05) or os.getpid(), range(4)))")


# --- Python -------------------------------------------------------------------


def test_submit_runs_in_other_processes_and_output_reaches_the_cell(pool):
    km, kc = pool
    ok(kc, "def where(i):\n    print('task', i, 'says hi')\n    time.sleep(0.2)\n    return os.getpid()")
    content, outputs = run_cell(kc, "pids = [f.result() for f in [tandem.submit(where, i) for i in range(4)]]")
    assert content["status"] == "ok"
    printed = stdout_of(outputs)
    for i in range(4):
        assert f"task {i} says hi" in printed
    pids = values(kc, "pids")
    kernel_pid = values(kc, "os.getpid()")
    assert kernel_pid not in pids
    assert len(set(pids)) >= 2  # two tasks ran side by side


def test_output_of_a_task_reaches_its_cell_after_the_cell_ended(pool):
    km, kc = pool
    ok(kc, "def late(tag):\n    time.sleep(1.0)\n    print('late from', tag, flush=True)\n    return tag")
    first = kc.execute("background = tandem.submit(late, 'first')")
    second = kc.execute("time.sleep(2.5)\nprint('second cell')")
    streams = []
    idle = set()
    while idle != {first, second}:
        msg = kc.get_iopub_msg(timeout=30)
        parent = msg["parent_header"].get("msg_id")
        if msg["msg_type"] == "stream":
            streams.append((parent, msg["content"]["text"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle.add(parent)
    late = [parent for parent, text in streams if "late from first" in text]
    assert late == [first], streams
    assert any(parent == second and "second cell" in text for parent, text in streams)
    assert values(kc, "background.result()") == "first"


def test_cancel_and_running_follow_the_standard_library(pool):
    km, kc = pool
    code = (
        "import concurrent.futures as cf\n"
        "with tandem.executor(max_workers=2) as ex:\n"
        "    busy = [ex.submit(time.sleep, 1.5) for _ in range(2)]\n"
        "    queued = ex.submit(time.sleep, 0)\n"
        "    deadline = time.time() + 10\n"
        "    while not all(f.running() for f in busy) and time.time() < deadline:\n"
        "        time.sleep(0.02)\n"
        "    print(all(f.running() for f in busy), queued.running())\n"
        "    print(busy[0].cancel(), queued.cancel(), queued.cancelled())\n"
        "    done, _ = cf.wait([queued], timeout=5)\n"
        "    print(queued in done, busy[0].result())\n"
    )
    assert ok(kc, code).split() == ["True", "False", "False", "True", "True", "True", "None"]


def test_wait_as_completed_callbacks_and_executor_api(pool):
    _, kc = pool
    code = (
        "ex = tandem.executor()\n"
        "futs = [ex.submit(pow, 2, i) for i in range(20)]\n"
        "done, not_done = wait(futs)\n"
        "seen = []\n"
        "futs[0].add_done_callback(lambda f: seen.append(f.result()))\n"
        "late = ex.submit(time.sleep, 0.2)\n"
        "late.add_done_callback(lambda f: seen.append('late'))\n"
        "completed = sorted(f.result() for f in as_completed(futs))\n"
        "with tandem.executor() as ex2:\n"
        "    mapped = list(ex2.map(divmod, range(10), [3] * 10, chunksize=4))\n"
        "late.result()\n"
        "time.sleep(0.05)\n"
    )
    ok(kc, code)
    assert values(kc, "[len(done), len(not_done)]") == [20, 0]
    assert values(kc, "completed") == sorted(2**i for i in range(20))
    assert values(kc, "mapped") == [list(divmod(i, 3)) for i in range(10)]
    assert values(kc, "seen") == [1, "late"]


def test_closures_and_notebook_globals_travel(pool):
    _, kc = pool
    ok(kc, "scale = 3\ndef make(offset):\n    return lambda x: x * scale + offset\nf = make(1)")
    assert values(kc, "tandem.map(f, range(5))") == [i * 3 + 1 for i in range(5)]
    ok(kc, "scale = 10")  # a later value of a global travels with the next submit
    assert values(kc, "tandem.submit(f, 2).result()") == 21
    ok(kc, "k = 2\nitems = [1]\ndef g(x):\n    return x * k + sum(items)")
    assert values(kc, "tandem.submit(g, 5).result()") == 11
    ok(kc, "k = 3\nitems.append(10)")  # rebound and mutated in place
    assert values(kc, "tandem.submit(g, 5).result()") == 26


def test_notebook_classes_travel_as_arguments_results_and_exceptions(pool):
    _, kc = pool
    code = (
        "from dataclasses import dataclass\n"
        "@dataclass\nclass Point:\n    x: float\n    y: float\n"
        "class OffGrid(Exception):\n    pass\n"
        "def double(p):\n    if p.x < 0:\n        raise OffGrid(f'negative x {p.x}')\n"
        "    return Point(2 * p.x, 2 * p.y)\n"
        "doubled = tandem.submit(double, Point(1.5, 2)).result()\n"
        "try:\n    tandem.submit(double, Point(-1, 0)).result()\n"
        "except Exception as e:\n    failure = (type(e).__name__, str(e))"
    )
    ok(kc, code)
    assert values(kc, "[type(doubled).__name__, doubled.x, doubled.y]") == ["Point", 3.0, 4]
    assert values(kc, "failure") == ["OffGrid", "negative x -1"]


def test_exception_carries_the_worker_traceback_and_others_finish(pool):
    _, kc = pool
    ok(kc, "def risky(x):\n    if x == 3:\n        raise ValueError(f'bad input {x}')\n    return x")
    content = failing(kc, "futs = [tandem.submit(risky, i) for i in range(6)]\nfuts[3].result()")
    assert content["ename"] == "ValueError" and "bad input 3" in content["evalue"]
    trace = "\n".join(content["traceback"])
    assert "RemoteTraceback" in trace and "risky" in trace and "raise ValueError" in trace
    assert values(kc, "[f.result() for i, f in enumerate(futs) if i != 3]") == [0, 1, 2, 4, 5]


def test_unpicklable_argument_fails_at_submit_naming_it(pool):
    _, kc = pool
    content = failing(kc, "import threading\ntandem.submit(print, 1, threading.Lock())")
    assert content["ename"] == "TypeError"
    assert "argument 1" in content["evalue"] and "lock" in content["evalue"]
    content = failing(kc, "import threading\nlk = threading.Lock()\ntandem.submit(lambda: lk)")
    assert "cannot send the function" in content["evalue"]


@pytest.mark.parametrize(
    ("crash", "how"),
    [("os._exit(3)", "exited with status 3"), ("import ctypes; ctypes.string_at(0)", "signal 11")],
    ids=["exit", "segfault"],
)
def test_a_crashing_worker_fails_only_its_task_and_is_replaced(pool, crash, how):
    _, kc = pool
    ok(kc, "kept = 'state'\nr.kept = 'r state'")
    ok(kc, f"def maybe_crash(x):\n    if x == 5:\n        {crash}\n    time.sleep(0.05)\n    return x")
    ok(kc, "futs = [tandem.submit(maybe_crash, i) for i in range(12)]\nwait(futs)")
    outcomes = values(
        kc, "[('lost:' + str(f.exception())) if f.exception() else f.result() for f in futs]"
    )
    assert [o for i, o in enumerate(outcomes) if i != 5] == [i for i in range(12) if i != 5]
    assert outcomes[5].startswith("lost:Python worker w") and how in outcomes[5]
    # The pool healed; the kernel and both interpreters kept their state.
    assert values(kc, "tandem.map(abs, [-1, -2, -3])") == [1, 2, 3]
    assert values(kc, "[kept, r.kept]") == ["state", "r state"]
    content = failing(kc, "tandem.map(maybe_crash, range(8))")
    assert content["ename"] == "WorkerLost"


def test_a_crash_among_short_tasks_fails_only_the_task_that_crashed(pool):
    # Short tasks are sent to a worker ahead of time: when one crashes the worker,
    # only that task fails; the others it held (and any outcome lost with it) run
    # on another worker.
    _, kc = pool
    ok(kc, "def crash_at(x, n):\n    if x == n:\n        os._exit(7)\n    return x * 2\ntandem.map(abs, range(500))")
    for n in (150, 151, 299):
        ok(kc, f"futs = [tandem.submit(crash_at, i, {n}) for i in range(300)]\nwait(futs)")
        outcomes = values(kc, "[('lost:' + str(f.exception())) if f.exception() else f.result() for f in futs]")
        assert [o for i, o in enumerate(outcomes) if i != n] == [i * 2 for i in range(300) if i != n]
        assert outcomes[n].startswith("lost:Python worker w") and "exited with status 7" in outcomes[n]


def test_interrupt_skips_tasks_a_worker_holds_but_has_not_started(pool, tmp_path):
    km, kc = pool
    ok(kc, f"def touch(i):\n    open(f'{tmp_path}/ran-{{i}}', 'w').close()")
    both_workers_ready(kc)
    ok(kc, "tandem.map(abs, range(500))")  # short tasks: workers get the next ones ahead
    code = "futs = [tandem.submit(time.sleep, 3) for _ in range(2)] + [tandem.submit(touch, i) for i in range(6)]\nwait(futs)"
    elapsed = interrupt_running_cell(km, kc, code, settle=1.0)
    assert elapsed < 2
    time.sleep(0.5)
    assert values(kc, "[f.cancelled() for f in futs[2:]]") == [True] * 6
    # A sleep a worker started is interrupted; one it held behind the other, cancelled.
    assert set(values(kc, "[f.cancelled() or type(f.exception()).__name__ for f in futs[:2]]")) <= {
        "KeyboardInterrupt",
        True,
    }
    assert list(tmp_path.iterdir()) == []
    assert values(kc, "tandem.map(abs, [-4, -5])") == [4, 5]


def test_an_idle_worker_takes_the_tasks_held_behind_a_long_one(pool):
    _, kc = pool
    both_workers_ready(kc)
    ok(kc, "tandem.map(abs, range(500))")
    ok(
        kc,
        "futs = [tandem.submit(time.sleep, 5)] + [tandem.submit(abs, -i) for i in range(7)]\n"
        "wait(futs[1:])\n"
        "outcome = ([f.result() for f in futs[1:]], futs[0].done())\n"
        "futs[0].result()",
    )
    out = values(kc, "outcome")
    assert out == [list(range(7)), False]


def test_interrupt_during_a_map_returns_quickly_and_cancels_the_rest(pool):
    km, kc = pool
    elapsed = interrupt_running_cell(km, kc, "out = tandem.map(time.sleep, [3] * 8)", settle=1.0)
    assert elapsed < 2
    started = time.monotonic()
    # Nothing left queued or running: a new map gets the workers at once.
    assert values(kc, "tandem.map(abs, [-4, -5])") == [4, 5]
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kernel", ["tandem-message"], indirect=True)
def test_interrupt_in_message_mode_stops_the_pool_too(kernel):
    km, kc = kernel
    ok(kc, "import tandem, time\ntandem.map(abs, [-1, -2])")
    elapsed = interrupt_running_cell(km, kc, "tandem.map(time.sleep, [3] * 6)", settle=1.0)
    assert elapsed < 2
    started = time.monotonic()
    assert values(kc, "tandem.map(abs, [-7])") == [7]
    assert time.monotonic() - started < 2


def test_map_shows_one_progress_display_updated_in_place(pool):
    _, kc = pool
    content, outputs = run_cell(kc, "res = tandem.map(time.sleep, [0.1] * 16)")
    assert content["status"] == "ok"
    shown = [c for t, c in outputs if t == "display_data"]
    updates = [c for t, c in outputs if t == "update_display_data"]
    assert len(shown) == 1 and updates
    display_id = shown[0]["transient"]["display_id"]
    assert all(u["transient"]["display_id"] == display_id for u in updates)
    assert "16/16" in updates[-1]["data"]["text/plain"]
    assert "<progress" in updates[-1]["data"]["text/html"]


def test_submit_r_converts_inputs_and_result(pool):
    _, kc = pool
    ok(kc, "import pandas as pd\nframe = pd.DataFrame({'x': [1.0, 2.0, None], 'g': ['a', 'b', 'a']})")
    code = (
        "fut = tandem.submit_r('aggregate(x ~ g, data = df, FUN = sum)', df=frame)\n"
        "agg = fut.result()\n"
        "print(type(agg).__name__, agg['g'].tolist(), agg['x'].tolist())"
    )
    assert ok(kc, code).split() == ["DataFrame", "['a',", "'b']", "[1.0,", "2.0]"]
    content = failing(kc, "tandem.submit_r(\"stop('no such model')\").result()")
    assert content["ename"] == "RError" and "no such model" in content["evalue"]
    content = failing(kc, "tandem.submit_r('x', x=object())")
    assert content["ename"] == "ConversionError" and "x (object)" in content["evalue"]


def test_dask_executor_on_a_local_cluster(pool):
    _, kc = pool
    code = (
        "from distributed import LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None)\n"
        "dx = tandem.executor(dask=cluster.scheduler_address)\n"
        "def cube(v):\n    return v ** 3\n"
        "dfuts = [dx.submit(cube, i) for i in range(6)]\n"
        "dres = sorted(f.result() for f in as_completed(dfuts))\n"
        "dmap = list(dx.map(cube, range(4)))\n"
        "def broken():\n    raise LookupError('remote miss')\n"
        "try:\n    dx.submit(broken).result()\nexcept LookupError as e:\n    derr = str(e)\n"
        "dx.shutdown()\ncluster.close()"
    )
    ok(kc, code, timeout=120)
    assert values(kc, "dres") == [i**3 for i in range(6)]
    assert values(kc, "dmap") == [0, 1, 8, 27]
    assert "remote miss" in values(kc, "derr")


# --- R ------------------------------------------------------------------------


def test_future_backend_with_notebook_functions_and_globals(pool):
    _, kc = pool
    code = (
        "%%R\nlibrary(future)\nplan(tandem::workers)\n"
        "k <- 7\nf <- function(x) x * k\n"
        "res <- future.apply::future_sapply(1:100, f)\n"
        "stopifnot(identical(res, (1:100) * 7))\n"
        "a %<-% { Sys.getpid() }\n"
        "fut <- future({ cat('printed by the worker\\n'); message('a message'); 42L })\n"
        "while (!resolved(fut)) Sys.sleep(0.01)\n"
        "stopifnot(value(fut) == 42L, a != Sys.getpid(), nbrOfWorkers() >= 1)\n"
        "cat(furrr::future_map_dbl(1:4, ~ .x^2), '\\n')"
    )
    content, outputs = run_cell(kc, code, timeout=120)
    assert content["status"] == "ok", outputs
    assert "printed by the worker" in stdout_of(outputs)
    assert "1 4 9 16" in stdout_of(outputs)
    stderr = "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")
    assert stderr.count("a message") == 1


def test_r_worker_errors_crashes_and_unserialisable_globals(pool):
    _, kc = pool
    code = (
        "%%R\nlibrary(future)\nplan(tandem::workers)\n"
        "e <- tryCatch(value(future(stop('deep failure'))), error = conditionMessage)\n"
        "lost <- tryCatch(value(future(quit('no', status = 4L))), error = conditionMessage)\n"
        "after <- value(future(6 * 7))\n"
        "con <- file(tempfile(), 'w')\n"
        "bad <- tryCatch(future(readLines(con)), error = conditionMessage)\n"
        "close(con)\n"
        "cat(e, lost, after, bad, sep = '\\n')"
    )
    lines = ok(kc, code, timeout=120).splitlines()
    assert lines[0] == "deep failure"
    assert lines[1].startswith("R worker w") and "exited with status 4" in lines[1]
    assert lines[2] == "42"
    assert "con" in lines[3] and "non-exportable" in lines[3]


def test_r_fan_out_and_progressr_show_progress(pool):
    _, kc = pool
    content, outputs = run_cell(
        kc,
        "%%R\nlibrary(future)\nplan(tandem::workers)\n"
        "fs <- lapply(1:6, function(i) future({ Sys.sleep(0.4); i }))\nv <- value(fs)",
        timeout=60,
    )
    assert content["status"] == "ok"
    updates = [c for t, c in outputs if t == "update_display_data"]
    assert updates and "6/6" in updates[-1]["data"]["text/plain"]
    content, outputs = run_cell(
        kc,
        "%%R\nlibrary(progressr)\nwith_progress({\n  p <- progressor(steps = 8)\n"
        "  y <- future.apply::future_lapply(1:8, function(i) { Sys.sleep(0.2); p(); i })\n})",
        timeout=60,
    )
    assert content["status"] == "ok"
    updates = [c for t, c in outputs if t == "update_display_data"]
    steps = [u["data"]["text/plain"].split(":")[1].split()[0] for u in updates]
    assert "8/8" in steps
    assert len(set(steps)) >= 3  # progress arrived while the futures ran, not only at the end


def test_interrupt_during_an_r_fan_out(pool):
    km, kc = pool
    code = "%%R\nlibrary(future)\nplan(tandem::workers)\nv <- value(lapply(1:6, function(i) future(Sys.sleep(4))))"
    elapsed = interrupt_running_cell(km, kc, code, settle=1.5)
    assert elapsed < 2
    assert ok(kc, "%%R\ncat(value(future(1 + 1)))").strip() == "2"


def test_py_future_from_r(pool):
    _, kc = pool
    code = (
        "%%R\n"
        "p <- tandem::py_future('import statistics\\nstatistics.mean(xs) * factor', xs = c(1, 2, 6), factor = 2L)\n"
        "cat(value(p), '\\n')\n"
        "err <- tryCatch(value(tandem::py_future('1 / zero', zero = 0L)), error = conditionMessage)\n"
        "cat(err, '\\n')"
    )
    lines = ok(kc, code).splitlines()
    assert lines[0].strip() == "6"
    assert "ZeroDivisionError" in lines[1]


# --- lifecycle ----------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_workers_die_with_a_killed_kernel(kernel):
    km, kc = kernel
    ok(kc, "import tandem, os\nwpids = tandem.map(lambda _: os.getpid(), range(4))")
    ok(kc, "%%R\nlibrary(future)\nplan(tandem::workers)\nrpid <- value(future(Sys.getpid()))")
    workers = set(values(kc, "wpids")) | {int(ok(kc, "%R cat(rpid)"))}
    assert workers <= _children(km.provisioner.process.pid)
    os.kill(km.provisioner.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    alive = [p for p in workers if _alive(p)]
    assert not alive, f"workers outlived the kernel: {alive}"
