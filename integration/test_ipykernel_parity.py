"""What notebooks written for ipykernel rely on beyond IPython itself, side by side
with ipykernel 7.4 in one environment: modules beside the notebook import, and
ipykernel's kernel magics (`%connect_info`, `%qtconsole`, `%autosave`, `%edit`,
`%clear`, `%less`, `%more`, `%man`) give the same outputs and payloads."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest
from jupyter_client.manager import start_new_kernel

from conftest import PYTHON, console, install_ipykernel, run_cell, stdout_of

IPYKERNEL = install_ipykernel(PYTHON, "ipykernel-parity")


@contextmanager
def kernel_in(name: str, folder: Path):
    """A kernel started in `folder`, as Jupyter starts one beside its notebook."""
    km, kc = start_new_kernel(kernel_name=name, startup_timeout=60, cwd=str(folder))
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def shown(outputs) -> list[tuple[str, object]]:
    """What a cell showed: stream text, and each display's mimetypes and text."""
    seen = []
    for kind, content in outputs:
        if kind == "stream":
            seen.append((content["name"], content["text"]))
        elif kind in ("display_data", "execute_result"):
            seen.append((kind, sorted(content["data"]), content["data"].get("text/plain")))
        elif kind == "error":
            seen.append(("error", content["ename"]))
    return seen


MODULE_CELLS = [
    "import helper\nhelper.answer()",
    "%%writefile written.py\ndef value():\n    return 'written beside the notebook'\n",
    "import written\nwritten.value()",
    "%cd sub",
    "import deeper\ndeeper.where",
    "import os\nos.path.basename(os.getcwd())",
]


@pytest.mark.parametrize("name", [IPYKERNEL, "tandem"])
def test_modules_beside_the_notebook_import(tmp_path, name):
    (tmp_path / "helper.py").write_text("def answer():\n    return 42\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deeper.py").write_text("where = 'in sub'\n")
    with kernel_in(name, tmp_path) as (km, kc):
        results = []
        for code in MODULE_CELLS:
            content, outputs = run_cell(kc, code)
            assert content["status"] == "ok", (name, code, outputs)
            results += [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"]
    assert results[:2] == ["42", "'written beside the notebook'"]
    assert results[-2:] == ["'in sub'", "'sub'"]


MAGIC_CELLS = [
    "%autosave 90",
    "%autosave 0",
    "%autosave soon",
    "%less notes.txt",
    "%more notes.txt",
    "%less code.py",
    "%less",
    "%edit code.py",
    "%man ls",
    "%clear",
]


def run_magics(name: str, folder: Path) -> list[tuple[list, list]]:
    with kernel_in(name, folder) as (km, kc):
        seen = []
        for code in MAGIC_CELLS:
            content, outputs = run_cell(kc, code)
            seen.append((shown(outputs), content.get("payload", []), content["status"]))
        lsmagic = run_cell(kc, "%lsmagic")[1]
    return seen, next(c["data"]["text/plain"] for t, c in lsmagic if t == "execute_result")


def test_kernel_magics_show_what_ipykernel_shows(tmp_path):
    (tmp_path / "notes.txt").write_text("first line\nsecond line\n")
    (tmp_path / "code.py").write_text("def f():\n    return 1\n")
    want, want_magics = run_magics(IPYKERNEL, tmp_path)
    got, got_magics = run_magics("tandem", tmp_path)
    for code, expected, actual in zip(MAGIC_CELLS, want, got):
        assert actual == expected, code
    # Every magic ipykernel lists, Tandem lists too (Tandem adds its own and R's).
    magic_names = lambda text: set(re.findall(r"%{1,2}[\w]+", text))  # noqa: E731
    assert magic_names(want_magics) <= magic_names(got_magics)
    # The pager's text is the file's, the editor opens the file by its full path.
    assert want[3][1][0]["data"]["text/plain"] == "first line\nsecond line\n"
    assert want[7][1][0] == {"source": "edit_magic", "filename": str(tmp_path / "code.py"), "line_number": None}


def test_qtconsole_without_qtconsole_says_what_is_missing(kernel):
    km, kc = kernel
    content, outputs = run_cell(kc, "%qtconsole")
    assert content["status"] == "error" and content["ename"] == "UsageError"
    assert "pip install qtconsole" in content["evalue"]


def test_connect_info_lets_a_console_join_the_kernel(kernel):
    km, kc = kernel
    content, outputs = run_cell(kc, "shared = 'set in the notebook'\n%connect_info")
    assert content["status"] == "ok"
    text = stdout_of(outputs)
    info = json.loads(text[: text.index("\n\n")])
    assert info == json.loads(Path(km.connection_file).read_text())
    assert f"$> jupyter <app> --existing {Path(km.connection_file).name}" in text or (
        f"$> jupyter <app> --existing {km.connection_file}" in text
    )
    # The JSON pasted into a file, as the text says, and a console joins through it.
    pasted = Path(km.connection_file).with_name("pasted-" + Path(km.connection_file).name)
    pasted.write_text(text[: text.index("\n\n")])
    try:
        with console("--existing", str(pasted)) as child:
            child.expect(r"In \[\d+\]: ")
            child.sendline("print(shared.upper())")
            child.expect("SET IN THE NOTEBOOK")
            child.expect(r"In \[\d+\]: ")
            child.sendline("joined = True")
            child.expect(r"In \[\d+\]: ")
            child.sendline("exit(keep_kernel=True)")
            child.expect(pexpect.EOF, timeout=30)
    finally:
        pasted.unlink()
    # The notebook's kernel ran the console's cell.
    content, outputs = run_cell(kc, "joined")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["True"]
