"""The magics ipykernel adds to IPython's: ``%connect_info``, ``%qtconsole``,
``%autosave``, ``%edit``, ``%clear``, ``%less``, ``%more``, ``%man`` and
``%subshell``, with the output ipykernel gives, so notebooks and habits
written for ipykernel work unchanged.

Where ipykernel fails without a word (``%qtconsole`` without qtconsole installed),
these say what is missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

from IPython.core import page
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magics.code import CodeMagics, MacroToEdit
from IPython.display import Javascript, display
from IPython.utils import openpy
from IPython.utils.text import SList

from . import _natives


def connection_file() -> str:
    """The path of this kernel's connection file (Jupyter wrote it; the kernel
    was started with ``-f``)."""
    path = _natives.connection_file() if _natives.provided("connection_file") else None
    if path is None:
        raise UsageError("this kernel was started without a connection file, so other clients cannot join it")
    return path


def _runtime_dir() -> str | None:
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    return jupyter_runtime_dir()


@magics_class
class KernelMagics(Magics):
    """ipykernel's kernel magics."""

    @line_magic
    def connect_info(self, arg_s: str) -> None:
        """Print information for connecting other clients to this kernel

        It prints the contents of this session's connection file, and shortcuts
        for local clients. In the simplest case, when called from the most
        recently launched kernel, secondary clients can be connected with:

        $> jupyter <app> --existing
        """
        path = connection_file()
        info = Path(path).read_text()
        shown = Path(path).name if _runtime_dir() == str(Path(path).parent) else path
        print(info + "\n")
        print(
            f"Paste the above JSON into a file, and connect with:\n"
            f"    $> jupyter <app> --existing <file>\n"
            f"or, if you are local, you can connect with just:\n"
            f"    $> jupyter <app> --existing {shown}\n"
            f"or even just:\n"
            f"    $> jupyter <app> --existing\n"
            f"if this is the most recent Jupyter kernel you have started."
        )

    @line_magic
    def qtconsole(self, arg_s: str) -> None:
        """Open a qtconsole connected to this kernel.

        Useful for connecting a qtconsole to running notebooks, for better
        debugging.
        """
        if importlib.util.find_spec("qtconsole") is None:
            raise UsageError(
                f"%qtconsole needs the qtconsole package in this environment ({sys.executable}): "
                "pip install qtconsole, or connect another client with the command %connect_info prints"
            )
        from IPython.utils.process import arg_split

        # Its own session and process group, so an interrupt of the kernel does
        # not reach it.
        subprocess.Popen(
            [sys.executable, "-m", "qtconsole", "--existing", connection_file(), *arg_split(arg_s)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @line_magic
    def autosave(self, arg_s: str) -> None:
        """Set the autosave interval in the notebook (in seconds).

        The default value is 120, or two minutes. ``%autosave 0`` will disable
        autosave. This magic only has an effect when called from the classic
        notebook interface.
        """
        try:
            interval = int(arg_s)
        except ValueError as error:
            raise UsageError(f"%autosave requires an integer, got {arg_s!r}") from error
        display(
            Javascript(f"IPython.notebook.set_autosave_interval({1000 * interval})"),
            include=["application/javascript"],
        )
        print(f"Autosaving every {interval} seconds" if interval else "Autosave disabled")

    @line_magic
    def edit(self, parameter_s: str = "", last_call: list[str] | None = None) -> None:
        """Open a file, an object's source or earlier input in the frontend's editor.

        Usage: %edit [-n LINE] [-p] [-r] [args], as IPython's %edit takes them. The
        frontend opens the file; it is not run when the editor closes.
        """
        opts, args = self.parse_options(parameter_s, "prn:")
        try:
            filename, lineno, _ = CodeMagics._find_edit_target(self.shell, args, opts, last_call or ["", ""])
        except MacroToEdit:
            raise UsageError("%edit of a macro needs a terminal IPython; edit the macro's text instead") from None
        if filename is None:
            return
        self.shell.payload_manager.write_payload(
            {"source": "edit_magic", "filename": str(Path(filename).resolve()), "line_number": lineno}
        )

    @line_magic
    def clear(self, arg_s: str) -> None:
        """Clear the terminal."""
        self.shell.system("clear")

    @line_magic
    def less(self, arg_s: str) -> None:
        """Show a file through the pager.

        Files ending in .py are syntax-highlighted."""
        if not arg_s:
            raise UsageError("Missing filename.")
        if arg_s.endswith(".py"):
            text = self.shell.pycolorize(openpy.read_py_file(arg_s, skip_encoding_cookie=False))
        else:
            text = Path(arg_s).read_text()
        page.page(text)

    more = line_magic("more")(less)

    @line_magic
    def man(self, arg_s: str) -> None:
        """Find the man page for the given command and display in pager."""
        text = self.shell.getoutput(f"man {arg_s} | col -b", split=False)
        if isinstance(text, SList):
            text = text.n
        page.page(text)

    @line_magic
    def subshell(self, arg_s: str) -> None:
        """List all current subshells."""
        from . import _subshells

        print(f"subshell id: {_subshells.current_id()}")
        print(f"thread id: {threading.current_thread().ident}")
        print(f"main thread id: {threading.main_thread().ident}")
        print(f"pid: {os.getpid()}")
        print(f"thread count: {threading.active_count()}")
        print(f"subshell list: {_subshells.ids()}")


__all__ = ["KernelMagics", "connection_file"]
