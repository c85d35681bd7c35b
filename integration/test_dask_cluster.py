"""Python and R futures on a Dask cluster of several hosts, with mutual TLS.

The hosts are network namespaces on this machine: `integration/dask_cluster_driver.py`
runs in a network namespace of its own (`unshare -n`, as root, which CI is), makes
one namespace for a Dask scheduler and one for each of two Dask workers, joins them
by a bridge, makes a CA and certificates, and starts the cluster with TLS and
client certificates required. A Tandem kernel beside the driver then runs, through
the cluster: a Python map of 200 tasks, 50 R model fits on data frames
(`submit_r`), an R `future_lapply` of 100 elements under
`plan(tandem::workers, dask = ...)` and a `py_future` from R; one worker's
namespace is killed while 80 Python and R tasks run, and every task still ends
right. A client without a certificate and a plain tcp:// address are refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "ip", "openssl")),
    reason="network namespaces need root, unshare, ip and openssl (CI runs as root)",
)

HERE = Path(__file__).resolve().parent
WORKER_ADDRESSES = ("tls://10.87.0.11:", "tls://10.87.0.12:")


@pytest.fixture(scope="module")
def report() -> dict:
    done = subprocess.run(
        ["unshare", "-n", "--", PYTHON, str(HERE / "dask_cluster_driver.py"), "tandem"],
        capture_output=True, text=True, timeout=900,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"the driver printed nothing; stderr:\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert "driver error" not in result, result
    return result


def ran_on_workers(workers: list[str]) -> bool:
    return bool(workers) and all(w.startswith(WORKER_ADDRESSES) for w in workers)


def test_the_kernel_reaches_both_workers_over_tls(report):
    assert len(report["workers"]) == 2 and ran_on_workers(report["workers"]), report["workers"]


def test_a_python_map_of_200_tasks_runs_on_the_cluster(report):
    result = report["python map"]
    assert result["values"] == [i * i for i in range(200)], result
    assert ran_on_workers(result["workers"]), result


def test_the_pool_panel_lists_the_clusters_workers_and_tasks(report):
    panel = report["panel"].splitlines()
    title = next((line for line in panel if line.startswith("Dask cluster tls://10.87.0.10:8786: 2 workers")), None)
    assert title is not None and "tasks running" in title, report["panel"]
    rows = [line.split() for line in panel if line.startswith(WORKER_ADDRESSES)]
    assert sorted(row[1] for row in rows) == ["w1", "w2"], report["panel"]


def test_50_r_fits_on_data_frames_give_their_coefficients(report):
    result = report["r fits"]
    # Frame k is y = (k + 1) x + k: intercept k, slope k + 1.
    fitted = [value for pair in result["coefficients"] for value in pair]
    assert fitted == pytest.approx([v for k in range(50) for v in (k, k + 1)], abs=1e-9), result
    assert ran_on_workers(result["workers"]), result


def test_an_r_future_lapply_runs_on_the_cluster(report):
    result = report["r plan"]
    assert result["values"] == [i * i for i in range(1, 101)], result
    assert ran_on_workers(result["workers"]), result


def test_a_py_future_from_r_runs_on_the_cluster(report):
    result = report["py_future"]
    assert result["value"] == 42 and ran_on_workers([result["worker"]]), result


def test_tasks_survive_a_killed_worker_host(report):
    assert report["killed submitted"] == "submitted", report
    result = report["after kill"]
    assert result["python"] == [i * 3 for i in range(40)], result
    assert result["r"] == [i * 3 for i in range(40)], result
    # The killed host's worker is gone; the other ran what it had.
    assert len(result["workers"]) == 1 and result["workers"][0].startswith("tls://10.87.0.12:"), result


def test_the_kernels_metrics_count_dask_tasks_by_the_worker_they_ran_on(report):
    counted: dict[tuple[str, str], float] = {}
    for line in report["metrics"]:
        labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
        worker = labels["worker"].strip('"')
        assert worker.startswith(WORKER_ADDRESSES) or worker == "unknown", line
        key = (labels["language"].strip('"'), labels["state"].strip('"'))
        counted[key] = counted.get(key, 0) + float(line.rsplit(" ", 1)[1])
    # Python: the map's 200, the panel's 4, the 40 of the killed host's run and the
    # py_future. R: the 50 fits, the 40 of that run, and future_lapply's chunks (one
    # per thread of the cluster: 4).
    assert counted.get(("py", "finished"), 0) >= 245, counted
    assert counted.get(("r", "finished"), 0) >= 94, counted


def test_a_client_without_a_certificate_is_refused(report):
    said = report["without certificate"]
    assert "CERTIFICATE_REQUIRED" in said.upper().replace(" ", "_"), said


def test_plain_tcp_is_refused_when_tls_is_configured(report):
    for said in (report["plain tcp"], report["plain tcp from R"]):
        assert said != "accepted" and "Tandem does not send tasks unencrypted" in said, said
        assert "tls://" in said, said


def test_r_errors_progress_and_workers_without_r_say_what_went_wrong():
    """On a local cluster: an R error raises RError with R's message; an R fan-out
    shows its progress bar in the cell; a worker whose R cannot be found, or lacks
    Tandem's R package, fails the task naming what is missing and on which worker."""
    from conftest import run_cell, running_kernel, stdout_of

    with running_kernel() as (km, kc):
        content, outputs = run_cell(kc, """
from distributed import LocalCluster, Client
import tandem, tandem.dask
cluster = LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None)
client = Client(cluster)
address = cluster.scheduler_address
ex = tandem.executor(dask=client)
try:
    ex.submit_r("stop('the model did not converge')").result()
except tandem.RError as error:
    print("RError:", error)
""", timeout=120)
        assert stdout_of(outputs) == "RError: the model did not converge\n", (content, outputs)
        content, outputs = run_cell(kc, """%%R -i address
library(future)
plan(tandem::workers, dask = address)
v <- future.apply::future_sapply(1:6, function(i) { Sys.sleep(0.4); i }, future.chunk.size = 1)
cat(sum(v))""", timeout=120)
        assert stdout_of(outputs) == "21", (content, outputs)
        bars = [c["data"]["text/plain"] for t, c in outputs if t in ("display_data", "update_display_data")]
        assert bars and bars[-1].startswith("futures: 6/6 [" + "#" * 30 + "] 100%"), bars
        for setup, expected in (
            ("r='tandem-no-such-R'", "'tandem-no-such-R' is not found there: install R on the workers"),
            ("library='/nonexistent'", "Tandem's R package is not installed for that R"),
        ):
            content, outputs = run_cell(kc, f"""
client.unregister_worker_plugin("tandem-r")
tandem.dask.setup(client, {setup})
try:
    ex.submit_r("1").result()
except RuntimeError as error:
    print(error)
""", timeout=120)
            said = stdout_of(outputs)
            assert expected in said and "Dask worker tcp://127.0.0.1:" in said, (setup, content, outputs)
