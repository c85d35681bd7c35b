"""Several hosts on one machine: a Dask scheduler and two Dask workers, each in a
network namespace of its own, joined by a bridge in the namespace this driver runs
in (`unshare -n`, made by integration/test_dask_cluster.py), with TLS and client
certificates everywhere; a Tandem kernel here uses the cluster from Python and R.

Prints what it saw as one JSON object on its last line. Every process it starts
lives in namespaces it made and removes; no traffic leaves them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from jupyter_client.manager import start_new_kernel

SUFFIX = str(os.getpid())
HOSTS = {"scheduler": "10.87.0.10", "w1": "10.87.0.11", "w2": "10.87.0.12"}
SCHEDULER = f"tls://{HOSTS['scheduler']}:8786"
BIN = Path(sys.executable).parent


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def namespace(host: str) -> str:
    return f"tandem-{host}-{SUFFIX}"


def make_network() -> None:
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "tandem-br", "type", "bridge")
    sh("ip", "addr", "add", "10.87.0.1/24", "dev", "tandem-br")
    sh("ip", "link", "set", "tandem-br", "up")
    for host, address in HOSTS.items():
        ns = namespace(host)
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", f"v-{host}", "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", f"v-{host}", "master", "tandem-br", "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")


def remove_network() -> None:
    for host in HOSTS:
        kill_namespace(host)
        subprocess.run(["ip", "netns", "del", namespace(host)], capture_output=True)


def kill_namespace(host: str) -> None:
    pids = subprocess.run(["ip", "netns", "pids", namespace(host)], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA, and a key and certificate signed by it for each party."""
    def openssl(*arguments: str) -> None:
        sh("openssl", *arguments)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tandem-test-ca",
            "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem"))
    for party in ("scheduler", "worker", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={party}",
                "-keyout", str(folder / f"{party}.key"), "-out", str(folder / f"{party}.csr"))
        openssl("x509", "-req", "-in", str(folder / f"{party}.csr"), "-CA", str(folder / "ca.pem"),
                "-CAkey", str(folder / "ca.key"), "-CAcreateserial", "-days", "2", "-out", str(folder / f"{party}.pem"))
    return {name: folder / name for name in ("ca.pem", "client.pem", "client.key")}


def start_cluster(folder: Path) -> list[subprocess.Popen]:
    # The workers find Tandem's R package where this environment keeps it, as
    # workers set up for Tandem would (TANDEM_R_LIBRARY, or R's own library).
    os.environ["TANDEM_R_LIBRARY"] = str(Path(sys.executable).parent.parent / "R-library")
    tls = ["--tls-ca-file", str(folder / "ca.pem")]
    log = open(folder / "cluster.log", "w")
    processes = [subprocess.Popen(
        ["ip", "netns", "exec", namespace("scheduler"), str(BIN / "dask"), "scheduler", "--protocol", "tls",
         "--host", HOSTS["scheduler"], "--port", "8786", "--no-dashboard", *tls,
         "--tls-cert", str(folder / "scheduler.pem"), "--tls-key", str(folder / "scheduler.key")],
        stdout=log, stderr=subprocess.STDOUT)]
    time.sleep(2)
    for host in ("w1", "w2"):
        processes.append(subprocess.Popen(
            ["ip", "netns", "exec", namespace(host), str(BIN / "dask"), "worker", SCHEDULER, "--host", HOSTS[host],
             "--nthreads", "2", "--no-dashboard", "--name", host, *tls,
             "--tls-cert", str(folder / "worker.pem"), "--tls-key", str(folder / "worker.key")],
            stdout=log, stderr=subprocess.STDOUT))
    return processes


def run(kc, code: str, timeout: float = 300) -> tuple[dict, str]:
    outputs: list = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
    text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
    return reply["content"], text


def value(kc, code: str, timeout: float = 300) -> object:
    """The JSON a cell prints on its last line, or the cell's error."""
    content, text = run(kc, code, timeout)
    if content["status"] != "ok":
        return {"error": content.get("ename"), "evalue": content.get("evalue", "")[:1000]}
    return json.loads(text.strip().splitlines()[-1])


CONNECT = f"""
import json, time
from distributed import Client, get_worker
import tandem
client = Client("{SCHEDULER}")
client.wait_for_workers(2, timeout=120)
ex = tandem.executor(dask=client)
print(json.dumps(sorted(client.scheduler_info()["workers"])))
"""

PYTHON_MAP = """
def square(i):
    return i * i, get_worker().address
results = list(ex.map(square, range(200)))
print(json.dumps({"values": [v for v, _ in results], "workers": sorted({w for _, w in results})}))
"""

PANEL = """
import time
busy = [ex.submit(time.sleep, 3) for _ in range(4)]
time.sleep(1)
tandem.status()
"""


def panel_text(kc, code: str) -> str:
    """The text of the last display a cell showed (the pool panel)."""
    outputs: list = []
    kc.execute_interactive(code, timeout=120, output_hook=outputs.append)
    shown = [m["content"]["data"]["text/plain"] for m in outputs
             if m["msg_type"] in ("display_data", "update_display_data") and "text/plain" in m["content"].get("data", {})]
    return shown[-1] if shown else ""


R_FITS = """
import numpy as np, pandas as pd
frames = [pd.DataFrame({"x": np.arange(20.0), "y": (k + 1) * np.arange(20.0) + k}) for k in range(50)]
code = "list(coef = unname(coef(lm(y ~ x, data = d))), worker = Sys.getenv('TANDEM_DASK_WORKER'))"
fits = [f.result() for f in [ex.submit_r(code, d=d) for d in frames]]
print(json.dumps({"coefficients": [[float(c) for c in f["coef"]] for f in fits],
                  "workers": sorted({f["worker"] for f in fits})}))
"""

R_PLAN = f"""%%R
library(future)
plan(tandem::workers, dask = "{SCHEDULER}")
parts <- future.apply::future_lapply(1:100, function(i) list(i^2, Sys.getenv("TANDEM_DASK_WORKER")))
cat(jsonlite::toJSON(list(values = sapply(parts, `[[`, 1), workers = sort(unique(sapply(parts, `[[`, 2))))), "\\n")
"""

R_PY_FUTURE = """%%R
f <- py_future("from distributed import get_worker; [x * 2, get_worker().address]", x = 21)
v <- value(f)
cat(jsonlite::toJSON(list(value = v[[1]], worker = v[[2]]), auto_unbox = TRUE), "\\n")
"""

KILLED = """
import time
def slow(i):
    time.sleep(0.5)
    return i * 3
python_futures = [ex.submit(slow, i) for i in range(40)]
r_futures = [ex.submit_r("Sys.sleep(0.5); i * 3L", i=i) for i in range(40)]
time.sleep(2)
print(json.dumps("submitted"))
"""

KILLED_RESULTS = """
print(json.dumps({"python": [f.result(timeout=240) for f in python_futures],
                  "r": [int(f.result(timeout=240)) for f in r_futures],
                  "workers": sorted(client.scheduler_info()["workers"])}))
"""

REFUSE_PLAIN = f"""
try:
    tandem.executor(dask="{SCHEDULER.replace('tls://', 'tcp://')}")
    print(json.dumps("accepted"))
except ValueError as error:
    print(json.dumps(str(error)))
"""

REFUSE_PLAIN_R = f"""%%R
message <- tryCatch({{
  plan(tandem::workers, dask = "{SCHEDULER.replace('tls://', 'tcp://')}")
  value(future(1))
  "accepted"
}}, error = function(e) conditionMessage(e))
plan(sequential)
cat(jsonlite::toJSON(message, auto_unbox = TRUE), "\\n")
"""


def refuse_without_certificate(ca: Path) -> str:
    """What the scheduler answers a client that trusts its CA but has no
    certificate of its own: the TLS handshake, then a read."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    try:
        with socket.create_connection((HOSTS["scheduler"], 8786), timeout=10) as raw:
            with context.wrap_socket(raw) as connection:
                connection.recv(1)  # TLS 1.3 refuses the client after the handshake
        return "connected"
    except (OSError, ssl.SSLError) as error:
        return f"{type(error).__name__}: {error}"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="tandem-dask-"))
    report: dict = {}
    processes: list[subprocess.Popen] = []
    try:
        make_network()
        certificates = make_certificates(folder)
        processes = start_cluster(folder)
        # The kernel's Dask configuration: TLS with its client certificate, required.
        os.environ.update({
            "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(certificates["ca.pem"]),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(certificates["client.pem"]),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(certificates["client.key"]),
        })
        report["without certificate"] = refuse_without_certificate(certificates["ca.pem"])
        # The kernel serves its metrics here, for the Dask task series.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            metrics = f"127.0.0.1:{probe.getsockname()[1]}"
        os.environ["TANDEM_METRICS"] = metrics
        km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=60)
        try:
            report["workers"] = value(kc, CONNECT)
            report["python map"] = value(kc, PYTHON_MAP)
            report["panel"] = panel_text(kc, PANEL)
            report["r fits"] = value(kc, R_FITS)
            report["r plan"] = value(kc, R_PLAN)
            report["py_future"] = value(kc, R_PY_FUTURE)
            report["plain tcp"] = value(kc, REFUSE_PLAIN)
            report["plain tcp from R"] = value(kc, REFUSE_PLAIN_R)
            report["killed submitted"] = value(kc, KILLED)
            kill_namespace("w1")
            report["after kill"] = value(kc, KILLED_RESULTS)
            with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=30) as page:
                report["metrics"] = [line for line in page.read().decode().splitlines()
                                     if line.startswith("tandem_dask_tasks_total{")]
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    except Exception as error:  # reported, with the cluster's log, for the test to show
        report["driver error"] = f"{type(error).__name__}: {error}"
    finally:
        for process in processes:
            process.kill()
        remove_network()
        log = folder / "cluster.log"
        report["cluster log tail"] = log.read_text()[-3000:] if log.exists() else ""
    print(json.dumps(report))


if __name__ == "__main__":
    main()
