"""What runs on the Dask workers of a cluster Tandem uses: Tandem's R worker
beside each Dask worker, and the task functions of R and Python tasks.

:class:`RWorkerPlugin` is a ``distributed.WorkerPlugin``. On a Dask worker it
starts, at the first R task, Tandem's R worker (``tandem:::work()``, the loop the
kernel's own pool runs) and reaches it over a ZeroMQ socket in a private folder
on that host. An R task is an ordinary Dask task (:func:`run_r`) that hands code
and values in Tandem's exchange format to that R worker and returns its outcome,
so Dask schedules, retries on a lost worker and cancels R tasks as any other.

The Dask workers need R, Tandem's R package and Tandem's Python package; a worker
without them fails the task with a message naming what is missing on which worker.
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import zmq
from distributed import WorkerPlugin, get_worker

#: How long a Dask worker waits for its R worker to start.
START_TIMEOUT = 120.0


class RWorkerPlugin(WorkerPlugin):
    """Runs one Tandem R worker per Dask worker, started at the first R task.

    ``r`` is the R program on the workers; ``library`` a folder holding Tandem's R
    package there, when R's own library does not (by default the worker's
    ``TANDEM_R_LIBRARY``, which workers a Tandem kernel started inherit)."""

    name = "tandem-r"
    idempotent = True

    def __init__(self, r: str = "R", library: str | None = None) -> None:
        self.r = r
        self.library = library
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._socket: zmq.Socket | None = None
        self._folder: str | None = None
        self._ids = itertools.count(1)
        self._address = "this worker"

    def __getstate__(self) -> dict:
        # Sent to the workers before anything starts: only the settings travel.
        return {"r": self.r, "library": self.library}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def setup(self, worker: Any) -> None:
        self._address = worker.address

    def teardown(self, worker: Any) -> None:
        with self._lock:
            self._stop()

    def run(self, kind: bytes, frames: list[bytes]) -> list[bytes]:
        """Runs one task (`kind` "expr": R code with inputs) on this worker's R
        worker; returns its outcome frames (status first)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            task_id = str(next(self._ids)).encode()
            self._socket.send_multipart([b"r", b"task", task_id, kind, *frames])
            while True:
                if not self._socket.poll(1000):
                    if self._process.poll() is not None:
                        status = self._process.returncode
                        self._stop()
                        raise RuntimeError(
                            f"Tandem's R worker on Dask worker {self._address} ended "
                            f"(exit status {status}) while running this task"
                        )
                    continue
                message = self._socket.recv_multipart()
                verb = message[1]
                if verb == b"out" and len(message) >= 5:
                    stream = sys.stderr if message[3] == b"stderr" else sys.stdout
                    stream.write(message[4].decode("utf-8", "replace"))
                elif verb == b"done" and message[2] == task_id:
                    return message[3:]

    def _start(self) -> None:
        """Starts the R worker and waits for its hello; raises naming what is
        missing on this worker."""
        self._stop()
        program = shutil.which(self.r)
        if program is None:
            raise RuntimeError(
                f"Tandem's R tasks need R on Dask worker {self._address}, and {self.r!r} is not "
                "found there: install R on the workers (or pass r= to tandem.dask.setup)"
            )
        self._folder = tempfile.mkdtemp(prefix="tandem-dask-r-")
        endpoint = f"ipc://{self._folder}/r"
        self._socket = zmq.Context.instance().socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(endpoint)
        folder = self.library or os.environ.get("TANDEM_R_LIBRARY")
        library = f"'{_r_escape(folder)}'" if folder else "character()"
        code = f".libPaths(c({library}, .libPaths())); tandem:::work('{_r_escape(endpoint)}', 'r')"
        # What R prints (tasks' output as well) goes to a file in the private folder,
        # read back when R fails to start.
        log = open(os.path.join(self._folder, "r.log"), "w+b")
        with log:
            # TANDEM_DASK_WORKER tells R code where it runs.
            environment = {**os.environ, "TMPDIR": self._folder, "TANDEM_DASK_WORKER": self._address}
            self._process = _spawn_tied([program, "--no-echo", "--vanilla", "-e", code], log, environment)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self._socket.poll(200) and self._socket.recv_multipart()[1:2] == [b"ready"]:
                    return
                if self._process.poll() is not None:
                    log.seek(0)
                    said = log.read().decode("utf-8", "replace").strip()[-2000:]
                    self._stop()
                    raise RuntimeError(f"Dask worker {self._address}: {_why_not_started(said)}. R said:\n{said}")
        self._stop()
        raise RuntimeError(
            f"Dask worker {self._address}: Tandem's R worker did not start within {START_TIMEOUT:.0f} s"
        )

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _spawn_tied(command: list[str], log: Any, environment: dict[str, str]) -> subprocess.Popen:
    """Starts `command` so that it dies with this process, even when this process
    is killed (a Dask worker's SIGKILL): through ``setpriv --pdeathsig``, from a
    thread that lives as long as the child (the signal follows the thread that
    started the child, not the process)."""
    setpriv = shutil.which("setpriv")
    if setpriv:
        command = [setpriv, "--pdeathsig", "KILL", "--", *command]
    started: queue.Queue = queue.Queue()

    def keep() -> None:
        try:
            child = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment
            )
        except BaseException as error:  # the caller raises it
            started.put(error)
            return
        started.put(child)
        child.wait()

    threading.Thread(target=keep, name="tandem R worker", daemon=True).start()
    child = started.get()
    if isinstance(child, BaseException):
        raise child
    return child


def _why_not_started(said: str) -> str:
    if "there is no package called" in said and "tandem" in said:
        return (
            "Tandem's R package is not installed for that R: install it on the workers "
            "(R CMD INSTALL r/tandem, or tandem install), or pass library= to tandem.dask.setup"
        )
    return "R could not start Tandem's R worker"


def _r_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def run_r(kind: bytes, frames: list[bytes]) -> tuple[str, list[bytes]]:
    """The Dask task of an R task: runs it on this worker's R worker. This
    worker's address, and the outcome frames, status first."""
    worker = get_worker()
    plugin = worker.plugins.get(RWorkerPlugin.name)
    if plugin is None:
        raise RuntimeError(
            f"Dask worker {worker.address} has no Tandem R worker plugin: call tandem.dask.setup(client) "
            "(tandem.executor(dask=client) does it at its first R task)"
        )
    return worker.address, plugin.run(kind, frames)


def located(function: Any, /, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """The Dask task of a Python task: this worker's address, and the function's value."""
    return get_worker().address, function(*args, **kwargs)


def run_python(kind: bytes, frames: list[bytes]) -> tuple[str, list[bytes]]:
    """The Dask task of R's ``py_future`` on a cluster: Python code with inputs
    from R, run here. This worker's address, and the outcome frames, status first,
    as the kernel's Python workers give them."""
    from ._taskcodec import error_outcome
    from ._worker import run_expression

    address = get_worker().address
    try:
        return address, run_expression(frames)
    except Exception as error:  # the code's failure is its outcome, for R to raise
        return address, error_outcome(error)
