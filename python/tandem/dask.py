"""Tandem on a Dask cluster: ``tandem.dask.setup(client)`` lets the cluster of a
``distributed.Client`` run Tandem's R tasks (``tandem.executor(dask=client)``'s
``submit_r`` and ``map_r`` call it themselves)."""

from ._dask_clients import setup

__all__ = ["setup"]
