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


def swift_identifiers(text: str) -> set[str]:
    """The identifiers of Swift source: comments and string literals left out."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'#?"""[\s\S]*?"""#?', "", text)
    text = re.sub(r'#?"(?:\\.|[^"\\\n])*"#?', "", text)
    text = re.sub(r"//[^\n]*", "", text)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def names_a_language(identifier: str) -> bool:
    """Whether an identifier names Python or R: `python`, `IPythonEngine`, `REngine`,
    `rPID`, `pythonToR`, `r`."""
    return bool(
        "python" in identifier.lower()
        or identifier in ("r", "R")
        or re.match(r"R[A-Z]|r[A-Z]", identifier)
        or re.search(r"[a-z]R(?:[A-Z]|$)", identifier)
    )


def test_the_kernel_core_and_routing_name_no_language():
    # Engines declare their languages; the core and the router know them by name only.
    found = []
    for folder in ("Sources/Kernel/Core", "Sources/Kernel/Routing"):
        for path in sorted((ROOT / folder).rglob("*.swift")):
            named = sorted(i for i in swift_identifiers(path.read_text()) if names_a_language(i))
            if named:
                found.append(f"{path.relative_to(ROOT)}: {', '.join(named)}")
    assert not found, found


def test_the_language_check_finds_what_it_looks_for():
    source = 'import RSession\nlet x = rPID // python\nlet s = "R"\nfunc pythonToR() {}\nlet pyObject = 1\n'
    assert sorted(i for i in swift_identifiers(source) if names_a_language(i)) == ["RSession", "pythonToR", "rPID"]


def test_the_kernel_core_imports_no_engine():
    package = (ROOT / "Package.swift").read_text()
    core = re.search(r'name: "KernelCore",\s*dependencies: \[(.*?)\]', package, re.S)
    assert core, "Package.swift has no KernelCore target"
    # One target per engine, each in its folder under Sources/Engines.
    targets = package.split(".target(")[1:]
    engines = [re.search(r'name: "(\w+)"', t).group(1) for t in targets if 'path: "Sources/Engines/' in t]
    assert set(engines) == {"EnginePython", "EngineR"}
    for dependency in re.findall(r'"(\w+)"', core.group(1)):
        assert not dependency.startswith("Engine") and dependency not in ("KernelRouting", "RSession", "EmbeddedPython")
    for path in (ROOT / "Sources/Kernel").rglob("*.swift"):
        imports = re.findall(r"^import (\w+)", path.read_text(), re.M)
        assert not [i for i in imports if i.startswith("Engine") or i in ("RSession", "EmbeddedPython")], path
