"""R cells: ``%%R``, ``%R``, ``%Rpush``, ``%Rpull``, ``%Rget`` and ``%Rdevice``,
as rpy2's IPython extension documents them.

R runs in a child process driven by the kernel; these magics hand it the code
and the plot settings, and turn R's outcome into Python's: an R error becomes an
:class:`RError`, an interrupt a ``KeyboardInterrupt``. Values that come back
keep everything Tandem's conversion table keeps (names, time zones, raw vectors,
scalars); in a notebook that loaded ``rpy2.ipython``, whose code expects rpy2's
numpy/pandas shapes, the magics return those (vectors as numpy arrays, even of
length one).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, needs_local_scope
from IPython.core.magic_arguments import argument, argument_group, magic_arguments, parse_argstring

from . import _errors
from ._bridge import Bridge, pack
from ._errors import ConversionError, check_reply
from ._streams import flush_streams

_DEVICES = {"png": ["text/plain", "image/png"], "svg": ["text/plain", "image/svg+xml"]}


@magics_class
class RMagics(Magics):
    """Run R code in the kernel's R session."""

    def __init__(self, shell, bridge: Bridge, stdin_allowed: Callable[[], bool]) -> None:
        super().__init__(shell)
        self._bridge = bridge
        self._stdin_allowed = stdin_allowed
        self.device = "png"
        #: The plot size of cells that say none: rpy2's 480 x 480 pixels for %%R
        #: cells; the R-first kernel sets none, keeping IRkernel's (repr.plot.*).
        self.default_plot: dict[str, Any] = {"width": 480, "height": 480, "units": "px", "res": 72}
        #: Whether values return in rpy2's shapes: set by ``%load_ext rpy2.ipython``.
        self.rpy2_shapes = False

    def run(
        self,
        code: str,
        *,
        result: bool,
        plot: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
        capture: bool | str = False,
        local_ns: dict | None = None,
        line: bool = False,
    ) -> Any:
        """Run R code; with ``result`` its last visible value is the cell's result.

        ``inputs`` maps R names to the Python variables they receive (looked up
        in ``local_ns`` first, dotted paths allowed), ``outputs`` Python names to
        the R variables they receive afterwards. ``capture`` returns the code's
        last value to Python: True (or "visible") when R would show it, "any"
        always, "none" never (and R does not show it either). A ``line`` (``%R``)
        shows no values, only plots and what the code prints.
        """
        request: dict[str, Any] = {
            "type": "execute",
            "r_first": _errors.r_first,
            "code": code,
            "allow_stdin": self._stdin_allowed(),
            "result": result,
            "execution_count": self.shell.displayhook.prompt_count,
        }
        if line:
            request["line"] = True
        # PNG is R's default (options(jupyter.plot_mimetypes)), which R code may change.
        plot = plot or {}
        if plot.get("units", "px") == "px":  # sizes in other units are all the user's
            plot = {**self.default_plot, **plot}
        if self.device != "png":
            plot["mimetypes"] = _DEVICES[self.device]
        if plot:
            request["plot"] = plot
        frames: list = []
        if inputs:
            values = {r_name: self._find(py_name, local_ns, "-i") for r_name, py_name in inputs.items()}
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
        check_reply(reply)
        if not (outputs or capture):
            return None
        values, errors = self._bridge.decode_reply(reply, reply_frames, rpy2=self.rpy2_shapes)
        for py_name, r_name in (outputs or {}).items():
            if r_name in values:
                self.shell.user_ns[py_name] = values[r_name]
        if errors:
            raise ConversionError("; ".join(errors))
        return values.get(".value")

    def _find(self, name: str, local_ns: dict | None, what: str) -> Any:
        """A Python value by name (``a.b.c`` walks attributes): the caller's local
        variables first, then the notebook's, as rpy2 looks them up."""
        head, *path = name.split(".")
        for namespace in (local_ns or {}, self.shell.user_ns):
            if head in namespace:
                value = namespace[head]
                break
        else:
            hint = " (a trailing comma or a space in the list?)" if not head else ""
            raise NameError(f"{what} {name}: Python has no variable named {head!r}{hint}")
        for i, attribute in enumerate(path):
            try:
                value = getattr(value, attribute)
            except AttributeError:
                where = ".".join([head, *path[:i]])
                raise AttributeError(f"{what} {name}: {where!r} has no attribute {attribute!r}") from None
        return value

    @magic_arguments()
    @argument(
        "-i", "--input", action="append", default=[],
        help="Python variables to assign in R first: x,y or rname=pyname.",
    )
    @argument(
        "-o", "--output", action="append", default=[],
        help="R variables to assign in Python after: x,y or pyname=rname.",
    )
    @argument("-n", "--noreturn", action="store_true", help="Return nothing to Python (line mode).")
    @argument(
        "-d", "--display",
        help="Python function called with the cell's last visible value and the magic's "
        "arguments, instead of R showing it.",
    )
    @argument_group("Plot", "Arguments to the plotting device")
    @argument("-w", "--width", type=float, help="Width of plots (in --units).")
    @argument("-h", "--height", type=float, help="Height of plots (in --units).")
    @argument("-p", "--pointsize", type=int, help="Point size of text in plots.")
    @argument("-b", "--bg", help="Background colour of plots.")
    @argument("-u", "--units", choices=["px", "in", "cm", "mm"], help="Units of width and height.")
    @argument("-r", "--res", type=int, help="Resolution of PNG plots in dots per inch.")
    @needs_local_scope
    @line_cell_magic
    def R(self, line: str, cell: str | None = None, local_ns: dict | None = None) -> Any:
        """Run R code: ``%R expr`` for one line (its value returns to Python),
        ``%%R`` for the whole cell (R code after the flags runs first).

        ``-i x,y`` assigns Python variables in R before the code runs (``-i
        rname=pyname`` under another name; inside a function its local variables
        come first), ``-o x,y`` assigns R variables in Python after it. ``-n``
        returns nothing; ``-d f`` hands the cell's last visible value to the Python
        function ``f(value, args)`` instead of showing it. Plots appear inline as
        PNG (``%Rdevice svg`` for SVG) at the size given by ``-w``/``-h`` in ``-u``
        units (pixels unless given; 72 dpi for inches unless ``-r`` says), with
        ``-p`` point size and ``-b`` background.
        """
        options, code = _split_options(line)
        plot: dict[str, Any] = {}
        inputs: dict[str, str] = {}
        outputs: dict[str, str] = {}
        args = None
        if options:  # argparse costs more than a trivial R cell: only when there are options
            args = parse_argstring(self.R, options)
            plot = {
                "width": args.width, "height": args.height, "units": args.units, "res": args.res,
                "pointsize": args.pointsize, "bg": args.bg,
            }
            plot = {k: v for k, v in plot.items() if v is not None}
            # rpy2's defaults: sizes in pixels, 72 dpi for physical units.
            if ("width" in plot or "height" in plot) and "units" not in plot:
                plot["units"] = "px"
            if plot.get("units") in ("in", "cm", "mm") and "res" not in plot:
                plot["res"] = 72
            inputs = _name_pairs(args.input)
            outputs = _name_pairs(args.output)
        noreturn = bool(args and args.noreturn)
        display = None
        if args and args.display:
            display = self._find(args.display, local_ns, "-d")
        if cell is not None:
            code = f"{code}\n{cell}" if code.strip() else cell
        elif code.rstrip().endswith(";"):
            noreturn = True  # as in rpy2: a trailing ';' leaves an empty last line
        if display is not None:
            capture: bool | str = "visible"
        elif cell is None:
            # A line returns its last value when it is visible or an assignment
            # (`%R -o W W = 2 * Z`); in rpy2's notebooks whatever it is, as rpy2
            # returns it (`%R print(x)` gives x).
            capture = "none" if noreturn else "last" if self.rpy2_shapes else "any"
        else:
            capture = False
        value = self.run(
            code,
            result=cell is not None and display is None,
            plot=plot,
            inputs=inputs,
            outputs=outputs,
            capture=capture,
            local_ns=local_ns,
            line=cell is None,
        )
        if display is not None:
            if value is not None:
                display(value, args)
            return None
        return value

    @magic_arguments()
    @argument("inputs", nargs="*", help="Python variables: x y, or rname=pyname.")
    @needs_local_scope
    @line_magic
    def Rpush(self, line: str, local_ns: dict | None = None) -> None:
        """Assign Python variables in R: ``%Rpush x y`` (``rname=pyname`` renames;
        inside a function its local variables come first)."""
        args = parse_argstring(self.Rpush, line)
        names = _name_pairs(args.inputs)
        self._bridge.assign({r_name: self._find(py_name, local_ns, "%Rpush") for r_name, py_name in names.items()})

    @magic_arguments()
    @argument("outputs", nargs="*", help="R variables: x y.")
    @line_magic
    def Rpull(self, line: str) -> None:
        """Assign R variables in Python: ``%Rpull x y``."""
        args = parse_argstring(self.Rpull, line)
        names = [name for spec in args.outputs for name in spec.split(",") if name]
        if names:
            self.run("", result=False, outputs={name: name for name in names})

    @magic_arguments()
    @argument("output", nargs=1, help="An R variable.")
    @line_magic
    def Rget(self, line: str) -> Any:
        """The value of an R variable, as ``%Rpull`` would assign it: ``%Rget x``."""
        args = parse_argstring(self.Rget, line)
        name = args.output[0]
        return self._bridge.request_values({"type": "get", "name": name}, rpy2=self.rpy2_shapes)[name]

    @line_magic
    def Rdevice(self, line: str) -> None:
        """Choose the plot format of R cells: ``png`` (default) or ``svg``."""
        device = line.strip() or "png"
        if device not in _DEVICES:
            raise ValueError(f"unknown device {device!r}: use one of {', '.join(_DEVICES)}")
        self.device = device


_OPTION = re.compile(r"\s*(--?[A-Za-z]+)(?:=|\s+)(\S+)")
_FLAG = re.compile(r"\s*(-n|--noreturn)(?=\s|$)")


def _split_options(line: str) -> tuple[str, str]:
    """Splits ``-w 5 -i x code...`` into the options and the R code, which is kept
    as written (quotes and all)."""
    position = 0
    while match := _FLAG.match(line, position) or _OPTION.match(line, position):
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


def r_first_cell_transform(
    transform_cell: Callable[[str], str], cell: Callable[[], tuple[str, int]]
) -> Callable[[str], str]:
    """The R-first kernel's ``transform_cell``. ``cell()`` gives the cell's language
    and the length of its magic line, as the kernel's router found them: a
    ``%%python`` cell is Python without that line; the cells that reach IPython
    otherwise are ``%%R`` cells with options, IPython's magic. (Plain R cells run
    in R, not here.)"""

    def transform(raw_cell: str) -> str:
        language, magic_length = cell()
        if language == "python":
            return transform_cell(raw_cell[magic_length:])
        return transform_cell(raw_cell)

    return transform
