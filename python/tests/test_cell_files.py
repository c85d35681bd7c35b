"""Cell file names: the hash JupyterLab's debugger computes (checked against
ipykernel's own implementation of it), a private folder, and the shell's compiler
naming cells by them."""

from __future__ import annotations

import os
import random
import stat

from ipykernel.compiler import murmur2_x86

from tandem import _cell_files


def test_the_hash_is_the_one_the_frontend_computes():
    generator = random.Random(7)
    alphabet = "ab\u00e9\u4e2d\U0001f600\n \t"
    for length in range(0, 64):
        text = "".join(generator.choice(alphabet) for _ in range(length))
        assert _cell_files.murmur2(text.encode(), _cell_files.HASH_SEED) == murmur2_x86(text, _cell_files.HASH_SEED)


def test_cells_are_written_to_a_folder_only_the_user_can_enter_and_removed():
    name = _cell_files.file_name("x = 1")
    assert name.startswith(_cell_files.prefix()) and name.endswith(".py")
    assert name != _cell_files.file_name("x = 2")
    assert not os.path.exists(_cell_files.folder())  # made only when a cell is written
    written = _cell_files.write("x = 1\n")
    assert stat.S_IMODE(os.stat(_cell_files.folder()).st_mode) == 0o700
    with open(written, encoding="utf-8") as file:
        assert file.read() == "x = 1\n"
    _cell_files.remove()
    assert not os.path.exists(_cell_files.folder())


def test_the_shells_compiler_names_code_by_its_cell_file():
    from tandem._shell import CellCompiler

    compiler = CellCompiler()
    name = compiler.get_code_name("y = 2", "y = 2\n", 3)
    assert name == _cell_files.file_name("y = 2") and _cell_files.is_cell(name)
    assert not _cell_files.is_cell("/tmp/other.py")
