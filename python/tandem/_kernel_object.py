"""``get_ipython().kernel``: the part of ipykernel's kernel object that libraries use.

ipywidgets' Output widget asks it for the running request (``get_parent``) to
capture output; pyviz_comms (panel, holoviews) registers comm targets on its
``comm_manager``; other libraries publish through ``session.send`` on
``iopub_socket``. Tandem's kernel object has those. ipykernel's internals
(``shell_handlers``, its event loop, its sockets) have no counterpart here: asking
for them raises an AttributeError that names what the object has, never a silent
stand-in.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from comm.base_comm import CommManager

from . import _parents

#: What the kernel object offers, as its AttributeError lists it.
OFFERED = (
    "session (send)", "iopub_socket", "comm_manager", "get_parent()", "set_parent()",
    "_parent_header", "shell",
)


class IOPubSocket:
    """Stands for the kernel's IOPub socket in ``session.send``: what is sent to it
    is published by the kernel, with the running request (or the thread's chosen
    parent) as its parent."""

    def __repr__(self) -> str:
        return "<Tandem's IOPub channel>"


class Session:
    """The part of jupyter_client's ``Session`` that libraries call: ``send`` on
    IOPub. Signing and sockets are the kernel's own."""

    def __init__(self, iopub: IOPubSocket) -> None:
        self._iopub = iopub
        #: The session id of the messages this side sends.
        self.session = uuid.uuid4().hex

    def send(
        self,
        stream: Any,
        msg_or_type: dict | str,
        content: dict | None = None,
        parent: dict | None = None,
        ident: Any = None,
        buffers: list | None = None,
        track: bool = False,
        header: dict | None = None,
        metadata: dict | None = None,
    ) -> dict:
        """Publishes a message on IOPub, as ``Session.send`` does; returns it."""
        if stream is not self._iopub:
            raise ValueError(
                f"Tandem's kernel.session sends on kernel.iopub_socket only, not on {stream!r}: "
                "replies on the shell, control and stdin channels are the kernel's own"
            )
        if isinstance(msg_or_type, dict):
            msg_type = msg_or_type["header"]["msg_type"]
            content = msg_or_type.get("content", content)
            metadata = msg_or_type.get("metadata", metadata)
            parent = parent or msg_or_type.get("parent_header")
            buffers = buffers or msg_or_type.get("buffers")
        else:
            msg_type = msg_or_type
        content = {} if content is None else content
        _parents.publish(msg_type, content, metadata, buffers, parent=parent)
        sent_header = header or {
            "msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(), "username": "tandem", "version": "5.4",
        }
        return {
            "header": sent_header, "msg_id": sent_header["msg_id"], "msg_type": msg_type,
            "parent_header": _parents.header_of(parent) if parent else _parents.current().get("header", {}),
            "content": content, "metadata": metadata or {}, "buffers": buffers or [],
        }


class KernelObject:
    """``get_ipython().kernel`` in Tandem (see the module's documentation)."""

    def __init__(self, shell: Any, comm_manager: CommManager) -> None:
        self.shell = shell
        self.comm_manager = comm_manager
        self.iopub_socket = IOPubSocket()
        self.session = Session(self.iopub_socket)

    def get_parent(self, channel: str | None = None) -> dict:
        """The request output is sent to: the running one, or the parent this
        thread chose."""
        return _parents.current()

    def set_parent(self, ident: Any, parent: dict, channel: str = "shell") -> None:
        """Sends this thread's output to ``parent`` (ipykernel's signature)."""
        _parents.set_parent(parent)

    @property
    def _parent_header(self) -> dict:
        return _parents.current()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"Tandem's kernel object has no {name!r} (an ipykernel internal without a counterpart "
            f"in Tandem); it has {', '.join(OFFERED)}"
        )

    def __repr__(self) -> str:
        return "<Tandem kernel object: " + ", ".join(OFFERED) + ">"
