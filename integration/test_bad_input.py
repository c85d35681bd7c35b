"""Bad messages are dropped or answered with an error; the kernel keeps serving.
Bad start-up conditions end with one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import time
from contextlib import contextmanager

import zmq
from jupyter_client.session import Session

from conftest import PYTHON, TANDEM, run_cell


def raw_shell(km):
    """A DEALER on the kernel's shell port, outside jupyter_client."""
    info = km.get_connection_info()
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
    return sock


def test_badly_signed_execute_is_never_run(kernel, tmp_path):
    km, kc = kernel
    marker = tmp_path / "ran"
    bad = Session(key=b"not-the-key")
    sock = raw_shell(km)
    code = f"open({str(marker)!r}, 'w').write('x')"
    bad.send(sock, "execute_request", {"code": code, "silent": False})
    # Same message, correct key but a tampered signature.
    good = Session(key=km.session.key)
    msg = good.msg("execute_request", {"code": code, "silent": False})
    frames = good.serialize(msg)
    frames[1] = b"0" * len(frames[1])
    sock.send_multipart(frames)
    # An unsigned message.
    frames = good.serialize(msg)
    frames[1] = b""
    sock.send_multipart(frames)
    assert sock.poll(1000) == 0, "a badly signed request got a reply"
    reply, _ = run_cell(kc, "1")
    assert reply["status"] == "ok"
    assert not marker.exists()


def test_replayed_message_is_refused(kernel):
    km, kc = kernel
    sock = raw_shell(km)
    session = Session(key=km.session.key)
    msg = session.msg("execute_request", {"code": "counter = globals().get('counter', 0) + 1"})
    frames = session.serialize(msg)
    sock.send_multipart(frames)
    assert sock.poll(5000)
    sock.recv_multipart()
    sock.send_multipart(frames)
    assert sock.poll(1000) == 0, "a replayed request got a reply"
    reply, outputs = run_cell(kc, "counter")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["1"]


def test_signed_garbage_gets_an_error_reply(kernel):
    km, kc = kernel
    sock = raw_shell(km)
    session = Session(key=km.session.key)
    # Valid header, content that is not JSON.
    msg = session.msg("execute_request", {})
    header = session.pack(msg["header"])
    parts = [header, b"{}", b"{}", b"{not json"]
    sock.send_multipart([b"<IDS|MSG>", session.sign(parts), *parts])
    assert sock.poll(5000)
    reply = session.deserialize(session.feed_identities(sock.recv_multipart())[1])
    assert reply["msg_type"] == "execute_reply"
    assert reply["content"]["status"] == "error"
    assert "invalid content" in reply["content"]["evalue"]
    # A header without a session.
    header = session.msg_header("execute_request")
    del header["session"]
    parts = [session.pack(header), b"{}", b"{}", b'{"code": "1"}']
    sock.send_multipart([b"<IDS|MSG>", session.sign(parts), *parts])
    assert sock.poll(5000)
    reply = session.deserialize(session.feed_identities(sock.recv_multipart())[1])
    assert reply["content"]["ename"] == "InvalidMessage"
    assert "session" in reply["content"]["evalue"]
    # Unknown request type.
    session.send(sock, "frobnicate_request", {})
    assert sock.poll(5000)
    reply = session.deserialize(session.feed_identities(sock.recv_multipart())[1])
    assert reply["msg_type"] == "frobnicate_reply"
    assert reply["content"]["ename"] == "UnknownMessageType"


def test_fuzzed_frames_leave_kernel_serving(kernel):
    km, kc = kernel
    sock = raw_shell(km)
    session = Session(key=km.session.key)
    rng = random.Random(1234)
    valid = session.serialize(session.msg("kernel_info_request", {}))

    def mutate():
        kind = rng.randrange(6)
        frames = list(valid)
        if kind == 0:  # random bytes
            return [rng.randbytes(rng.randrange(0, 64)) for _ in range(rng.randrange(1, 8))]
        if kind == 1:  # no delimiter
            return frames[1:]
        if kind == 2:  # too few frames
            return frames[: rng.randrange(0, 5)] or [b""]
        if kind == 3:  # flipped byte in a signed part
            i = rng.randrange(2, len(frames))
            part = bytearray(frames[i]) or bytearray(b"x")
            part[rng.randrange(len(part))] ^= 0xFF
            frames[i] = bytes(part)
            return frames
        if kind == 4:  # correctly signed, broken JSON header
            parts = [rng.randbytes(20), b"{}", b"{}", b"{}"]
            return [b"<IDS|MSG>", session.sign(parts), *parts]
        # correctly signed, header missing fields
        header = {"msg_id": "x", "date": None} if rng.random() < 0.5 else []
        parts = [json.dumps(header).encode(), b"{}", b"{}", b"[]"]
        return [b"<IDS|MSG>", session.sign(parts), *parts]

    for _ in range(1000):
        sock.send_multipart(mutate())
    while sock.poll(200):  # replies to the signed-but-broken ones
        sock.recv_multipart()
    big = session.msg("execute_request", {"code": "x" * (70 << 20)})
    sock.send_multipart(session.serialize(big))
    assert sock.poll(30000)
    reply = session.deserialize(session.feed_identities(sock.recv_multipart())[1])
    assert reply["content"]["status"] == "error"
    assert "exceeds" in reply["content"]["evalue"]
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=30)
    assert reply["msg_type"] == "kernel_info_reply"
    assert run_cell(kc, "1 + 1")[0]["status"] == "ok"


def run_tandem(*args, env=None, timeout=30):
    return subprocess.run(
        [TANDEM, *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def connection_file(tmp_path, **overrides):
    ports = {}
    for name in ("shell", "iopub", "stdin", "control", "hb"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[f"{name}_port"] = s.getsockname()[1]
    info = {"transport": "tcp", "ip": "127.0.0.1", "key": "k",
            "signature_scheme": "hmac-sha256", **ports, **overrides}
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(info))
    return path, info


def test_missing_connection_file(tmp_path):
    result = run_tandem("kernel", "-f", str(tmp_path / "nope.json"), "--python", PYTHON)
    assert result.returncode != 0
    assert "cannot read connection file" in result.stderr and "no such file" in result.stderr


def test_invalid_connection_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    result = run_tandem("kernel", "-f", str(path), "--python", PYTHON)
    assert result.returncode != 0
    assert "not usable" in result.stderr


def test_port_already_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        path, _ = connection_file(tmp_path, shell_port=taken.getsockname()[1])
        result = run_tandem("kernel", "-f", str(path), "--python", PYTHON)
    assert result.returncode != 0
    assert "already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_python_without_ipython(tmp_path):
    bare = tmp_path / "bare"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(bare)], check=True)
    path, _ = connection_file(tmp_path)
    result = run_tandem("kernel", "-f", str(path), "--python", str(bare / "bin" / "python"))
    assert result.returncode != 0
    assert "cannot import IPython" in result.stderr
    assert "pip install ipython" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@contextmanager
def kernel_logging_to(log, env=None):
    """A started kernel whose stderr (its log) goes to the file `log`, and its client."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="tandem")
    with open(log, "w") as stderr:
        km.start_kernel(stderr=stderr, env={**os.environ, **(env or {})})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def wait_for_log(log, text, seconds):
    deadline = time.monotonic() + seconds
    while text not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_logs_go_to_stderr_not_cells(tmp_path):
    log = tmp_path / "kernel.log"
    with kernel_logging_to(log, {"TANDEM_LOG_LEVEL": "debug"}) as (km, kc):
        sock = raw_shell(km)  # kept open: closing it (linger 0) would discard the message
        Session(key=b"wrong").send(sock, "execute_request", {"code": "1"})
        reply, outputs = run_cell(kc, "print('only this')")
        assert [c["text"] for t, c in outputs if t == "stream"] == ["only this\n"]
        # The raw socket connects on its own schedule; give the kernel time to log.
        wait_for_log(log, "dropped a message", 10)
    text = log.read_text()
    assert "dropped a message on shell" in text and "signature" in text


def test_doctor_reports_what_it_found():
    result = run_tandem("doctor", "--python", PYTHON)
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("libzmq", "libpython3", "IPython", "matplotlib-inline", f"runs cells         inside {PYTHON}"):
        assert word in result.stdout


def test_a_flood_of_bad_messages_is_counted_not_logged_line_by_line(tmp_path):
    log = tmp_path / "kernel.log"
    with kernel_logging_to(log) as (km, kc):
        sock = raw_shell(km)
        wrong = Session(key=b"wrong")
        for i in range(2000):
            wrong.send(sock, "execute_request", {"code": str(i)})
        assert run_cell(kc, "1 + 1")[0]["status"] == "ok"
        # The count of the held-back lines comes when their window (5 s) ends.
        wait_for_log(log, "more like it", 20)
    lines = [line for line in log.read_text().splitlines() if "dropped a message" in line]
    assert 2 <= len(lines) <= 6, lines
    counted = len(lines) + sum(int(re.search(r"and (\d+) more like it", line).group(1))
                               for line in lines if "more like it" in line)
    assert counted == 2000, lines
