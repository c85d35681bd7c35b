"""usage_request, which JupyterLab's resource panel (jupyter-resource-usage) asks
on control: answered in ipykernel's shape (checked against ipykernel 7.4 with
psutil in the same environment), counting the whole process tree — the kernel,
its R child and its workers — with figures checked against /proc."""

from __future__ import annotations

import json
import time

from conftest import PYTHON, install_ipykernel, process_tree, pss, run_cell, running_kernel, stdout_of

IPYKERNEL = install_ipykernel(PYTHON, "ipykernel-tandem-env")


def usage(kc) -> dict:
    msg = kc.session.msg("usage_request")
    kc.control_channel.send(msg)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = kc.get_control_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            assert reply["msg_type"] == "usage_reply"
            return reply["content"]
    raise AssertionError("no usage_reply")


def test_usage_has_ipykernels_shape():
    replies = {}
    for name in ("tandem", IPYKERNEL):
        with running_kernel(name) as (_, kc):
            usage(kc)
            time.sleep(0.3)
            replies[name] = usage(kc)
    tandem, ipykernel = replies["tandem"], replies[IPYKERNEL]
    # Both leave out host_cpu_percent when the span measured none.
    assert set(ipykernel) - {"host_cpu_percent"} <= set(tandem), set(ipykernel) - set(tandem)
    assert set(tandem["host_virtual_memory"]) == set(ipykernel["host_virtual_memory"])
    for key in ("cpu_count", "hostname"):
        assert tandem[key] == ipykernel[key]
    # The same machine, moments apart.
    assert tandem["host_virtual_memory"]["total"] == ipykernel["host_virtual_memory"]["total"]


def test_usage_counts_the_r_child_and_the_workers():
    with running_kernel("tandem", setup="import os, tandem") as (km, kc):
        r_pid = int(stdout_of(run_cell(kc, "%%R\ncat(Sys.getpid())")[1]))
        workers = json.loads(stdout_of(run_cell(
            kc, "import json, time\n"
            "print(json.dumps(sorted(set(tandem.map(lambda _: (time.sleep(0.2), os.getpid())[1], range(4))))))")[1]))
        kernel_pid = km.provisioner.process.pid
        first = usage(kc)
        assert first["pid"] == kernel_pid
        counted = {p["pid"] for p in first["processes"]}
        assert {kernel_pid, r_pid, *workers} <= counted
        assert counted <= process_tree(kernel_pid)  # nothing from outside the kernel's tree
        # Memory: each process's PSS as /proc gives it, summed.
        for process in first["processes"]:
            if process["pid"] in (kernel_pid, r_pid, *workers):
                measured = pss(process["pid"])
                assert abs(process["memory"] - measured) <= max(measured // 10, 4 << 20)
        assert first["kernel_memory"] == sum(p["memory"] for p in first["processes"])
        assert first["kernel_memory"] > pss(kernel_pid) + pss(r_pid)
        # CPU: a worker spinning through the whole span counts as about one core.
        run_cell(kc, "spin = tandem.submit(lambda: [sum(range(10_000)) for _ in range(100_000)])")
        time.sleep(0.5)
        usage(kc)
        time.sleep(1.0)
        busy = usage(kc)
        assert busy["kernel_cpu"] > 30, busy["kernel_cpu"]
        assert busy["host_cpu_percent"] >= busy["kernel_cpu"] / busy["cpu_count"] * 0.5
