"""The pool panel's text and HTML, from snapshots as the broker writes them."""

import pytest

from tandem import _status

SNAPSHOT = {
    "workers": [
        {"name": "w1", "language": "py", "pid": 101, "state": "busy", "task": 7, "taskSeconds": 400.0,
         "held": 1, "done": 5, "failed": 1, "cpuSeconds": 3.0, "memory": 12 * 2**20},
        {"name": "w2", "language": "r", "pid": 102, "state": "idle", "held": 0, "done": 3, "failed": 0,
         "cpuSeconds": 1.0, "memory": 2**30 + 2**29},
    ],
    "queued": {"py": 4, "r": 0},
    "ended": {"py": {"finished": 5, "failed": 1, "lost": 0}, "r": {"finished": 3}},
    "recent": [{"language": "py", "seconds": s, "failed": False} for s in (0.001, 0.002, 0.003, 2.0)],
    "failuresLastMinute": 2,
    "stuckAfter": 300.0,
}


def test_text_lists_each_worker_and_the_summary():
    text = _status.render_text(SNAPSHOT, {101: 97.4})
    lines = text.splitlines()
    assert lines[0] == "Tandem pool: 2 workers"
    assert lines[1].split() == ["worker", "language", "pid", "state", "task", "running", "CPU", "memory", "done",
                                "failed"]
    assert lines[2].split() == ["w1", "Python", "101", "STUCK", "#7", "6.7", "min", "97%", "12.0", "MB", "5", "1"]
    assert lines[3].split() == ["w2", "R", "102", "idle", "1.5", "GB", "3", "0"]
    assert "queued: Python 4, R 0" in lines
    assert "tasks ended: Python: 1 failed, 5 finished; R: 3 finished" in lines
    assert "last 4 task durations: median 3.0 ms, p90 2.0 s, max 2.0 s" in lines
    assert "STUCK: w1 running one task for over 5.0 min" in lines
    assert "FAILING: 2 tasks failed in the last minute" in lines


def test_a_healthy_pool_has_no_warnings_and_html_escapes():
    calm = dict(SNAPSHOT, failuresLastMinute=1, stuckAfter=1000.0)
    calm["workers"] = [dict(SNAPSHOT["workers"][0], name="<w1>")]
    text = _status.render_text(calm, {})
    assert "STUCK" not in text and "FAILING" not in text
    markup = _status.render_html(calm, {})
    assert "<td>&lt;w1&gt;</td>" in markup and "<w1>" not in markup
    assert "color:#c00" not in markup


def test_an_empty_pool_says_so():
    text = _status.render_text({"workers": [], "queued": {"py": 0, "r": 0}}, {})
    assert text.splitlines()[0] == "Tandem pool: 0 workers (none started yet)"


def test_status_outside_the_kernel_names_where_it_works():
    with pytest.raises(RuntimeError, match="call it in a Tandem notebook cell"):
        _status.status()


def test_arguments_must_be_positive_seconds():
    for bad in ("soon", -1, 0, float("nan"), True):
        with pytest.raises(ValueError, match="must be a positive number of seconds"):
            _status._seconds_argument("watch", bad)
    assert _status._seconds_argument("watch", 2) == 2.0


def test_the_dask_clusters_tandem_uses_are_listed_under_the_pool():
    snapshot = {
        "workers": [], "queued": {"py": 0, "r": 0},
        "clusters": [
            {"scheduler": "tls://10.0.0.1:8786", "running": 3, "workers": [
                {"address": "tls://10.0.0.2:40001", "name": "w1", "threads": 2, "running": 2, "memory": 3 * 2**20},
                {"address": "tls://10.0.0.3:40002", "name": "w2", "threads": 2, "running": 1, "memory": None},
            ]},
            {"scheduler": "tls://10.0.0.9:8786", "error": "connection refused", "workers": []},
        ],
    }
    text = _status.render_text(snapshot, {})
    assert "Dask cluster tls://10.0.0.1:8786: 2 workers, 3 tasks running" in text
    assert any(line.split()[:4] == ["tls://10.0.0.2:40001", "w1", "2", "2"] and line.endswith("3.0 MB")
               for line in text.splitlines())
    assert "Dask cluster tls://10.0.0.9:8786: unreachable (connection refused)" in text
    page = _status.render_html(snapshot, {})
    assert "<td>tls://10.0.0.3:40002</td><td>w2</td><td>2</td><td>1</td><td></td>" in page
