"""Parallel futures: Tandem's worker pool against the anchors, side by side in one run.

(Over 400 lines on purpose: every anchor runs in the same run as Tandem, so that
the ratios compare like with like; each measure is a short function.)

Python (inside a Tandem kernel, through jupyter_client, against the same work in
this process):
  * per-task overhead of 2,000 trivial tasks, serial (submit, then result, one at a
    time) and batched (submit all, then collect), against ProcessPoolExecutor(2)
    and a Dask LocalCluster (2 worker processes);
  * 8 CPU-bound tasks on 2 cores, against running them one after the other (in
    the kernel, whose embedded Python is slower than a python executable, and
    in this process).
R (in the Tandem kernel's R session, both plans in the same session):
  * per-future overhead of 200 trivial futures, and of
    future_lapply(1:1000, chunk.size = 1), plan(tandem::workers) against
    plan(multisession, workers = 2).

Dask (a LocalCluster the kernel starts, 2 workers of 1 thread): per-task overhead
of Tandem's Python tasks (`executor(dask=client).submit`), R tasks (`submit_r`)
and R futures from R (`plan(tandem::workers, dask = ...)`, `future`,
`future_lapply`), serial and batched, against plain `client.submit` of a trivial
function on the same cluster.

Metrics (three Tandem kernels: one serving Prometheus metrics and scraped each
second as a Prometheus server would, two without): batched Python tasks and an R
future_lapply, in rotating rounds, by wall time and by the kernel process's CPU
time; what the second kernel without metrics differs from the first is the
machine's floor for what recording the metrics costs.

Floors on this machine, measured in the same run: a bare ZeroMQ round trip between
two processes (pyzmq at both ends, no task) under a serial task's round trip; bare
ZeroMQ messages pipelined to two echo processes under batched tasks; and the
speedup of two forked processes running the CPU-bound tasks with no pool at all.

Usage: python bench/futures.py [--tasks 2000] [--only python|r|dask|metrics] [--rounds 7]
(`make bench` sets TANDEM_BIN and TANDEM_PYTHON.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TANDEM = os.environ.get("TANDEM_BIN", str(ROOT / ".build" / "release" / "tandem"))
PYTHON = os.environ.get("TANDEM_PYTHON", sys.executable)
CPU_TASK_LOOPS = 6_000_000


# The same measurements, as code for the Tandem kernel's cell and for this process
# (run here at import, so that ProcessPoolExecutor's forked workers have them).
MEASURE = f'''
import time

def trivial(x):
    return x

def cpu_bound(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total

def serial_ms(submit, n):
    submit(trivial, 0).result()
    start = time.perf_counter()
    for i in range(n):
        submit(trivial, i).result()
    return (time.perf_counter() - start) / n * 1e3

def batched_ms(submit, n):
    submit(trivial, 0).result()
    start = time.perf_counter()
    futures = [submit(trivial, i) for i in range(n)]
    for f in futures:
        f.result()
    return (time.perf_counter() - start) / n * 1e3

def cpu_seconds(submit, count):
    start = time.perf_counter()
    futures = [submit(cpu_bound, {CPU_TASK_LOOPS}) for _ in range(count)]
    for f in futures:
        f.result()
    return time.perf_counter() - start

def sequential_seconds(count):
    start = time.perf_counter()
    for _ in range(count):
        cpu_bound({CPU_TASK_LOOPS})
    return time.perf_counter() - start
'''
exec(MEASURE, globals())
serial_ms, batched_ms, cpu_seconds, sequential_seconds = (
    globals()[name] for name in ("serial_ms", "batched_ms", "cpu_seconds", "sequential_seconds")
)


def kernel_client(name: str):
    from jupyter_client.manager import start_new_kernel

    return start_new_kernel(kernel_name=name, startup_timeout=60)


def run_cell(kc, code: str, timeout: float = 900) -> str:
    out: list[str] = []
    errors: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            errors.append("\n".join(msg["content"]["traceback"]))

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    if reply["content"]["status"] != "ok":
        raise RuntimeError("cell failed:\n" + "\n".join(errors))
    return "".join(out)


def install_spec() -> None:
    prefix = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    subprocess.run(
        [TANDEM, "install", "--prefix", str(prefix), "--name", "tandem-bench", "--python", PYTHON],
        check=True, capture_output=True,
    )
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")


def _echo(endpoint: str) -> None:
    import zmq

    socket = zmq.Context().socket(zmq.DEALER)
    socket.setsockopt(zmq.SNDHWM, 0)
    socket.setsockopt(zmq.RCVHWM, 0)
    socket.connect(endpoint)
    socket.send(b"ready")
    while (message := socket.recv_multipart()) != [b"stop"]:
        socket.send_multipart(message)


@contextlib.contextmanager
def _echo_peers(count: int):
    """A ROUTER over ipc and the routing ids of ``count`` forked echo processes
    (DEALERs, pyzmq at both ends, as between Tandem's broker and its workers)."""
    import multiprocessing

    import zmq

    with tempfile.TemporaryDirectory() as folder:
        socket = zmq.Context().socket(zmq.ROUTER)
        # No high-water marks: a ROUTER drops what a full pipe cannot take.
        socket.setsockopt(zmq.SNDHWM, 0)
        socket.setsockopt(zmq.RCVHWM, 0)
        socket.setsockopt(zmq.RCVTIMEO, 60_000)
        endpoint = f"ipc://{folder}/echo"
        socket.bind(endpoint)
        fork = multiprocessing.get_context("fork")
        children = [fork.Process(target=_echo, args=(endpoint,)) for _ in range(count)]
        for child in children:
            child.start()
        peers = [socket.recv_multipart()[0] for _ in children]
        try:
            yield socket, peers
        finally:
            for peer in peers:
                socket.send_multipart([peer, b"stop"])
            for child in children:
                child.join()
            socket.close(linger=0)


def zeromq_round_trip_ms(n: int) -> float:
    """A bare ZeroMQ round trip to one echo process, no task around it: the floor
    under a serial task's round trip on this machine."""
    with _echo_peers(1) as (socket, [peer]):
        for rounds in (100, n):
            start = time.perf_counter()
            for _ in range(rounds):
                socket.send_multipart([peer, b"task", b"x" * 64])
                socket.recv_multipart()
            elapsed = (time.perf_counter() - start) / rounds * 1e3
    return elapsed


def zeromq_pipelined_ms(n: int) -> float:
    """Bare ZeroMQ messages to two echo processes, all sent before any reply is
    read, no task around them: the floor under batched tasks on this machine."""
    with _echo_peers(2) as (socket, peers):
        for rounds in (100, n):
            start = time.perf_counter()
            for i in range(rounds):
                socket.send_multipart([peers[i % 2], b"task", b"x" * 64])
            for _ in range(rounds):
                socket.recv_multipart()
            elapsed = (time.perf_counter() - start) / rounds * 1e3
    return elapsed


def forked_speedup(count: int) -> float:
    """The time of ``count`` CPU-bound tasks one after the other over their time
    on two forked processes that take half each, no pool, in this process: the
    speedup this machine itself gives two busy processes at the moment."""
    start = time.perf_counter()
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            sequential_seconds(count // 2)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    forked = time.perf_counter() - start
    return sequential_seconds(count) / forked


def python_part(kc, tasks: int) -> list[tuple[str, float, float, str]]:
    rows = []

    code = MEASURE + (
        "import json, tandem\n"
        f"print(json.dumps([serial_ms(tandem.submit, {tasks}), batched_ms(tandem.submit, {tasks}),"
        " cpu_seconds(tandem.submit, 8), sequential_seconds(8)]))"
    )
    tandem_serial, tandem_batched, tandem_cpu, tandem_sequential = json.loads(run_cell(kc, code))

    with ProcessPoolExecutor(2) as pool:
        pool_serial = serial_ms(pool.submit, tasks)
        pool_batched = batched_ms(pool.submit, tasks)
        pool_cpu = cpu_seconds(pool.submit, 8)

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(
        cluster
    ) as client:
        dask_submit = lambda f, x: client.submit(f, x, pure=False)  # noqa: E731
        dask_serial = serial_ms(dask_submit, tasks // 4)
        dask_batched = batched_ms(dask_submit, tasks)

    rows.append(
        ("Python serial round trip, ms/task (vs ProcessPoolExecutor)", tandem_serial, pool_serial, "≤ 0.1 ms")
    )
    rows.append(("Python serial round trip, ms/task (vs Dask LocalCluster)", tandem_serial, dask_serial, ""))
    rows.append(
        ("Python serial round trip, ms/task (vs bare ZeroMQ round trip)", tandem_serial, zeromq_round_trip_ms(tasks), "")
    )
    rows.append(("Python batched, ms/task (vs ProcessPoolExecutor)", tandem_batched, pool_batched, "≤ 0.05 ms"))
    rows.append(("Python batched, ms/task (vs Dask LocalCluster)", tandem_batched, dask_batched, ""))
    rows.append(
        ("Python batched, ms/task (vs bare ZeroMQ, pipelined)", tandem_batched, zeromq_pipelined_ms(tasks), "")
    )
    rows.append(
        ("8 CPU-bound tasks, s (vs sequential in the kernel)", tandem_cpu, tandem_sequential, "speedup ≥ 1.9x")
    )
    rows.append(("8 CPU-bound tasks, s (vs sequential in plain python)", tandem_cpu, sequential_seconds(8), ""))
    rows.append(("8 CPU-bound tasks, s (vs ProcessPoolExecutor)", tandem_cpu, pool_cpu, ""))
    rows.append(("8 CPU-bound tasks: two forked processes, no pool (speedup)", forked_speedup(8), 1.0, ""))
    return rows


R_MEASURE = """%%R
library(future)
per_future_ms <- function(n) {
  value(future(NULL))
  start <- Sys.time()
  for (i in seq_len(n)) value(future(i))
  as.numeric(difftime(Sys.time(), start, units = "secs")) / n * 1e3
}
lapply_ms <- function(n) {
  value(future(NULL))
  start <- Sys.time()
  future.apply::future_lapply(seq_len(n), identity, future.chunk.size = 1)
  as.numeric(difftime(Sys.time(), start, units = "secs")) / n * 1e3
}
options(tandem.progress = FALSE)
plan(tandem::workers)
tandem_future <- per_future_ms(200)
tandem_lapply <- lapply_ms(1000)
plan(multisession, workers = 2)
ms_future <- per_future_ms(200)
ms_lapply <- lapply_ms(1000)
plan(sequential)
cat(jsonlite::toJSON(c(tandem_future, tandem_lapply, ms_future, ms_lapply), digits = NA))
"""


def r_part(kc) -> list[tuple[str, float, float, str]]:
    tandem_future, tandem_lapply, ms_future, ms_lapply = json.loads(run_cell(kc, R_MEASURE))
    return [
        ("R trivial future, ms/future (vs multisession)", tandem_future, ms_future, "≤ 0.15x"),
        ("R future_lapply chunk.size=1, ms/element (vs multisession)", tandem_lapply, ms_lapply, "≤ 0.15x"),
    ]


# Tandem's tasks on a Dask cluster (a LocalCluster the kernel starts: 2 workers, 1
# thread each) against plain client.submit of the same function on the same cluster.
DASK_MEASURE = """
import json
from distributed import Client, LocalCluster
import tandem
cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
client = Client(cluster)
ex = tandem.executor(dask=client)
plain = lambda f, x: client.submit(f, x, pure=False)
r_task = lambda f, x: ex.submit_r("x", x=x)
dask_rows = [serial_ms(plain, {serial}), serial_ms(ex.submit, {serial}), serial_ms(r_task, {serial}),
             batched_ms(plain, {batched}), batched_ms(ex.submit, {batched}), batched_ms(r_task, {batched})]
address = cluster.scheduler_address
print(json.dumps(dask_rows))
"""

DASK_R_MEASURE = """%%R -i address
library(future)
options(tandem.progress = FALSE)
plan(tandem::workers, dask = address)
invisible(value(future(NULL)))
start <- Sys.time()
for (i in 1:{serial}) value(future(i))
per_future <- as.numeric(difftime(Sys.time(), start, units = "secs")) / {serial} * 1e3
start <- Sys.time()
invisible(future.apply::future_lapply(seq_len({batched}), identity, future.chunk.size = 1))
per_element <- as.numeric(difftime(Sys.time(), start, units = "secs")) / {batched} * 1e3
plan(sequential)
cat(jsonlite::toJSON(c(per_future, per_element), digits = NA))
"""


def dask_part(kc, tasks: int) -> list[tuple[str, float, float, str]]:
    serial, batched = max(20, tasks // 10), max(50, tasks // 4)
    plain_serial, python_serial, r_serial, plain_batched, python_batched, r_batched = json.loads(
        run_cell(kc, MEASURE + DASK_MEASURE.format(serial=serial, batched=batched))
    )
    per_future, per_element = json.loads(run_cell(kc, DASK_R_MEASURE.format(serial=serial, batched=batched)))
    run_cell(kc, "client.close()\ncluster.close()")
    vs = "(vs plain client.submit, same cluster)"
    return [
        (f"Dask: Python task serial, ms/task {vs}", python_serial, plain_serial, ""),
        (f"Dask: Python tasks batched, ms/task {vs}", python_batched, plain_batched, ""),
        (f"Dask: R task (submit_r) serial, ms/task {vs}", r_serial, plain_serial, ""),
        (f"Dask: R tasks (submit_r) batched, ms/task {vs}", r_batched, plain_batched, ""),
        (f"Dask: R future from R serial, ms/future {vs}", per_future, plain_serial, ""),
        (f"Dask: R future_lapply, ms/element {vs}", per_element, plain_batched, ""),
    ]


METRICS_R_MEASURE = """%%R
library(future)
options(tandem.progress = FALSE)
plan(tandem::workers)
invisible(value(future(NULL)))
start <- Sys.time()
invisible(future.apply::future_lapply(seq_len(200), identity, future.chunk.size = 1))
cat(as.numeric(difftime(Sys.time(), start, units = "secs")) / 200 * 1e3)
"""


def cpu_ns(pid: int, thread_prefix: str = "") -> int:
    """CPU time of the threads of a process (those whose name starts with
    `thread_prefix`), in nanoseconds (schedstat)."""
    total = 0
    for thread in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/task/{thread}/comm") as comm:
                if not comm.read().startswith(thread_prefix):
                    continue
            with open(f"/proc/{pid}/task/{thread}/schedstat") as stat:
                total += int(stat.read().split()[0])
    return total


def metrics_part(tasks: int, rounds: int, scrape_every: float) -> list[tuple[str, float, float, str]]:
    """Batched tasks in three kernels, in rotating order each round: one serving
    metrics (scraped every `scrape_every` seconds, as a Prometheus server would;
    0: never), one without, and a second one without: how far apart two identical
    kernels come out is this machine's floor for the on/off comparison."""
    import re
    import statistics
    import threading
    import urllib.request

    os.environ["TANDEM_METRICS"] = "127.0.0.1:0"
    kernels = {"on": kernel_client("tandem-bench")}
    os.environ.pop("TANDEM_METRICS")
    kernels["off"] = kernel_client("tandem-bench")
    kernels["off2"] = kernel_client("tandem-bench")
    url = re.search(r"metrics: (http://\S+)", run_cell(kernels["on"][1], "%tandem")).group(1)
    stop = threading.Event()
    scrapes = []

    def scrape() -> None:
        while scrape_every > 0 and not stop.wait(scrape_every):
            with urllib.request.urlopen(url, timeout=10) as response:
                scrapes.append(len(response.read()))

    scraper = threading.Thread(target=scrape, daemon=True)
    scraper.start()
    code = MEASURE + f"import tandem\nprint(batched_ms(tandem.submit, {tasks}))"
    # Wall time per task, and the kernel process's own CPU time per task (its broker
    # records the pool's metrics), by kernel and part.
    wall: dict[str, dict[str, list[float]]] = {label: {"py": [], "r": []} for label in kernels}
    cpu: dict[str, dict[str, list[float]]] = {label: {"py": [], "r": []} for label in kernels}
    labels = list(kernels)
    try:
        for round_number in range(rounds):
            shift = round_number % len(labels)
            for label in labels[shift:] + labels[:shift]:
                km, kc = kernels[label]
                pid = km.provisioner.process.pid
                for part, cell, count in (("py", code, tasks), ("r", METRICS_R_MEASURE, 200)):
                    before = cpu_ns(pid)
                    wall[label][part].append(float(run_cell(kc, cell)))
                    cpu[label][part].append((cpu_ns(pid) - before) / count / 1e3)
    finally:
        stop.set()
        scraper.join()
        # The endpoint's event-loop thread does all of a scrape's work (reading /proc,
        # rendering the text): its CPU time is what scrapes cost the kernel.
        scrape_ns = cpu_ns(kernels["on"][0].provisioner.process.pid, "NIO-ELT")
        for km, kc in kernels.values():
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    assert scrapes or scrape_every <= 0, "the metrics endpoint was never scraped"
    print(f"metrics: {len(scrapes)} scrapes of {scrapes[-1] if scrapes else 0} bytes during {rounds} rounds")
    if scrapes:
        print(f"metrics: a scrape costs the kernel {scrape_ns / len(scrapes) / 1e6:.2f} ms of CPU")
    rows = []
    names = {"py": "Python batched, ms/task", "r": "R future_lapply, ms/element"}
    for figures, unit in ((wall, ""), (cpu, " (kernel CPU µs)")):
        for part in ("py", "r"):
            # Rounds pair the kernels seconds apart: the median of paired ratios is
            # steadier than the ratio of medians on a machine whose speed drifts.
            for label, target in (("on", "≤ 1.03x"), ("off2", "floor")):
                ratios = [a / b for a, b in zip(figures[label][part], figures["off"][part])]
                quartiles = statistics.quantiles(ratios, n=4)
                name = f"{names[part]}{unit}, {'metrics on' if label == 'on' else 'identical kernel'} (vs off)"
                print(f"  {name}: paired ratios median {statistics.median(ratios):.3f}, "
                      f"quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}")
                rows.append((
                    name, statistics.median(figures[label][part]), statistics.median(figures["off"][part]), target
                ))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--only", choices=["python", "r", "dask", "metrics"])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the metrics on/off comparison")
    parser.add_argument(
        "--scrape-every", type=float, default=1.0, help="seconds between scrapes of the metrics kernel (0: none)"
    )

    options = parser.parse_args()
    install_spec()
    os.environ.pop("TANDEM_METRICS", None)
    rows = []
    if options.only in (None, "python", "r", "dask"):
        km, kc = kernel_client("tandem-bench")
        try:
            if options.only in (None, "python"):
                rows += python_part(kc, options.tasks)
            if options.only in (None, "r"):
                rows += r_part(kc)
            if options.only in (None, "dask"):
                rows += dask_part(kc, options.tasks)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    if options.only in (None, "metrics"):
        rows += metrics_part(options.tasks, options.rounds, options.scrape_every)
    print(f"\n{time.strftime('%Y-%m-%d')} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()})")
    print(f"{'measure':62} {'Tandem':>10} {'anchor':>10} {'ratio':>8}  target")
    for name, ours, theirs, target in rows:
        print(f"{name:62} {ours:10.4f} {theirs:10.4f} {ours / theirs:8.3f}  {target}")
    for row in rows:
        if row[0].startswith("8 CPU-bound tasks, s (vs sequential"):
            print(f"CPU-bound speedup {row[0].split('(')[1][:-1]}: {row[2] / row[1]:.2f}x")


if __name__ == "__main__":
    main()
