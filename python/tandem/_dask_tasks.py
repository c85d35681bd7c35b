"""R's futures on a Dask cluster, seen from the kernel's Python.

R has no Dask client; the kernel's Python has one. With
``plan(tandem::workers, dask = "tls://scheduler:8786")``, R hands each future's
task to this module (a call into Python, as ``py$x`` makes, while R's cell runs):
``submit`` puts it on the cluster, ``done`` says whether it ended, ``take`` waits
for its outcome frames and ``forget`` drops it once R keeps the outcome;
``threads`` says how many tasks the cluster runs at once. An R future runs on
Tandem's R worker beside a Dask worker (:mod:`tandem._dask_workers`), a
``py_future`` in the Dask worker's own Python.

The client is the kernel's own ``distributed.Client`` for that scheduler, if the
notebook made one (its TLS settings, then), else one made from Dask's
configuration (:mod:`tandem._dask_clients`).
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

from . import _interrupts
from ._dask_clients import client_for, count_task, ensure_r

_tasks: dict[str, Any] = {}
#: How long one wait for an outcome lasts before interrupts are looked at.
_WAIT_STEP = 0.2


def serve(request: dict, values: dict) -> tuple[dict, dict | None]:
    """R's call: ``{"action": ...}``; returns the reply's fields and the values it
    carries (or None)."""
    action = request.get("action")
    if action == "submit":
        return {"key": submit(request["address"], request["kind"], values["frames"])}, None
    if action == "threads":
        # How many tasks the cluster runs at once: future_lapply() cuts its work
        # into as many chunks.
        workers = client_for(request["address"]).scheduler_info().get("workers", {})
        return {"threads": sum(worker.get("nthreads", 1) for worker in workers.values())}, None
    key = request.get("key")
    if key not in _tasks:
        raise KeyError(f"no Dask task {key!r} in this kernel")
    if action == "done":
        return {"done": _tasks[key].done()}, None
    if action == "take":
        return {}, {"value": take(key)}
    if action == "forget":
        # R has the outcome (taking it leaves it here, in case R was interrupted
        # before it could keep it).
        del _tasks[key]
        return {}, None
    raise ValueError(f"unknown Dask action {action!r} from R")


def submit(address: str, kind: str, frames: list[bytes]) -> str:
    """Puts a task on the cluster; returns its key."""
    from ._dask_workers import run_python, run_r

    client = client_for(address)
    if kind == "rds":
        ensure_r(client)
        remote = client.submit(run_r, b"rds", list(frames), pure=False)
    elif kind == "expr":
        remote = client.submit(run_python, b"expr", list(frames), pure=False)
    else:
        raise ValueError(f"unknown task kind {kind!r}")
    remote.tandem_language = "r" if kind == "rds" else "py"
    remote.tandem_submitted = time.monotonic()
    _tasks[remote.key] = remote
    return remote.key


def take(key: str) -> dict:
    """Waits for a task (an interrupt ends the wait, the task goes on) and returns
    its outcome as R's futures read it: ``status`` and the frames after it."""
    remote = _tasks[key]
    ended = _AsFuture(remote)
    while not remote.done():
        _interrupts.check()
        with _interrupts.deferred():
            concurrent.futures.wait([ended], timeout=_WAIT_STEP)
    outcome = _outcome(remote)
    worker = outcome.pop("worker")
    if not getattr(remote, "tandem_counted", False):  # taken again after an interrupt: counted once
        remote.tandem_counted = True
        state = {"ok": "finished", "failed:cancelled": "cancelled", "failed:lost": "lost"}.get(
            outcome["status"], "failed")
        count_task(remote.tandem_language, state, worker, time.monotonic() - remote.tandem_submitted)
    return outcome


def _outcome(remote: Any) -> dict:
    if remote.status == "cancelled":
        return {"status": "failed:cancelled", "frames": [], "worker": "unknown"}
    if remote.status == "error":
        # The cluster could not run it (workers lost too often, R missing on a
        # worker): as a worker the kernel's pool lost.
        error = remote.exception()
        return {"status": "failed:lost", "frames": [f"{type(error).__name__}: {error}".encode()], "worker": "unknown"}
    worker, outcome = remote.result()
    return {"status": outcome[0].decode(), "frames": list(outcome[1:]), "worker": worker}


class _AsFuture(concurrent.futures.Future):
    """A ``concurrent.futures`` future that completes with a Dask one, to wait on."""

    def __init__(self, remote: Any) -> None:
        super().__init__()
        remote.add_done_callback(lambda _: self.done() or self.set_result(None))
