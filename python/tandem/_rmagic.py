"""R cells: the ``%%R`` cell magic, the ``%R`` line magic and ``%Rdevice``.

R runs in a child process driven by the kernel; these magics hand it the code
and the plot settings, and turn R's outcome into Python's: an R error becomes an
:class:`RError`, an interrupt a ``KeyboardInterrupt``.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ._streams import flush_streams

RCall = Callable[[bytes], bytes]

_DEVICES = {"png": ["text/plain", "image/png"], "svg": ["text/plain", "image/svg+xml"]}


class RError(Exception):
    """An error raised by R code; its traceback is R's."""

    def __init__(self, message: str, traceback: list[str] | None = None) -> None:
        super().__init__(message)
        self.r_traceback = traceback or [f"Error: {message}"]

    def _render_traceback_(self) -> list[str]:
        return self.r_traceback


@magics_class
class RMagics(Magics):
    """Run R code in the kernel's R session."""

    def __init__(self, shell, call: RCall, stdin_allowed: Callable[[], bool]) -> None:
        super().__init__(shell)
        self._call = call
        self._stdin_allowed = stdin_allowed
        self.device = "png"

    def run(self, code: str, *, result: bool, plot: dict[str, Any] | None = None) -> None:
        """Run R code; with ``result`` its last visible value is the cell's result."""
        request = {
            "type": "execute",
            "code": code,
            "allow_stdin": self._stdin_allowed(),
            "result": result,
            "execution_count": self.shell.displayhook.prompt_count,
            "plot": {"mimetypes": _DEVICES[self.device], **(plot or {})},
        }
        flush_streams()  # Python's output so far comes before R's
        reply = json.loads(self._call(json.dumps(request).encode()))
        for payload in reply.get("payload") or []:
            self.shell.payload_manager.write_payload(payload)
        status = reply.get("status")
        if status == "interrupted":
            raise KeyboardInterrupt
        if status == "error":
            raise RError(reply.get("evalue", ""), reply.get("traceback"))

    @magic_arguments()
    @argument("-w", "--width", type=float, help="Width of plots (in --units).")
    @argument("-h", "--height", type=float, help="Height of plots (in --units).")
    @argument("-u", "--units", choices=["px", "in", "cm", "mm"], help="Units of width and height.")
    @argument("-r", "--res", type=int, help="Resolution of PNG plots in dots per inch.")
    @argument("code", nargs="*", help="R code to run before the cell body.")
    @line_cell_magic
    def R(self, line: str, cell: str | None = None) -> None:
        """Run R code: ``%R expr`` for one line, ``%%R`` for the whole cell.

        Plots appear inline as PNG (``%Rdevice svg`` for SVG) at the size given by
        ``-w``/``-h`` in ``-u`` units (R's ``repr.plot.*`` options otherwise).
        """
        plot: dict[str, Any] = {}
        code = ""
        if line.strip():
            args = parse_argstring(self.R, line)
            plot = {"width": args.width, "height": args.height, "units": args.units, "res": args.res}
            plot = {k: v for k, v in plot.items() if v is not None}
            code = " ".join(args.code)
        if cell is not None:
            code = f"{code}\n{cell}" if code else cell
        self.run(code, result=cell is not None, plot=plot)

    @line_magic
    def Rdevice(self, line: str) -> None:
        """Choose the plot format of R cells: ``png`` (default) or ``svg``."""
        device = line.strip() or "png"
        if device not in _DEVICES:
            raise ValueError(f"unknown device {device!r}: use one of {', '.join(_DEVICES)}")
        self.device = device


def r_first_transformer(lines: list[str]) -> list[str]:
    """In the R-first kernel, every cell is R unless it starts with ``%%python``."""
    if lines and lines[0].strip() == "%%python":
        return lines[1:]
    if lines and lines[0].lstrip().startswith("%%R"):
        return lines
    return ["%%R\n", *lines]
