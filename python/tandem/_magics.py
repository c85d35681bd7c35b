"""``%tandem``: what this kernel is serving, and ``%tandem status``, the pool panel."""

from __future__ import annotations

import argparse
import json
import shlex

from IPython.core.magic import Magics, line_magic, magics_class

from . import _natives

_USAGE = "%tandem [status [--stuck-after SECONDS] [--watch SECONDS]]"


@magics_class
class TandemMagics(Magics):
    @line_magic
    def tandem(self, line: str) -> None:
        """``%tandem``: the kernel's metrics endpoint and pool size.
        ``%tandem status [--stuck-after S] [--watch S]``: the pool panel
        (:func:`tandem.status`)."""
        words = shlex.split(line)
        if not words:
            print(describe())
            return
        if words[0] != "status":
            raise ValueError(f"%tandem does not know {words[0]!r}: use {_USAGE}")
        parser = argparse.ArgumentParser(prog="%tandem status", add_help=False, exit_on_error=False)
        parser.add_argument("--stuck-after", type=float)
        parser.add_argument("--watch", type=float)
        try:
            options = parser.parse_args(words[1:])
        except (argparse.ArgumentError, SystemExit) as error:
            raise ValueError(f"{error}: use {_USAGE}") from None
        from ._status import status

        status(stuck_after=options.stuck_after, watch=options.watch)


def describe() -> str:
    """The lines ``%tandem`` prints."""
    import tandem

    lines = [f"Tandem {tandem.__version__}"]
    where = _natives.metrics_address() if _natives.provided("metrics_address") else {}
    if where.get("url"):
        lines.append(f"metrics: {where['url']} (Prometheus text)")
    elif where.get("problem"):
        lines.append(f"metrics: not served: {where['problem']}")
    else:
        lines.append("metrics: off (start the kernel with --metrics HOST:PORT or TANDEM_METRICS)")
    if _natives.provided("futures_status"):
        workers = json.loads(_natives.futures_status())["workers"]
        counts = ", ".join(
            f"{sum(1 for w in workers if w['language'] == code)} {name}" for code, name in (("py", "Python"), ("r", "R"))
        )
        lines.append(f"pool: {counts} workers running; tandem.status() shows them")
    else:
        lines.append("pool: none (the kernel has no futures broker)")
    return "\n".join(lines)
