"""The Dask clients Tandem uses, whoever made them: which one serves a scheduler
address (the notebook's own, else one from Dask's configuration), the refusal of
plain TCP when that configuration asks for TLS, the plugin that lets a cluster run
R tasks, the counting of Dask tasks in the kernel's metrics, and what the pool
panel shows of each cluster."""

from __future__ import annotations

import weakref
from typing import Any

from . import _natives

_clients: dict[str, Any] = {}
#: Every client Tandem's executors and R's futures used: the clusters the pool
#: panel lists.
_used: weakref.WeakSet = weakref.WeakSet()
#: The clients whose clusters have the R worker plugin registered.
_with_r: weakref.WeakSet = weakref.WeakSet()


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


def setup(client: Any, *, r: str = "R", library: str | None = None) -> None:
    """Lets ``client``'s cluster run Tandem's R tasks: registers the plugin that
    starts Tandem's R worker beside each Dask worker (at its first R task), also on
    workers that join later. ``r`` is the R program on the workers, ``library`` a
    folder holding Tandem's R package there."""
    from ._dask_workers import RWorkerPlugin

    client.register_plugin(RWorkerPlugin(r=r, library=library), name=RWorkerPlugin.name)
    _with_r.add(client)


def ensure_r(client: Any) -> None:
    """Registers the R worker plugin with its defaults, unless ``setup`` did
    already for this client (with the user's settings, then kept)."""
    if client not in _with_r:
        setup(client)


def count_task(language: str, state: str, worker: str, seconds: float) -> None:
    """Counts a Dask task's end in the kernel's metrics (elsewhere there are none)."""
    if _natives.provided("metrics_dask_task"):
        _natives.metrics_dask_task(language, state, worker, seconds)
