"""The IPython shell that runs Tandem's Python cells."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator

from IPython.core import page, payloadpage
from IPython.core.autocall import ExitAutocall
from IPython.core.compilerop import CachingCompiler
from IPython.core.extensions import ExtensionManager
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Type, default
from traitlets.config import Config

from . import _parents
from . import _cell_files
from ._display import TandemDisplayHook, TandemDisplayPublisher
from ._streams import flush_streams


class _ExitAutocall(ExitAutocall):
    """``exit`` / ``quit``: ask the frontend to close; ``exit(keep_kernel=True)`` keeps it."""

    def __call__(self, keep_kernel: bool = False) -> None:  # type: ignore[override]
        self._ip.keepkernel_on_exit = keep_kernel
        self._ip.ask_exit()


# Notebooks written for rpy2 load its extension first; Tandem serves its magics
# itself (R stays in the kernel's child process). Loading it makes the magics
# return rpy2's shapes, which such notebooks' code expects.
_SERVED_EXTENSIONS = {"rpy2.ipython", "rpy2.ipython.rmagic"}


class _ExtensionManager(ExtensionManager):
    """IPython's extensions, except those whose magics Tandem already serves."""

    def load_extension(self, module_str: str) -> Any:
        if module_str in _SERVED_EXTENSIONS:
            # `%load_ext` says so for an extension loaded before, as IPython does.
            if module_str in self.loaded:
                return "already loaded"
            self._rpy2_shapes(True)
            self.loaded.add(module_str)
            return None
        return super().load_extension(module_str)

    def reload_extension(self, module_str: str) -> None:
        if module_str in _SERVED_EXTENSIONS:
            self._rpy2_shapes(True)
        else:
            super().reload_extension(module_str)

    def unload_extension(self, module_str: str) -> Any:
        if module_str in _SERVED_EXTENSIONS:
            if module_str not in self.loaded:
                return "not loaded"
            self.loaded.discard(module_str)
            return self._rpy2_shapes(False)
        return super().unload_extension(module_str)

    def _rpy2_shapes(self, on: bool) -> None:
        magics = self.shell.magics_manager.registry.get("RMagics")
        if magics is None:
            raise ImportError("R cells are not available in this kernel, so rpy2.ipython cannot be served")
        magics.rpy2_shapes = on


class CellCompiler(CachingCompiler):
    """IPython's compiler, naming each cell's code by its cell file (the name
    JupyterLab's debugger sets breakpoints by); tracebacks still say ``Cell In[n]``."""

    def get_code_name(self, raw_code: str, transformed_code: str, number: int) -> str:
        return _cell_files.file_name(raw_code)


class ZMQInteractiveShell(InteractiveShell):
    """An ``InteractiveShell`` whose output goes to a Jupyter frontend.

    Tracebacks become ``error`` messages, the last expression an ``execute_result``,
    pager output and ``exit`` become reply payloads, as in ipykernel.

    It bears the name of ipykernel's shell, and its configuration an ``IPKernelApp``
    section, because that is how libraries tell a notebook from a terminal (rich and
    pandas look at the class name, other code at the configuration; ``_detection``
    serves tqdm).
    """

    displayhook_class = Type(TandemDisplayHook)
    display_pub_class = Type(TandemDisplayPublisher)
    # Cells are compiled under the file names JupyterLab's debugger sets breakpoints in.
    compiler_class = Type(CellCompiler)

    @default("exiter")
    def _exiter_default(self) -> _ExitAutocall:
        return _ExitAutocall(self)

    def __init__(self, **kwargs: Any) -> None:
        self._provided: dict[str, Any] = {}
        super().__init__(**kwargs)
        self.config.setdefault("IPKernelApp", Config())
        self.last_error: dict[str, Any] | None = None
        self.keepkernel_on_exit = False
        #: ``get_ipython().kernel`` (``tandem._kernel_object``), set by the kernel.
        self.kernel: Any = None
        self.set_hook("show_in_pager", page.as_hook(payloadpage.page), 99)
        self.readline_use = False

    def init_environment(self) -> None:
        # ipykernel's: colour from the tools that offer it, and no pager, which
        # would wait for keys a notebook cannot send (`!git log`, `!man`).
        os.environ.update(
            TERM="xterm-color", CLICOLOR="1", FORCE_COLOR="1", CLICOLOR_FORCE="1", PAGER="cat", GIT_PAGER="cat"
        )

    def get_parent(self) -> dict:
        """The request this thread's output goes to, as ipykernel's shell gives it
        (ipywidgets' Output widget captures what goes to it)."""
        return _parents.current()

    def set_parent(self, parent: dict | None) -> None:
        """Sends this thread's output to ``parent`` (see :mod:`tandem._parents`)."""
        _parents.set_parent(parent)

    @property
    def parent_header(self) -> dict:
        return _parents.current()

    def provide(self, names: dict[str, Any]) -> None:
        """Puts names the kernel provides (``r``) in the user namespace, hidden from
        ``%who`` and put back after ``%reset``, as IPython does with its own."""
        self._provided.update(names)
        self.push(names, interactive=False)

    def init_user_ns(self) -> None:
        super().init_user_ns()
        # Also run by %reset, which clears the namespace (Quarto runs it first).
        provided = getattr(self, "_provided", None)
        if provided:
            self.push(dict(provided), interactive=False)

    def should_run_async(
        self,
        raw_cell: str,
        *,
        transformed_cell: str | None = None,
        preprocessing_exc_tuple: Any = None,
    ) -> bool:
        # IPython compiles every cell a second time only to learn whether it awaits
        # at top level; a cell without those words cannot.
        cell = transformed_cell
        if cell is not None and "await" not in cell and "async" not in cell:
            return False
        return super().should_run_async(
            raw_cell,
            transformed_cell=transformed_cell,
            preprocessing_exc_tuple=preprocessing_exc_tuple,
        )

    def init_extension_manager(self) -> None:
        self.extension_manager = _ExtensionManager(shell=self, parent=self)

    @contextmanager
    def _tee(self, channel: str) -> Iterator[None]:
        # IPython 9 keeps every string written to stdout/stderr in the history
        # manager for the whole session, so a cell printing a million lines grows
        # the kernel by hundreds of MB. Output already reaches the frontend through
        # fd-level capture; it is not also kept here.
        yield

    def enable_gui(self, gui: str | None = None) -> None:
        if gui not in (None, "inline"):
            raise NotImplementedError(
                f"GUI event loop '{gui}' is not available in Tandem; use %matplotlib inline"
            )

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        flush_streams()
        content = {
            "ename": getattr(etype, "__name__", str(etype)),
            "evalue": str(evalue),
            "traceback": stb,
        }
        self.last_error = content
        self.display_pub.publish_message("error", content)

    def ask_exit(self) -> None:
        self.exit_now = not self.keepkernel_on_exit
        self.payload_manager.write_payload(
            {"source": "ask_exit", "keepkernel": self.keepkernel_on_exit}
        )

    def set_next_input(self, text: str, replace: bool = False) -> None:
        self.payload_manager.write_payload(
            {"source": "set_next_input", "text": text, "replace": replace}
        )

    def system(self, cmd: str) -> None:  # type: ignore[override]
        # The child writes straight to the captured descriptors; flush ours first so
        # the order on screen is the order of execution.
        flush_streams()
        self.system_raw(cmd)
        sys.stdout.flush()
