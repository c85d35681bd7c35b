"""Turns an R Markdown vignette into the IRkernel notebook its reader would make:
one code cell per R chunk, the text between chunks as markdown cells. Chunks
that knitr would not run (`eval = FALSE`) or that only set knitr up
(`include = FALSE`) are left out; everything else is kept as written.

Usage: python rmd_to_ipynb.py VIGNETTE.Rmd NOTEBOOK.ipynb
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

CHUNK = re.compile(r"^```\{r([^}]*)\}\s*$")


def runs(options: str) -> bool:
    squeezed = options.replace(" ", "")
    return "eval=FALSE" not in squeezed and "include=FALSE" not in squeezed


def convert(text: str) -> nbformat.NotebookNode:
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # the YAML header
    cells = []
    prose: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        match = CHUNK.match(line)
        if not match:
            prose.append(line)
            continue
        if "".join(prose).strip():
            cells.append(nbformat.v4.new_markdown_cell("\n".join(prose).strip()))
        prose = []
        body = []
        for inner in lines:
            if inner.startswith("```"):
                break
            body.append(inner)
        if runs(match.group(1)) and "\n".join(body).strip():
            cells.append(nbformat.v4.new_code_cell("\n".join(body).strip()))
    if "".join(prose).strip():
        cells.append(nbformat.v4.new_markdown_cell("\n".join(prose).strip()))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"name": "ir", "display_name": "R", "language": "R"},
        "language_info": {"name": "R"},
    }
    return notebook


if __name__ == "__main__":
    nbformat.write(convert(Path(sys.argv[1]).read_text()), sys.argv[2])
