"""Python's objects in the kernel and R's heap live in huge pages; freed memory goes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cell, stdout_of

MEASURE = """
import gc, json

def memory_kib():
    fields = {}
    for line in open("/proc/self/smaps_rollup"):
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0])
    return fields["Anonymous"], fields["AnonHugePages"]

before = memory_kib()
strings = ["s%d" % k for k in range(2_000_000)]
during = memory_kib()
del strings
gc.collect()
after = memory_kib()
print(json.dumps([before, during, after]))
"""


def transparent_huge_pages() -> bool:
    """Whether the system gives huge pages to memory that asks for them."""
    path = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    return path.exists() and "[never]" not in path.read_text()


def test_million_strings_in_huge_pages_and_memory_returned(kernel):
    km, kc = kernel
    content, outputs = run_cell(kc, MEASURE, timeout=60)
    assert content["status"] == "ok", outputs
    before, during, after = json.loads(stdout_of(outputs))
    grown_mib = (during[0] - before[0]) / 1024
    assert grown_mib > 100, f"two million strings took only {grown_mib:.0f} MiB"
    if transparent_huge_pages():
        huge_mib = (during[1] - before[1]) / 1024
        assert huge_mib > grown_mib / 2, f"{huge_mib:.0f} of {grown_mib:.0f} MiB in huge pages"
    kept_mib = (after[0] - before[0]) / 1024
    assert kept_mib < 24, f"{kept_mib:.0f} MiB still held after the strings were freed"
    # The interpreter goes on allocating and freeing normally.
    content, outputs = run_cell(kc, "print(sum(len(str(k)) for k in range(10**6)))")
    assert content["status"] == "ok" and stdout_of(outputs).strip() == "5888890"


R_MEASURE = """
anon_huge_kib <- function() {
  line <- grep("^AnonHugePages:", readLines("/proc/self/smaps_rollup"), value = TRUE)
  as.numeric(strsplit(trimws(sub("AnonHugePages:", "", line)), " ")[[1]][1])
}
before <- anon_huge_kib()
strings <- paste0("s", seq_len(2e6))
cat(before, anon_huge_kib(), "\\n")
"""


def test_r_heap_in_huge_pages(kernel):
    km, kc = kernel
    if not transparent_huge_pages():
        pytest.skip("transparent huge pages are off on this system")
    content, outputs = run_cell(kc, "%%R\n" + R_MEASURE, timeout=60)
    assert content["status"] == "ok", outputs
    before, during = map(float, stdout_of(outputs).split())
    assert (during - before) / 1024 > 32, f"R's heap: {before} -> {during} KiB in huge pages"


R_WORKER_MEASURE = """
library(future)
plan(tandem::workers, workers = 1)
kib <- value(future({
  anon_huge_kib <- function() {
    line <- grep("^AnonHugePages:", readLines("/proc/self/smaps_rollup"), value = TRUE)
    as.numeric(strsplit(trimws(sub("AnonHugePages:", "", line)), " ")[[1]][1])
  }
  before <- anon_huge_kib()
  strings <- paste0("s", seq_len(2e6))
  c(before, anon_huge_kib())
}))
cat(kib, "\\n")
"""


def test_r_worker_heap_in_huge_pages(kernel):
    km, kc = kernel
    if not transparent_huge_pages():
        pytest.skip("transparent huge pages are off on this system")
    content, outputs = run_cell(kc, "%%R\n" + R_WORKER_MEASURE, timeout=120)
    assert content["status"] == "ok", outputs
    before, during = map(float, stdout_of(outputs).split())
    assert (during - before) / 1024 > 32, f"an R worker's heap: {before} -> {during} KiB in huge pages"
