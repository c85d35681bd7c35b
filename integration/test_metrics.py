"""Prometheus metrics of the kernel and its pool, read by a real Prometheus server.

Debian's `prometheus` (installed by `make setup`) scrapes a Tandem kernel on
loopback while the kernel runs a Python and an R fan-out, each with one task that
raises, one whose worker is killed and one slow task. The counts Prometheus holds
must equal what the cells saw, the alert rules of docs/monitoring.md must fire, and the
kernel's own series (requests, cells, R restarts, exchanged bytes) must match the
requests the test sent.

Over 400 lines on purpose: one Prometheus server and one kernel serve every case,
and starting them is most of the cost.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, TANDEM, running_kernel, run_cell

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("CI"), reason="prometheus is installed by `make setup`"
)

PYTHON_FAN_OUT = """
import json, os, signal, time
import tandem

def work(x):
    if x == 13:
        raise ValueError("thirteen")
    if x == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    if x == 21:
        time.sleep(1.5)
    return x * x

futures = [tandem.submit(work, x) for x in range(40)]
outcomes = {"finished": 0, "failed": 0, "lost": 0}
for future in futures:
    try:
        future.result(timeout=120)
        outcomes["finished"] += 1
    except tandem.WorkerLost:
        outcomes["lost"] += 1
    except ValueError:
        outcomes["failed"] += 1
print(json.dumps(outcomes))
"""

R_FAN_OUT = """%%R
library(future)
plan(tandem::workers)
fs <- lapply(1:20, function(i) future({
  if (i == 5) stop("five")
  if (i == 9) tools::pskill(Sys.getpid(), tools::SIGKILL)
  if (i == 3) Sys.sleep(1.5)
  i^2
}))
outcome <- vapply(fs, function(f) tryCatch({
  value(f)
  "finished"
}, error = function(e) if (grepl("five", conditionMessage(e))) "failed" else "lost"), character(1))
cat(jsonlite::toJSON(as.list(table(outcome)), auto_unbox = TRUE))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metrics_url(kc) -> str:
    """Where the kernel serves metrics, as `%tandem` says it."""
    _, outputs = run_cell(kc, "%tandem")
    text = "".join(c.get("text", "") for t, c in outputs if t == "stream")
    found = re.search(r"metrics: (http://\S+/metrics)", text)
    assert found, text
    return found.group(1)


def fetch(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def samples(text: str) -> dict[str, float]:
    """The exposition's samples: {'name{labels}': value}."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample whatever the order of its labels; None when absent."""
    for key, value in samples(text).items():
        metric, _, rest = key.partition("{")
        if metric != name:
            continue
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if all(pairs.get(k) == v for k, v in labels.items()):
            return value
    return None


@contextlib.contextmanager
def metrics_kernel(name: str = "tandem", address: str = "127.0.0.1:0"):
    previous = os.environ.get("TANDEM_METRICS")
    os.environ["TANDEM_METRICS"] = address
    try:
        with running_kernel(name) as (km, kc):
            yield km, kc
    finally:
        if previous is None:
            os.environ.pop("TANDEM_METRICS", None)
        else:
            os.environ["TANDEM_METRICS"] = previous


def documented_alert_rules() -> str:
    text = (ROOT / "docs" / "monitoring.md").read_text()
    found = re.search(r"```yaml\n(groups:\n.*?)```", text, re.S)
    assert found, "the alert rules block of docs/monitoring.md"
    return found.group(1)


@contextlib.contextmanager
def prometheus(target: str, folder: Path, rules: Path):
    """A Prometheus server on loopback scraping `target` every second."""
    port = free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {rules}\n"
        "scrape_configs:\n  - job_name: tandem\n    static_configs:\n"
        f"      - targets: ['{target}']\n"
    )
    log = open(folder / "prometheus.log", "w")
    server = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (folder / "prometheus.log").read_text()
            with contextlib.suppress(OSError):
                if fetch(base + "/-/ready")[0] == 200:
                    break
            assert time.monotonic() < deadline, "prometheus did not get ready in 60 s"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def query(base: str, expression: str) -> dict[tuple, float]:
    """An instant query: {tuple of sorted label pairs (without __name__): value}."""
    status, _, body = fetch(base + "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
    reply = json.loads(body)
    assert status == 200 and reply["status"] == "success", body
    return {
        tuple(sorted((k, v) for k, v in item["metric"].items() if k not in ("__name__", "instance", "job"))):
            float(item["value"][1])
        for item in reply["data"]["result"]
    }


def wait_for(base: str, expression: str, expected: dict[tuple, float], seconds: float = 60) -> dict:
    """Queries until the answer holds `expected` (the server scrapes each second)."""
    deadline = time.monotonic() + seconds
    while True:
        found = query(base, expression)
        if all(found.get(key) == value for key, value in expected.items()):
            return found
        assert time.monotonic() < deadline, f"{expression}: {found}, expected {expected}"
        time.sleep(0.5)


@needs_prometheus
def test_prometheus_scrapes_the_fan_outs_their_failures_and_restarts(tmp_path):
    assert PROMETHEUS and PROMTOOL, "prometheus and promtool come with Debian's prometheus package"
    rules = tmp_path / "tandem-rules.yml"
    rules.write_text(documented_alert_rules())
    checked = subprocess.run([PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    with metrics_kernel() as (km, kc):
        url = metrics_url(kc)
        target = urllib.parse.urlparse(url).netloc
        assert target.startswith("127.0.0.1:")
        with prometheus(target, tmp_path, rules) as base:
            wait_for(base, 'up{job="tandem"}', {(): 1.0})
            content, outputs = run_cell(kc, PYTHON_FAN_OUT, timeout=180)
            assert content["status"] == "ok", outputs
            py = json.loads("".join(c["text"] for t, c in outputs if t == "stream").strip().splitlines()[-1])
            content, outputs = run_cell(kc, R_FAN_OUT, timeout=180)
            assert content["status"] == "ok", outputs
            r = json.loads("".join(c["text"] for t, c in outputs if t == "stream").strip().splitlines()[-1])
            # What the cells saw: one task raised, one lost its worker, the rest returned.
            assert py == {"finished": 38, "failed": 1, "lost": 1}
            assert r == {"finished": 18, "failed": 1, "lost": 1}

            seen = {"py": py, "r": r}
            expected = {
                (("language", language), ("state", state)): float(count)
                for language, counts in seen.items() for state, count in counts.items()
            }
            wait_for(base, 'tandem_tasks_total{state=~"finished|failed|lost"}', expected)
            wait_for(base, "tandem_tasks_submitted_total", {(("language", "py"),): 40.0, (("language", "r"),): 20.0})
            wait_for(
                base, "tandem_worker_restarts_total",
                {(("cause", "killed"), ("language", "py")): 1.0, (("cause", "killed"), ("language", "r")): 1.0},
            )
            # The duration histogram holds every task that ran to an outcome (not the lost ones).
            ran = {lang: float(counts["finished"] + counts["failed"]) for lang, counts in seen.items()}
            wait_for(base, "tandem_task_duration_seconds_count", {(("language", k),): v for k, v in ran.items()})
            buckets = query(base, "tandem_task_duration_seconds_bucket")
            for language, count in ran.items():
                assert buckets[(("language", language), ("le", "+Inf"))] == count
                # The slow task (1.5 s) is above 1 s, every other one below.
                assert buckets[(("language", language), ("le", "1.0"))] == count - 1
                assert buckets[(("language", language), ("le", "2.5"))] == count
            # Everything ended: no task queued or running, no worker busy.
            wait_for(base, 'sum by (language) (tandem_tasks{state=~"queued|running"})',
                     {(("language", "py"),): 0.0, (("language", "r"),): 0.0})
            workers = query(base, "tandem_worker_resident_memory_bytes")
            assert {dict(key)["language"] for key in workers} == {"py", "r"}
            assert all(value > 1e6 for value in workers.values()), workers

            # The documented rules: p99 of both languages is over 500 ms (2.5 % of the
            # tasks took 1.5 s), and two tasks of each failed within the minute.
            deadline = time.monotonic() + 60
            while True:
                alerts = json.loads(fetch(base + "/api/v1/alerts")[2])["data"]["alerts"]
                firing = {(a["labels"]["alertname"], a["labels"]["language"]) for a in alerts
                          if a["state"] in ("pending", "firing")}
                wanted = {(name, lang) for name in ("TandemTaskLatencyHigh", "TandemTasksFailing")
                          for lang in ("py", "r")}
                if wanted <= firing:
                    break
                assert time.monotonic() < deadline, alerts
                time.sleep(0.5)


def test_the_kernels_own_series_count_its_requests_cells_and_r(tmp_path):
    with metrics_kernel() as (km, kc):
        url = metrics_url(kc)
        status, headers, text = fetch(url)
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        before = sample(text, "tandem_requests_total", msg_type="execute_request")
        before_python = sample(text, "tandem_execute_duration_seconds_count", language="python")

        cells = [
            "import numpy as np\nx = np.arange(1_000_000, dtype=np.float64)",
            "%R -i x y <- x * 2",
            "%R -o y",
            "%%R\ntools::pskill(Sys.getpid(), tools::SIGKILL)",
        ]
        for code in cells:
            run_cell(kc, code, timeout=60)
        content, outputs = run_cell(kc, "%%R\nz <- 1\nz", timeout=60)
        assert content["status"] == "ok", outputs
        assert any("R restarted" in c.get("text", "") for t, c in outputs if t == "stream"), outputs
        kc.complete("np.ara", 6)
        kc.get_shell_msg(timeout=10)

        text = fetch(url)[2]
        # This scrape counts the cells above; %tandem's own cell came before `before`.
        assert sample(text, "tandem_requests_total", msg_type="execute_request") == before + len(cells) + 1
        assert sample(text, "tandem_requests_total", msg_type="complete_request") == 1
        assert sample(text, "tandem_execute_duration_seconds_count", language="python") == before_python + 3
        assert sample(text, "tandem_execute_duration_seconds_count", language="r") == 2
        assert sample(text, "tandem_r_session_restarts_total") == 1
        # x went to R (8 MB of doubles) and y came back.
        assert sample(text, "tandem_exchange_bytes_total", direction="python_to_r") >= 8_000_000
        assert sample(text, "tandem_exchange_bytes_total", direction="r_to_python") >= 8_000_000
        assert sample(text, "tandem_exchange_duration_seconds_count", direction="python_to_r") >= 1
        assert sample(text, "tandem_busy_seconds_total") > 0
        kernel_memory = sample(text, "tandem_process_resident_memory_bytes", process="kernel")
        r_memory = sample(text, "tandem_process_resident_memory_bytes", process="r")
        assert kernel_memory > 8_000_000 and r_memory > 8_000_000, (kernel_memory, r_memory)
        # Histograms have the buckets of sub-millisecond cells and of hour-long ones.
        assert sample(text, "tandem_execute_duration_seconds_bucket", language="python", le="0.0001") is not None
        assert sample(text, "tandem_execute_duration_seconds_bucket", language="python", le="3600.0") is not None

        assert fetch(url.replace("/metrics", "/"))[0] == 404


def test_a_port_in_use_leaves_the_kernel_running_and_says_why():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with metrics_kernel(address=f"127.0.0.1:{port}") as (km, kc):
            content, outputs = run_cell(kc, "%tandem")
            text = "".join(c.get("text", "") for t, c in outputs if t == "stream")
            assert f"metrics: not served: cannot serve metrics on 127.0.0.1:{port}" in text, text
            content, outputs = run_cell(kc, "1 + 1")
            assert content["status"] == "ok"


def test_without_metrics_nothing_listens_and_percent_tandem_says_how_to_turn_them_on():
    os.environ.pop("TANDEM_METRICS", None)
    with running_kernel() as (km, kc):
        _, outputs = run_cell(kc, "%tandem")
        text = "".join(c.get("text", "") for t, c in outputs if t == "stream")
        assert "metrics: off (start the kernel with --metrics HOST:PORT or TANDEM_METRICS)" in text
        pid = km.provisioner.process.pid
        # The kernel's only listening TCP sockets are the five of its connection file.
        ports = {km.shell_port, km.iopub_port, km.stdin_port, km.control_port, km.hb_port}
        assert listening_ports(pid) == ports


def listening_ports(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_a_bad_address_ends_the_kernel_naming_the_form(tmp_path):
    from jupyter_client.connect import write_connection_file

    connection, _ = write_connection_file(str(tmp_path / "kernel.json"))
    python = PYTHON
    ended = subprocess.run(
        [TANDEM, "kernel", "-f", connection, "--python", python, "--metrics", "localhost:http"],
        capture_output=True, text=True, timeout=60,
    )
    assert ended.returncode != 0
    assert 'bad metrics address "localhost:http": give HOST:PORT' in ended.stderr, ended.stderr
    refused = subprocess.run(
        [TANDEM, "install", "--prefix", str(tmp_path), "--python", python, "--metrics", "127.0.0.1:99999"],
        capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode != 0
    assert "--metrics: bad metrics address" in refused.stderr, refused.stderr


def test_install_writes_the_address_and_doctor_reports_it(tmp_path):
    python = PYTHON
    installed = subprocess.run(
        [TANDEM, "install", "--prefix", str(tmp_path), "--name", "tandem-metrics", "--python", python,
         "--metrics", "127.0.0.1:9464"],
        capture_output=True, text=True, timeout=120,
    )
    assert installed.returncode == 0, installed.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/tandem-metrics/kernel.json").read_text())
    assert spec["argv"][-2:] == ["--metrics", "127.0.0.1:9464"]
    environment = dict(os.environ, JUPYTER_PATH=str(tmp_path / "share/jupyter"), TANDEM_METRICS="")
    doctor = subprocess.run(
        [TANDEM, "doctor", "--python", python], capture_output=True, text=True, timeout=120, env=environment
    )
    assert "metrics            kernelspec tandem-metrics: http://127.0.0.1:9464/metrics" in doctor.stdout, (
        doctor.stdout
    )


def test_a_stuck_task_shows_in_the_metrics_for_an_alert():
    with metrics_kernel() as (km, kc):
        url = metrics_url(kc)
        content, outputs = run_cell(
            kc, "import tandem, time\ntandem.status(stuck_after=0.5)\nslow = tandem.submit(time.sleep, 30)"
        )
        assert content["status"] == "ok", outputs
        deadline = time.monotonic() + 30
        while True:
            text = fetch(url)[2]
            if sample(text, "tandem_tasks_stuck", language="py") == 1:
                break
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
        assert sample(text, "tandem_task_oldest_running_seconds", language="py") > 0.5
        assert sample(text, "tandem_tasks", language="py", state="running") == 1
        assert sample(text, "tandem_workers", language="py", state="busy") == 1
        # An interrupt of the cell waiting for it ends it: nothing is stuck any more.
        kc.execute("slow.result()")
        time.sleep(0.5)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        deadline = time.monotonic() + 30
        while sample(fetch(url)[2], "tandem_tasks_stuck", language="py") != 0:
            assert time.monotonic() < deadline
            time.sleep(0.2)
