"""Comms (ipywidgets and friends) through the ``comm`` package, and through
``ipykernel.comm`` for the libraries that still import it (bokeh's
``push_notebook``, pyviz_comms): its ``Comm`` and ``CommManager`` become Tandem's
once it is imported, instead of ipykernel's, which outside ipykernel send nothing
and raise nothing."""

from __future__ import annotations

import importlib.machinery
import sys
from typing import Any, Callable

import comm
from comm.base_comm import BaseComm, CommManager

Publish = Callable[..., None]

#: Arguments of ipykernel's Comm that Tandem's comms do not take: the kernel (there
#: is one), traitlets' configuration, the deprecation warning switch.
_IPYKERNEL_ONLY = ("kernel", "parent", "config", "log", "show_warning")


class TandemComm(BaseComm):
    """A comm whose messages travel on IOPub through the kernel."""

    publish_message: Publish
    #: ``get_ipython().kernel``, which libraries reach through a comm's ``kernel``.
    kernel: Any = None

    def publish_msg(  # type: ignore[override]
        self,
        msg_type: str,
        data: dict | None = None,
        metadata: dict | None = None,
        buffers: list | None = None,
        **keys: Any,
    ) -> None:
        content = {"data": {} if data is None else data, "comm_id": self.comm_id, **keys}
        self.publish_message(msg_type, content, metadata=metadata, buffers=buffers)


class IPyKernelComm(TandemComm):
    """``ipykernel.comm.Comm`` in Tandem: a Tandem comm taking ipykernel's arguments."""

    def __init__(
        self,
        target_name: str = "",
        data: dict | None = None,
        metadata: dict | None = None,
        buffers: list | None = None,
        **kwargs: Any,
    ) -> None:
        for name in _IPYKERNEL_ONLY:
            kwargs.pop(name, None)
        super().__init__(
            target_name=target_name or "comm", data=data, metadata=metadata, buffers=buffers, **kwargs
        )


class IPyKernelCommManager(CommManager):
    """``ipykernel.comm.CommManager`` in Tandem: constructing one gives the kernel's
    own manager, the one the frontend's comm messages reach."""

    def __new__(cls, *args: Any, **kwargs: Any) -> CommManager:  # type: ignore[misc]
        return comm.get_comm_manager()


def _route_ipykernel_comm() -> None:
    for name in ("ipykernel.comm", "ipykernel.comm.comm"):
        if name in sys.modules:
            sys.modules[name].Comm = IPyKernelComm
    for name in ("ipykernel.comm", "ipykernel.comm.manager"):
        if name in sys.modules:
            sys.modules[name].CommManager = IPyKernelCommManager


class _RoutingLoader:
    """Runs a module's own loader, then routes its comm classes to Tandem's."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _route_ipykernel_comm()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _IPyKernelCommFinder:
    """Finds ``ipykernel.comm`` as the regular finders do, with a loader that routes
    it (a finder on ``sys.meta_path``; see ``_detection`` for why not ``importlib.abc``)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "ipykernel.comm":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _RoutingLoader(spec.loader)
        return spec


def install(publish: Publish) -> CommManager:
    """Route ``comm.create_comm``, ``comm.get_comm_manager`` and ``ipykernel.comm``
    to Tandem."""
    TandemComm.publish_message = staticmethod(publish)  # type: ignore[assignment]
    manager = CommManager()

    def create_comm(*args: Any, **kwargs: Any) -> BaseComm:
        return TandemComm(*args, **kwargs)

    comm.create_comm = create_comm
    comm.get_comm_manager = lambda: manager
    if not any(isinstance(finder, _IPyKernelCommFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _IPyKernelCommFinder())
    if "ipykernel.comm" in sys.modules:
        _route_ipykernel_comm()
    return manager
