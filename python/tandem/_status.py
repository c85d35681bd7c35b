"""The pool panel: :func:`tandem.status` (also ``%tandem status`` and R's
``tandem::status()``).

One display, updated in place (``update_display_data``) by a thread of its own
while the cell that showed it runs, and once more when that cell ends: each
worker with its language, pid, state, current task and its age, CPU %, memory,
tasks done and failed; the queues; the latest tasks' durations. It has a
text/plain form for consoles and saved notebooks. A task running longer than the
stuck threshold is marked STUCK; more than one failure in the last minute marks
the pool FAILING. Prometheus sees the same through ``tandem_tasks_stuck`` and
``tandem_tasks_total{state="failed"}``.
"""

from __future__ import annotations

import html
import json
import sys
import threading
import time
import uuid

from . import _natives
from ._jsonutil import dumps

_INTERVAL = 0.5  # seconds between updates
_LANGUAGES = {"py": "Python", "r": "R"}

_panels: list[Panel] = []
_panels_lock = threading.Lock()


def status(*, stuck_after: float | None = None, watch: float | None = None) -> None:
    """Shows the futures pool in a panel that updates while the cell runs.

    ``stuck_after``: seconds after which a running task counts as stuck (for this
    panel, the ``tandem_tasks_stuck`` metric and later panels; 300 by default, or
    ``TANDEM_STUCK_AFTER``). ``watch``: wait here, updating, until the pool has no
    queued or running task or ``watch`` seconds pass (for a panel in a cell of its
    own, or in a subshell beside the work).
    """
    if not _natives.provided("futures_status"):
        raise RuntimeError("tandem.status() shows the kernel's worker pool: call it in a Tandem notebook cell")
    if stuck_after is not None:
        _natives.futures_stuck_after(_seconds_argument("stuck_after", stuck_after))
    if watch is not None:
        watch = _seconds_argument("watch", watch)
    panel = Panel(_natives.parent() or b"{}")
    if watch is None:
        panel.start()
        return
    deadline = time.monotonic() + watch
    while time.monotonic() < deadline and panel.busy:
        time.sleep(min(_INTERVAL, max(0.0, deadline - time.monotonic())))
        panel.update()


def _seconds_argument(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


def finish_request() -> None:
    """Ends the live panels of the request that is ending on this thread, each with
    a last update. The kernel calls it before a cell's reply, and after any other
    request (a comm message whose handler showed a panel)."""
    ending_id = _msg_id(_natives.parent())
    with _panels_lock:
        ending = [panel for panel in _panels if panel.msg_id == ending_id]
        _panels[:] = [panel for panel in _panels if panel.msg_id != ending_id]
    for panel in ending:
        panel.stop()


def _msg_id(header: bytes | None) -> str | None:
    return json.loads(header).get("msg_id") if header else None


class Panel:
    """One panel: its display id, the request it belongs to, the last snapshot."""

    def __init__(self, parent: bytes) -> None:
        self._parent = parent
        #: The request it belongs to: it updates until that request ends.
        self.msg_id = _msg_id(parent)
        self._id = uuid.uuid4().hex
        self._cpu: dict[int, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshot: dict = {}
        self._publish("display_data")

    @property
    def busy(self) -> bool:
        """Whether tasks are queued or running."""
        return any(self.snapshot.get("queued", {}).values()) or any(
            worker.get("task") is not None for worker in self.snapshot.get("workers", [])
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tandem status panel", daemon=True)
        with _panels_lock:
            _panels.append(self)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.update()

    def update(self) -> None:
        self._publish("update_display_data")

    def _run(self) -> None:
        while not self._stop.wait(_INTERVAL):
            self.update()

    def _publish(self, msg_type: str) -> None:
        self.snapshot = json.loads(_natives.futures_status())
        # The Dask clusters Tandem sent tasks to (only once it has: no import before).
        dask_clients = sys.modules.get("tandem._dask_clients")
        if dask_clients is not None:
            self.snapshot["clusters"] = dask_clients.clusters()
        cpu = self._cpu_percents()
        content = {
            "data": {
                "text/plain": render_text(self.snapshot, cpu),
                "text/html": render_html(self.snapshot, cpu),
            },
            "metadata": {},
            "transient": {"display_id": self._id},
        }
        _natives.publish_to(self._parent, msg_type, dumps(content), b"{}", [])

    def _cpu_percents(self) -> dict[int, float]:
        """Each worker's CPU use since the last update, in percent of one core."""
        now = time.monotonic()
        percents = {}
        seen = {}
        for worker in self.snapshot.get("workers", []):
            pid, cpu = worker["pid"], worker.get("cpuSeconds")
            if cpu is None:
                continue
            seen[pid] = (now, cpu)
            if pid in self._cpu and now > self._cpu[pid][0]:
                before_time, before_cpu = self._cpu[pid]
                percents[pid] = max(0.0, 100 * (cpu - before_cpu) / (now - before_time))
        self._cpu = seen
        return percents


def _rows(snapshot: dict, cpu: dict[int, float]) -> list[list[str]]:
    stuck_after = snapshot.get("stuckAfter", 300)
    rows = []
    for worker in snapshot.get("workers", []):
        age = worker.get("taskSeconds")
        task = worker.get("task")
        state = worker["state"]
        if age is not None and age > stuck_after:
            state = "STUCK"
        rows.append([
            worker["name"], _LANGUAGES.get(worker["language"], worker["language"]), str(worker["pid"]), state,
            f"#{task}" if task is not None else "", _seconds(age) if age is not None else "",
            f"{cpu[worker['pid']]:.0f}%" if worker["pid"] in cpu else "",
            _bytes(worker["memory"]) if worker.get("memory") is not None else "",
            str(worker["done"]), str(worker["failed"]),
        ])
    return rows


_HEADINGS = ["worker", "language", "pid", "state", "task", "running", "CPU", "memory", "done", "failed"]


def _summary(snapshot: dict) -> list[str]:
    """The lines under the table: queues, outcomes, durations, warnings."""
    queued = snapshot.get("queued", {})
    lines = ["queued: " + ", ".join(f"{_LANGUAGES.get(k, k)} {v}" for k, v in sorted(queued.items()))]
    ended = snapshot.get("ended", {})
    if ended:
        parts = []
        for language, counts in sorted(ended.items()):
            shown = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()) if count)
            parts.append(f"{_LANGUAGES.get(language, language)}: {shown}")
        lines.append("tasks ended: " + "; ".join(parts))
    recent = snapshot.get("recent", [])
    if recent:
        seconds = sorted(item["seconds"] for item in recent)
        lines.append(
            f"last {len(seconds)} task durations: median {_seconds(seconds[len(seconds) // 2])}, "
            f"p90 {_seconds(seconds[min(len(seconds) - 1, int(len(seconds) * 0.9))])}, "
            f"max {_seconds(seconds[-1])}"
        )
    stuck_after = snapshot.get("stuckAfter", 300)
    stuck = [w["name"] for w in snapshot.get("workers", []) if (w.get("taskSeconds") or 0) > stuck_after]
    if stuck:
        lines.append(f"STUCK: {', '.join(stuck)} running one task for over {_seconds(stuck_after)}")
    failures = snapshot.get("failuresLastMinute", 0)
    if failures > 1:
        lines.append(f"FAILING: {failures} tasks failed in the last minute")
    return lines


def render_text(snapshot: dict, cpu: dict[int, float]) -> str:
    """The panel as text: a table of the workers and the summary lines, then each
    Dask cluster Tandem uses."""
    workers = snapshot.get("workers", [])
    title = f"Tandem pool: {len(workers)} worker{'s' if len(workers) != 1 else ''}"
    rows = _rows(snapshot, cpu)
    lines = [title + " (none started yet)"] if not rows else [title] + _table(_HEADINGS, rows)
    lines += _summary(snapshot)
    for cluster in snapshot.get("clusters", []):
        lines.append(_cluster_title(cluster))
        if cluster.get("workers"):
            lines += _table(_CLUSTER_HEADINGS, _cluster_rows(cluster))
    return "\n".join(lines)


def _table(headings: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows + [headings]) for i in range(len(headings))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [headings] + rows]


_CLUSTER_HEADINGS = ["Dask worker", "name", "threads", "running", "memory"]


def _cluster_title(cluster: dict) -> str:
    if "error" in cluster:
        return f"Dask cluster {cluster['scheduler']}: unreachable ({cluster['error']})"
    count = len(cluster["workers"])
    return f"Dask cluster {cluster['scheduler']}: {count} worker{'s' if count != 1 else ''}, {cluster['running']} tasks running"


def _cluster_rows(cluster: dict) -> list[list[str]]:
    return [
        [w["address"], w["name"], str(w["threads"]), str(w["running"]),
         _bytes(w["memory"]) if w.get("memory") is not None else ""]
        for w in cluster["workers"]
    ]


def render_html(snapshot: dict, cpu: dict[int, float]) -> str:
    """The panel as an HTML table, stuck workers and failures in red."""
    workers = snapshot.get("workers", [])
    head = "".join(f"<th>{h}</th>" for h in _HEADINGS)
    body = []
    for row in _rows(snapshot, cpu):
        style = ' style="color:#c00;font-weight:bold"' if row[3] == "STUCK" else ""
        body.append(f"<tr{style}>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
    summary = "".join(
        f'<div style="color:#c00">{html.escape(line)}</div>' if line.startswith(("STUCK", "FAILING"))
        else f"<div>{html.escape(line)}</div>"
        for line in _summary(snapshot)
    )
    clusters = "".join(
        f"<div><b>{html.escape(_cluster_title(cluster))}</b></div>"
        + (_html_table(_CLUSTER_HEADINGS, _cluster_rows(cluster)) if cluster.get("workers") else "")
        for cluster in snapshot.get("clusters", [])
    )
    return (
        f'<div class="tandem-status"><b>Tandem pool</b>: {len(workers)} worker{"s" if len(workers) != 1 else ""}'
        f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{summary}{clusters}</div>'
    )


def _html_table(headings: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.1f} ms"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def _bytes(value: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
