"""Runs the Tandem kernel inside this python: ``python -m tandem._host LIBRARY kernel ...``.

For interpreters that carry libpython in their own program (Debian's python3,
pyenv's default builds), `tandem install` writes this into the kernelspec: the
kernel's library is loaded here and cells run at this python's own speed, not
in the slower position-independent shared libpython. This thread (the main one,
where Python's signal handlers run) becomes the kernel's Python thread.
"""

from __future__ import annotations

import ctypes
import sys


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m tandem._host /path/to/libTandemMain.so kernel -f CONNECTION_FILE ...")
    library, command = argv[0], argv[1:]
    try:
        kernel = ctypes.CDLL(library)
    except OSError as error:
        sys.exit(f"tandem: cannot load the kernel's library: {error}; run `tandem install` again")
    arguments = (ctypes.c_char_p * (len(command) + 2))(sys.executable.encode(), *(a.encode() for a in command), None)
    # A CDLL call releases the GIL: the kernel takes it on this thread when it needs it.
    sys.exit(kernel.tandem_host_main(len(command) + 1, arguments, library.encode()))


if __name__ == "__main__":
    main(sys.argv[1:])
