"""Fetches public notebooks written for ipykernel + rpy2, which the suite runs on
Tandem unchanged: from the source distribution of jupytext on PyPI (its test
data; MIT licence), checked against the sha256 PyPI publishes. See notebooks/README.md.

Usage: python notebooks/public/fetch.py DEST
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

PACKAGE = "jupytext"
VERSION = "1.19.6"
NOTEBOOKS = "tests/data/notebooks/inputs/ipynb_py/"
MEMBERS = {
    NOTEBOOKS + name: name
    for name in [
        "Notebook_with_R_magic.ipynb",
        "Notebook_with_more_R_magic_111.ipynb",
        "Notebook with html and latex cells.ipynb",
    ]
} | {"LICENSE": "LICENSE.jupytext"}


def main(dest: Path) -> None:
    # PyPI's simple index (what pip reads) names each file with its sha256.
    index = f"https://pypi.org/simple/{PACKAGE}/"
    with urllib.request.urlopen(index, timeout=60) as response:
        page = response.read().decode()
    filename = f"{PACKAGE}-{VERSION}.tar.gz"
    match = re.search(rf'href="([^"]*/{re.escape(filename)})#sha256=([0-9a-f]{{64}})"', page)
    if match is None:
        raise SystemExit(f"{filename} is not on {index}")
    url, expected = urljoin(index, html.unescape(match.group(1))), match.group(2)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / filename
        with urllib.request.urlopen(url, timeout=120) as response, open(archive, "wb") as out:
            shutil.copyfileobj(response, out)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != expected:
            raise SystemExit(f"{filename}: sha256 {digest} is not PyPI's {expected}")
        dest.mkdir(parents=True, exist_ok=True)
        prefix = f"{PACKAGE}-{VERSION}/"
        with tarfile.open(archive) as tar:
            for member, name in MEMBERS.items():
                source = tar.extractfile(prefix + member)
                if source is None:
                    raise SystemExit(f"{member} is missing from {archive.name}")
                (dest / name).write_bytes(source.read())
    print(f"fetched {len(MEMBERS) - 1} notebooks of {PACKAGE} {VERSION} into {dest}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
