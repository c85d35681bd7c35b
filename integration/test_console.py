"""`jupyter console --kernel tandem` in a pseudo-terminal runs cells and prints them."""

from __future__ import annotations

import pexpect

from conftest import console


def test_console_runs_a_cell():
    with console("--kernel", "tandem") as child:
        child.expect(r"In \[1\]: ")
        child.sendline("6 * 7")
        child.expect(r"Out\[1\]: 42")
        child.expect(r"In \[2\]: ")
        child.sendline("print('console says hi')")
        child.expect("console says hi")
        child.expect(r"In \[3\]: ")
        # A console shows a progress display once: as the work, not a stale count.
        child.sendline("import tandem; squares = tandem.map(abs, [-1, -2, -3]); print('mapped', squares)")
        child.expect(r"tandem\.map\(abs\): 3 tasks")
        child.expect(r"mapped \[1, 2, 3\]")
        child.expect(r"In \[4\]: ")
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=30)
