"""The source tree's own rules: a file over 400 lines says why in its first lines,
and message JSON is built only by the JSON and wire codecs, never as text
elsewhere in Swift."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["Sources", "Tests", "python/tandem", "python/tests", "r/tandem/R", "r/tandem/src", "integration", "bench"]
SUFFIXES = {".swift", ".py", ".R", ".c", ".h"}


def source_files():
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and "corpus" not in path.parts:
                yield path


def test_every_file_over_400_lines_says_why_in_its_first_lines():
    unexplained = []
    for path in source_files():
        lines = path.read_text(errors="replace").splitlines()
        if len(lines) > 400 and not any("Over 400 lines" in line for line in lines[:20]):
            unexplained.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert not unexplained, unexplained


def test_no_swift_source_writes_json_as_text():
    # A JSON object written as text: `#"{"status":"ok"}"#`, `"{\"name\"..."`, `Array("{}".utf8)`.
    literal = re.compile(r'#?"\{\\?"|Array\("\{\}"')
    found = []
    for path in (ROOT / "Sources").rglob("*.swift"):
        if path.parent.name in ("JSON", "JupyterWire"):
            continue  # the codecs themselves
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if literal.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, found
