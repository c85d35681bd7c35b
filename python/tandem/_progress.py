"""A progress bar in the cell: one display updated in place (update_display_data),
rate-limited, with a text/plain form for consoles and saved notebooks (a console
shows only the first display, which therefore names the work, not its progress)."""

from __future__ import annotations

import html
import time

_INTERVAL = 0.25  # seconds between updates


class Progress:
    """Shows ``label: done/total`` as it advances; nothing outside IPython."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is not None:
            bundle = self._bundle()
            # A console prints this once and ignores updates: its text must not be
            # a snapshot that goes stale.
            bundle["text/plain"] = f"{label}: {total} tasks"
            self._handle = display(bundle, raw=True, display_id=True)
            self._last = time.monotonic()

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self._handle is not None and now - self._last >= _INTERVAL:
            self._handle.update(self._bundle(), raw=True)
            self._last = now

    def close(self) -> None:
        """Shows the final state."""
        if self._handle is not None:
            self._handle.update(self._bundle(), raw=True)
            self._handle = None

    def _bundle(self) -> dict:
        elapsed = time.monotonic() - self._start
        share = self.done / self.total if self.total else 1.0
        width = 30
        filled = int(share * width)
        text = (
            f"{self.label}: {self.done}/{self.total} [{'#' * filled}{'.' * (width - filled)}] "
            f"{share:.0%} {elapsed:.1f} s"
        )
        markup = (
            f"<div><code>{html.escape(self.label)}</code> "
            f'<progress value="{self.done}" max="{self.total}" style="width:20em"></progress> '
            f"{self.done}/{self.total} ({share:.0%}, {elapsed:.1f} s)</div>"
        )
        return {"text/plain": text, "text/html": markup}
