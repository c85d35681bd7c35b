"""R cells: the ``%%R`` cell magic, the ``%R`` line magic and ``%Rdevice``.

R runs in a child process driven by the kernel; these magics hand it the code
and the plot settings, and turn R's outcome into Python's: an R error becomes an
:class:`RError`, an interrupt a ``KeyboardInterrupt``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ._bridge import Bridge, ConversionError, pack
from ._streams import flush_streams

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

    def __init__(self, shell, bridge: Bridge, stdin_allowed: Callable[[], bool]) -> None:
        super().__init__(shell)
        self._bridge = bridge
        self._stdin_allowed = stdin_allowed
        self.device = "png"

    def run(
        self,
        code: str,
        *,
        result: bool,
        plot: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
        capture: bool = False,
    ) -> Any:
        """Run R code; with ``result`` its last visible value is the cell's result.

        ``inputs`` maps R names to the Python variables they receive, ``outputs``
        Python names to the R variables they receive afterwards; with ``capture``
        the code's last visible value is returned to Python.
        """
        request: dict[str, Any] = {
            "type": "execute",
            "code": code,
            "allow_stdin": self._stdin_allowed(),
            "result": result,
            "execution_count": self.shell.displayhook.prompt_count,
        }
        # PNG is R's default (options(jupyter.plot_mimetypes)), which R code may change.
        plot = {**({"mimetypes": _DEVICES[self.device]} if self.device != "png" else {}), **(plot or {})}
        if plot:
            request["plot"] = plot
        frames: list = []
        if inputs:
            values = {}
            for r_name, py_name in inputs.items():
                if py_name not in self.shell.user_ns:
                    raise NameError(f"-i {py_name}: Python has no variable named {py_name}")
                values[r_name] = self.shell.user_ns[py_name]
            header, frames, errors = pack(values)
            if errors:
                # The values that can cross still arrive; the cell does not run without the rest.
                self._bridge.assign_packed(header, frames, errors)
            request["inputs"] = header
        if outputs:
            request["outputs"] = list(dict.fromkeys(outputs.values()))
        request["capture"] = capture
        flush_streams()  # Python's output so far comes before R's
        reply, reply_frames = self._bridge.call(request, frames)
        for payload in reply.get("payload") or []:
            self.shell.payload_manager.write_payload(payload)
        status = reply.get("status")
        if status == "interrupted":
            raise KeyboardInterrupt
        if status == "error":
            raise RError(reply.get("evalue", ""), reply.get("traceback"))
        if not (outputs or capture):
            return None
        values, errors = self._bridge.decode_reply(reply, reply_frames)
        for py_name, r_name in (outputs or {}).items():
            if r_name in values:
                self.shell.user_ns[py_name] = values[r_name]
        if errors:
            raise ConversionError("; ".join(errors))
        return values.get(".value")

    @magic_arguments()
    @argument("-i", "--input", action="append", default=[], help="Python variables to assign in R first: x,y or rname=pyname.")
    @argument("-o", "--output", action="append", default=[], help="R variables to assign in Python after: x,y or pyname=rname.")
    @argument("-w", "--width", type=float, help="Width of plots (in --units).")
    @argument("-h", "--height", type=float, help="Height of plots (in --units).")
    @argument("-u", "--units", choices=["px", "in", "cm", "mm"], help="Units of width and height.")
    @argument("-r", "--res", type=int, help="Resolution of PNG plots in dots per inch.")
    @line_cell_magic
    def R(self, line: str, cell: str | None = None) -> Any:
        """Run R code: ``%R expr`` for one line (its value returns to Python),
        ``%%R`` for the whole cell.

        ``-i x,y`` assigns Python variables in R before the code runs (``-i
        rname=pyname`` under another name), ``-o x,y`` assigns R variables in Python
        after it. Plots appear inline as PNG (``%Rdevice svg`` for SVG) at the size
        given by ``-w``/``-h`` in ``-u`` units (R's ``repr.plot.*`` options otherwise).
        """
        options, code = _split_options(line)
        plot: dict[str, Any] = {}
        inputs: dict[str, str] = {}
        outputs: dict[str, str] = {}
        if options:  # argparse costs more than a trivial R cell: only when there are options
            args = parse_argstring(self.R, options)
            plot = {"width": args.width, "height": args.height, "units": args.units, "res": args.res}
            plot = {k: v for k, v in plot.items() if v is not None}
            inputs = _name_pairs(args.input)
            outputs = _name_pairs(args.output)
        if cell is not None:
            code = f"{code}\n{cell}" if code.strip() else cell
        return self.run(
            code, result=cell is not None, plot=plot, inputs=inputs, outputs=outputs, capture=cell is None
        )

    @line_magic
    def Rdevice(self, line: str) -> None:
        """Choose the plot format of R cells: ``png`` (default) or ``svg``."""
        device = line.strip() or "png"
        if device not in _DEVICES:
            raise ValueError(f"unknown device {device!r}: use one of {', '.join(_DEVICES)}")
        self.device = device


_OPTION = re.compile(r"\s*(--?[A-Za-z]+)(?:=|\s+)(\S+)")


def _split_options(line: str) -> tuple[str, str]:
    """Splits ``-w 5 -i x code...`` into the options and the R code, which is kept
    as written (quotes and all)."""
    position = 0
    while match := _OPTION.match(line, position):
        position = match.end()
    return line[:position], line[position:].strip()


def _name_pairs(specs: list[str]) -> dict[str, str]:
    """``["x,y", "a=b"]`` -> ``{"x": "x", "y": "y", "a": "b"}`` (target -> source)."""
    pairs = {}
    for spec in specs:
        for item in filter(None, (part.strip() for part in spec.split(","))):
            target, _, source = item.partition("=")
            pairs[target.strip()] = (source or target).strip()
    return pairs


def r_first_transformer(lines: list[str]) -> list[str]:
    """In the R-first kernel, every cell is R unless it starts with ``%%python``."""
    if lines and lines[0].strip() == "%%python":
        return lines[1:]
    if lines and lines[0].lstrip().startswith("%%R"):
        return lines
    return ["%%R\n", *lines]


def r_first_cell_transform(transform_cell: Callable[[str], str]) -> Callable[[str], str]:
    """The R-first kernel's ``transform_cell``: a cell without magics is R, so it
    becomes the ``%%R`` call IPython's transformers would write, without tokenizing
    the R code as Python to find that out (a sixth of a trivial R cell's time)."""

    def transform(raw_cell: str) -> str:
        if raw_cell.lstrip().startswith("%"):
            return transform_cell(raw_cell)
        return f"get_ipython().run_cell_magic('R', '', {raw_cell!r})\n"

    return transform

