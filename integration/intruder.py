"""Another local user trying to get into a Tandem kernel (run by integration/test_local_users.py
as an unprivileged user): everything it learns comes from /proc and /dev/shm, as a
real attacker's would.

For `--seconds`, it connects to every endpoint the kernel's process tree shows (the
kernel's TCP ports that /proc/net/tcp lists, ipc:// and tcp:// endpoints and file
paths on command lines, tandem folders in /dev/shm) and sends what Tandem's private protocols expect: R's `ready`, the broker's
`hello`, a worker's `ready` and a `submit` of a task that would create `--marker`.
With `--subscribe` it also subscribes to every TCP port, to read IOPub. It prints
one JSON object: what it reached and every byte it received (the heartbeat's echoes
of its own messages aside).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import time

import zmq


def tree(root: int) -> list[int]:
    """The pids of `root` and its descendants, from /proc/*/stat."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents[int(name)] = int(fields[1])
            except OSError:
                pass
    found, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found.add(child)
                frontier.append(child)
    return sorted(found)


def command_line_endpoints(pids: list[int]) -> tuple[set[str], set[str]]:
    endpoints, paths = set(), set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                text = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        endpoints.update(re.findall(r"(?:ipc|tcp)://[^\s'\"]+", text))
        paths.update(re.findall(r"(/dev/shm/[^\s'\"]+|/tmp/[^\s'\"]+)", text))
    return endpoints, paths


def listening_ports(uid: int) -> set[int]:
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[7]) == uid:
                    ports.add(int(fields[1].split(":")[1], 16))
    return ports


def probe_files(paths: set[str]) -> dict[str, str]:
    """What happens when this user lists, reads or writes each path."""
    outcomes = {}
    for path in sorted(paths):
        try:
            if os.path.isdir(path):
                outcomes[path] = "listed: " + ",".join(os.listdir(path))
            else:
                with open(path, "r+b") as f:
                    f.write(b"\xff" * 16)
                outcomes[path] = "written"
        except OSError as error:
            outcomes[path] = type(error).__name__
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel-pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--marker", required=True)
    parser.add_argument("--subscribe", action="store_true")
    parser.add_argument("--ports", default="", help="the TCP ports of the kernel under attack")
    options = parser.parse_args()

    uid = os.stat(f"/proc/{options.kernel_pid}").st_uid
    context = zmq.Context()
    sockets: dict[str, zmq.Socket] = {}
    received: list[str] = []
    echoes = 0
    attack_task = [b"submit", b"1", b"py", b"call", pickle.dumps(os.system),
                   pickle.dumps(((f"touch {options.marker}",), {}, False))]
    messages = [
        [json.dumps({"type": "ready", "pid": 1, "version": "R"}).encode()],
        [b"hello"],
        [b"ready", b"py", b"1"],
        attack_task,
    ]
    shm = {f"/dev/shm/{n}" for n in os.listdir("/dev/shm") if n.startswith("tandem-")}
    deadline = time.monotonic() + options.seconds
    seen_paths: set[str] = set()
    while time.monotonic() < deadline:
        pids = tree(options.kernel_pid)
        endpoints, paths = command_line_endpoints(pids)
        targets = {int(p) for p in options.ports.split(",") if p}
        endpoints |= {f"tcp://127.0.0.1:{port}" for port in listening_ports(uid) & targets}
        for path in paths | shm:
            endpoints |= {f"ipc://{path}/r", f"ipc://{path}/futures"} if os.path.isdir(path) else set()
        seen_paths |= paths | shm
        for endpoint in endpoints - sockets.keys():
            socket = context.socket(zmq.DEALER)
            socket.linger = 0
            socket.connect(endpoint)
            sockets[endpoint] = socket
            for message in messages:
                try:
                    socket.send_multipart(message, flags=zmq.NOBLOCK)
                except zmq.Again:  # not connected (yet): nothing to send to
                    pass
            if options.subscribe and endpoint.startswith("tcp://"):
                subscriber = context.socket(zmq.SUB)
                subscriber.linger = 0
                subscriber.setsockopt(zmq.SUBSCRIBE, b"")
                subscriber.connect(endpoint)
                sockets["sub " + endpoint] = subscriber
        for endpoint, socket in sockets.items():
            while socket.poll(0):
                frames = socket.recv_multipart()
                if frames in messages:
                    echoes += 1  # the heartbeat echoes whatever it gets
                else:
                    received.append(f"{endpoint}: {frames!r}"[:2000])
        time.sleep(0.1)
    report = {
        "endpoints": sorted(sockets),
        "received": received,
        "echoes": echoes,
        "files": probe_files(seen_paths),
        "marker_written": os.path.exists(options.marker),
    }
    for socket in sockets.values():
        socket.close()
    context.term()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
