"""Another user on the machine gets nothing from a Tandem kernel.

CI runs as root: the tests create an unprivileged user and run integration/intruder.py as
that user against kernels of root, before and after R starts, with both worker pools
running, after `%R quit()`, and with exchange folders pre-created in /dev/shm. The
intruder finds what it attacks through /proc and /dev/shm. Nothing it sends may run,
nothing the kernel's user computes may reach it, and the kernel keeps working.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
import uuid
from pathlib import Path

import psutil
import pytest

from conftest import PYTHON, run_cell, running_kernel, stdout_of

INTRUDER = "tandem-intruder"
SCRIPT = Path(__file__).with_name("intruder.py")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="a second local user needs root (CI runs as root)",
)


@pytest.fixture(scope="module")
def intruder_user():
    if subprocess.run(["id", INTRUDER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", INTRUDER],
                       check=True)
    return INTRUDER


def start_intruder(user: str, km, seconds: float, marker: str, subscribe: bool = False):
    ports = jupyter_ports(km)
    command = [shutil.which("runuser"), "-u", user, "--", PYTHON, str(SCRIPT),
               "--kernel-pid", str(km.provisioner.process.pid),
               "--seconds", str(seconds), "--marker", marker]
    if subscribe:
        command.append("--subscribe")
    # An intruder watching /proc/net/tcp sees the ports a kernel opens as it starts;
    # the test names them, so that other kernels and services on the machine are
    # left alone. Ports on command lines, ipc endpoints and files it finds itself.
    command += ["--ports", ",".join(map(str, ports))]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def report_of(process) -> dict:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out)


def ok(kc, code: str) -> str:
    content, outputs = run_cell(kc, code, timeout=90)
    assert content["status"] == "ok", (code, content, outputs)
    return stdout_of(outputs)


def assert_nothing_gained(report: dict, marker: str, secrets: list[str]) -> None:
    assert report["received"] == [], report
    assert not report["marker_written"] and not os.path.exists(marker), report
    text = json.dumps(report)
    for secret in secrets:
        assert secret not in text, report
    private = [p for p in report["files"] if "/tandem-" in p or p.endswith(".json")]
    assert private, report  # the intruder found the kernel's folder and connection file
    for path in private:
        # The kernel's folder and connection file are closed to others: nothing in
        # them is listed, read or written. (Other paths on the command lines, such
        # as the R library, are public by design.)
        assert report["files"][path] in ("PermissionError", "FileNotFoundError"), (path, report["files"][path])


def tree_listening_ports(pid: int) -> set[int]:
    """TCP ports that the kernel or any process it started listens on."""
    root = psutil.Process(pid)
    ports = set()
    for process in [root, *root.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        ports |= {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}
    return ports


def jupyter_ports(km) -> set[int]:
    info = km.get_connection_info()
    return {info[f"{name}_port"] for name in ("shell", "iopub", "stdin", "control", "hb")}


def test_another_user_cannot_reach_r_or_the_workers(intruder_user):
    marker = f"/tmp/tandem-intrusion-{uuid.uuid4().hex}"
    secret = f"secret-{uuid.uuid4().hex}"
    with running_kernel("tandem") as (km, kc):
        pid = km.provisioner.process.pid
        # Before R starts: the intruder watches while the first R cell starts R.
        intruder = start_intruder(intruder_user, km, 4, marker)
        time.sleep(0.5)
        assert ok(kc, f'%%R\nsecret <- "{secret}"\ncat(nchar(secret))').strip() == str(len(secret))
        assert_nothing_gained(report_of(intruder), marker, [secret])

        # R and both worker pools running.
        ok(kc, "import tandem\nsquares = tandem.map(lambda i: i * i, range(50), progress=False)")
        ok(kc, "%%R\nlibrary(future); plan(tandem::workers)\nf <- future(sum(1:10)); v <- value(f)")
        intruder = start_intruder(intruder_user, km, 4, marker)
        time.sleep(0.5)
        out = ok(kc, f"""secret_py = "{secret}"
more = tandem.map(lambda s: s.upper(), [secret_py] * 4, progress=False)
r_value = %R paste(secret, v)
print(sum(squares), more[0] == secret_py.upper(), r_value == secret_py + " 55")""")
        assert out.split() == [str(sum(i * i for i in range(50))), "True", "True"], out
        report = report_of(intruder)
        assert_nothing_gained(report, marker, [secret, secret.upper()])
        assert report["endpoints"], "the intruder found nothing to attack: the test would prove nothing"
        assert tree_listening_ports(pid) == jupyter_ports(km)

        # R gone (%R quit()): its socket is still bound, waiting for the next R.
        content, _ = run_cell(kc, "%R quit()")
        intruder = start_intruder(intruder_user, km, 3, marker)
        time.sleep(1.5)
        assert ok(kc, '%%R\ncat("fresh", exists("secret"))').split() == ["fresh", "FALSE"]
        assert_nothing_gained(report_of(intruder), marker, [secret])
        assert tree_listening_ports(pid) == jupyter_ports(km)
        assert ok(kc, "print(kc_check := 1 + 1)").strip() == "2"


def test_squatted_exchange_folders_are_never_used(intruder_user, tmp_path):
    """Folders that another user made for the next pids, with the old and the new
    naming, change nothing: the kernel makes its own."""
    last = max(p.pid for p in psutil.process_iter())
    names = []
    for pid in range(last + 1, last + 200):
        names += [f"tandem-{pid}", f"tandem-{pid}-AAAAAA"]
    script = "import os\nfor n in %r:\n    os.makedirs('/dev/shm/' + n, mode=0o777, exist_ok=True)\n" % names
    subprocess.run([shutil.which("runuser"), "-u", intruder_user, "--", PYTHON, "-c", script], check=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    try:
        with running_kernel("tandem") as (km, kc):
            folder = ok(kc, "import os; print(os.environ['TANDEM_EXCHANGE_DIR'])").strip()
            info = os.lstat(folder)
            assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            assert stat.S_IMODE(info.st_mode) == 0o700
            assert os.path.basename(folder) not in names
            # Large values still travel through it, and the pool works.
            out = ok(kc, """import numpy as np, tandem
x = np.arange(1_000_000, dtype=np.float64)
print(tandem.submit(sum, [1, 2, 3]).result())""")
            assert out.strip() == "6"
            assert ok(kc, "%%R -i x\ncat(sum(x))").strip() == str(sum(range(1_000_000)))
            assert tree_listening_ports(km.provisioner.process.pid) == jupyter_ports(km)
        # The other user's folders were neither used nor removed.
        assert all(os.path.isdir(f"/dev/shm/{n}") for n in names)
    finally:
        for name in names:
            shutil.rmtree(f"/dev/shm/{name}", ignore_errors=True)


def test_encrypted_sockets_give_another_user_no_output(intruder_user):
    """With CurveZMQ (transport_encryption="required"), not even IOPub, which any
    local user can read from a plain TCP kernel, tells the intruder anything."""
    from jupyter_client.manager import start_new_kernel

    marker = f"/tmp/tandem-intrusion-{uuid.uuid4().hex}"
    secret = f"secret-{uuid.uuid4().hex}"
    km, kc = start_new_kernel(kernel_name="tandem", transport_encryption="required")
    try:
        intruder = start_intruder(intruder_user, km, 4, marker, subscribe=True)
        time.sleep(1.5)
        for _ in range(5):
            assert ok(kc, f'print("{secret}")').strip() == secret
            time.sleep(0.3)
        report = report_of(intruder)
        assert any(e.startswith("sub tcp://") for e in report["endpoints"]), report
        assert_nothing_gained(report, marker, [secret])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
