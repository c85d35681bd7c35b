"""R's futures on a Dask cluster, seen from the kernel's Python.

R has no Dask client; the kernel's Python has one. With
``plan(tandem::workers, dask = "tls://scheduler:8786")``, R hands each future's
task to this module (a call into Python, as ``py$x`` makes, while R's cell runs):
``submit`` puts it on the cluster, ``done`` says whether it ended, ``take`` waits
for its outcome frames and ``cancel`` cancels it. An R future runs on Tandem's R
worker beside a Dask worker (:mod:`tandem._dask_workers`), a ``py_future`` in the
Dask worker's own Python.

The client is the kernel's own ``distributed.Client`` for that scheduler, if the
notebook made one (its TLS settings, then), else one made from Dask's
configuration. A plain ``tcp://`` address is refused when that configuration asks
for TLS.
"""

from __future__ import annotations

import concurrent.futures
import weakref
from typing import Any

from . import _interrupts

_clients: dict[str, Any] = {}
_tasks: dict[str, Any] = {}
#: Every client Tandem's executors and R's futures used: the clusters the pool
#: panel lists.
_used: weakref.WeakSet = weakref.WeakSet()
#: How long one wait for an outcome lasts before interrupts are looked at.
_WAIT_STEP = 0.2


def serve(request: dict, values: dict) -> tuple[dict, dict | None]:
    """R's call: ``{"action": ...}``; returns the reply's fields and the values it
    carries (or None)."""
    action = request.get("action")
    if action == "submit":
        return {"key": submit(request["address"], request["kind"], values["frames"])}, None
    key = request.get("key")
    if key not in _tasks:
        raise KeyError(f"no Dask task {key!r} in this kernel")
    if action == "done":
        return {"done": _tasks[key].done()}, None
    if action == "take":
        return {}, {"value": take(key)}
    if action == "cancel":
        _tasks.pop(key).cancel()
        return {}, None
    raise ValueError(f"unknown Dask action {action!r} from R")


def client_for(address: str) -> Any:
    """The client for the scheduler at ``address``: the notebook's own, else one
    made from Dask's configuration (and kept)."""
    from distributed import Client, Security

    refuse_downgrade(address)
    own = _default_client()
    if own is not None and own.scheduler is not None and own.scheduler.address == address:
        return used(own)
    client = _clients.get(address)
    if client is None or client.status != "running":
        client = _clients[address] = Client(address, security=Security(), set_as_default=False)
    return used(client)


def used(client: Any) -> Any:
    """Notes that Tandem runs tasks through ``client`` (for the pool panel)."""
    _used.add(client)
    return client


def clusters() -> list[dict]:
    """What the pool panel shows of each Dask cluster Tandem uses: its workers
    (address, name, threads, tasks running, memory) and its tasks running."""
    shown = []
    for client in list(_used):
        if client.status != "running":
            continue
        try:
            info = client.scheduler_info()
            processing = client.processing()
        except Exception as error:  # a cluster that went away is shown as such
            shown.append({"scheduler": str(client.scheduler.address), "error": str(error), "workers": []})
            continue
        workers = [
            {
                "address": address,
                "name": str(worker.get("name", "")),
                "threads": worker.get("nthreads", 0),
                "running": len(processing.get(address, ())),
                "memory": worker.get("metrics", {}).get("memory"),
            }
            for address, worker in sorted(info.get("workers", {}).items())
        ]
        shown.append({"scheduler": info.get("address", ""), "workers": workers,
                      "running": sum(w["running"] for w in workers)})
    return shown


def refuse_downgrade(address: str) -> None:
    """Raises when ``address`` is plain TCP but Dask's configuration asks for TLS."""
    import dask

    if not address.startswith("tcp://"):
        return
    required = dask.config.get("distributed.comm.require-encryption", False)
    tls = dask.config.get("distributed.comm.tls.ca-file", None)
    if required or tls:
        raise ValueError(
            f"{address} is plain TCP, but Dask's configuration asks for TLS "
            f"({'require-encryption' if required else 'a TLS CA file'} is set): Tandem does not send "
            "tasks unencrypted when TLS is configured. Use the scheduler's tls:// address."
        )


def _default_client() -> Any:
    """The notebook's own client (the first it made), if it is running."""
    from distributed import default_client

    try:
        client = default_client()
    except ValueError:  # the notebook made none
        return None
    return client if client.status == "running" else None


def submit(address: str, kind: str, frames: list[bytes]) -> str:
    """Puts a task on the cluster; returns its key."""
    from ._dask import setup
    from ._dask_workers import run_python, run_r

    client = client_for(address)
    if kind == "rds":
        if not getattr(client, "_tandem_r", False):
            setup(client)
            client._tandem_r = True
        remote = client.submit(run_r, b"rds", list(frames), pure=False)
    elif kind == "expr":
        remote = client.submit(run_python, b"expr", list(frames), pure=False)
    else:
        raise ValueError(f"unknown task kind {kind!r}")
    _tasks[remote.key] = remote
    return remote.key


def take(key: str) -> dict:
    """Waits for a task (an interrupt ends the wait, the task goes on) and returns
    its outcome as R's futures read it: ``status`` and the frames after it."""
    remote = _tasks[key]
    while not remote.done():
        _interrupts.check()
        with _interrupts.deferred():
            concurrent.futures.wait([_AsFuture(remote)], timeout=_WAIT_STEP)
    del _tasks[key]
    if remote.status == "cancelled":
        return {"status": "failed:cancelled", "frames": []}
    if remote.status == "error":
        # The cluster could not run it (workers lost too often, R missing on a
        # worker): as a worker the kernel's pool lost.
        error = remote.exception()
        return {"status": "failed:lost", "frames": [f"{type(error).__name__}: {error}".encode()]}
    outcome = remote.result()
    return {"status": outcome[0].decode(), "frames": list(outcome[1:])}


class _AsFuture(concurrent.futures.Future):
    """A ``concurrent.futures`` future that completes with a Dask one, to wait on."""

    def __init__(self, remote: Any) -> None:
        super().__init__()
        remote.add_done_callback(lambda _: self.done() or self.set_result(None))
