"""The file names cells are compiled under, as JupyterLab's debugger computes them.

The debugger panel sets a breakpoint in a cell by the file name it expects the
kernel to have compiled that cell under: ``tmpFilePrefix + murmur2(code,
hashSeed) + tmpFileSuffix``, with the prefix, seed and suffix the kernel gave in
its ``debugInfo`` reply. So every cell is compiled under that name (as ipykernel
does, by the shell's compiler), and ``dumpCell`` writes the cell's text there for
the debugger to show.

The folder is named with a random part (never a predictable name in a shared
``/tmp``) and made, readable by the kernel's user alone, only when the first cell
is written to it: a kernel that is never debugged leaves nothing behind. A
debugged kernel removes it when it shuts down (:func:`remove`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile

from . import _murmur

#: The seed JupyterLab's debugger hashes cells with; given in ``debugInfo``.
HASH_SEED = 0xC70F6907
SUFFIX = ".py"

_folder: str | None = None


def murmur2(data: bytes, seed: int) -> int:
    """MurmurHash2, 32 bits, as JupyterLab's debugger computes it (in C)."""
    return _murmur.murmur2(data, seed)


def folder() -> str:
    """The kernel's folder of cell files (made by :func:`write`)."""
    global _folder
    if _folder is None:
        # In the kernel's scratch folder, which the next kernel removes if this one
        # is killed; outside the kernel, in the temporary folder.
        root = os.environ.get("TANDEM_SCRATCH_DIR") or tempfile.gettempdir()
        _folder = os.path.join(root, f"tandem-cells-{os.getpid()}-{secrets.token_hex(8)}")
    return _folder


def prefix() -> str:
    """What every cell's file name starts with (``tmpFilePrefix``)."""
    return os.path.join(folder(), "")


def file_name(code: str) -> str:
    """The file name the cell ``code`` is compiled under."""
    return f"{prefix()}{murmur2(code.encode('utf-8'), HASH_SEED)}{SUFFIX}"


def is_cell(name: str) -> bool:
    """Whether ``name`` is the file name of a cell of this kernel's."""
    return _folder is not None and name.startswith(prefix())


def write(code: str) -> str:
    """Writes the cell's text to its file (``dumpCell``); returns the file's name."""
    name = file_name(code)
    if not os.path.isdir(folder()):
        os.mkdir(folder(), 0o700)  # fails, rather than share, if another user made it
    with open(name, "w", encoding="utf-8") as file:
        file.write(code)
    return name


def remove() -> None:
    """Removes the folder and the cells written to it (at shutdown)."""
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
