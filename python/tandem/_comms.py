"""Comms (ipywidgets and friends) through the ``comm`` package."""

from __future__ import annotations

from typing import Any, Callable

import comm
from comm.base_comm import BaseComm, CommManager

Publish = Callable[..., None]


class TandemComm(BaseComm):
    """A comm whose messages travel on IOPub through the kernel."""

    publish_message: Publish

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


def install(publish: Publish) -> CommManager:
    """Route ``comm.create_comm`` and ``comm.get_comm_manager`` to Tandem."""
    TandemComm.publish_message = staticmethod(publish)  # type: ignore[assignment]
    manager = CommManager()

    def create_comm(*args: Any, **kwargs: Any) -> BaseComm:
        return TandemComm(*args, **kwargs)

    comm.create_comm = create_comm
    comm.get_comm_manager = lambda: manager
    return manager
