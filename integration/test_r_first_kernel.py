"""The R-first kernel (tandem-r) runs its R cells in R, as IRkernel does, and
numbers them, keeps them in history and answers user_expressions as a kernel
does: one count and one history for its R and %%python cells."""

from __future__ import annotations

import pytest

from conftest import interrupt_running_cell, run_cell, stdout_of

r_first = pytest.mark.parametrize("kernel", ["tandem-r"], indirect=True)


def session_history(kc) -> list[list]:
    """This session's history, as a frontend reads it: [session, line, source]."""
    kc.history(hist_access_type="tail", n=50)
    history = kc.get_shell_msg(timeout=30)["content"]["history"]
    current = max((entry[0] for entry in history), default=None)
    return [entry for entry in history if entry[0] == current]


@r_first
def test_r_and_python_cells_share_one_count_and_one_history(kernel):
    km, kc = kernel
    cells = ["x <- 41", "%%python\nprint(get_ipython().execution_count)", "x + 1", "%%python\nprint(In[1])"]
    replies = [run_cell(kc, cell) for cell in cells]
    assert [content["execution_count"] for content, _ in replies] == [1, 2, 3, 4]
    for number, (content, outputs) in enumerate(replies, 1):
        assert content["status"] == "ok", outputs
        inputs = [c for t, c in outputs if t == "execute_input"]
        assert [c["execution_count"] for c in inputs] == [number]
    # While a cell runs IPython's count is already the next cell's, as under ipykernel.
    assert stdout_of(replies[1][1]) == "3\n"
    results = [c for t, c in replies[2][1] if t == "execute_result"]
    assert [(c["execution_count"], c["data"]["text/plain"]) for c in results] == [(3, "[1] 42")]
    # The R cells are in IPython's history, as written.
    assert stdout_of(replies[3][1]) == "x <- 41\n"
    assert [(line, source) for _, line, source in session_history(kc)] == list(enumerate(cells, 1))
    kc.history(hist_access_type="search", pattern="x + *", unique=True)
    found = kc.get_shell_msg(timeout=30)["content"]["history"]
    session = session_history(kc)[0][0]
    assert [(line, source) for number, line, source in found if number == session] == [(3, "x + 1")]


@r_first
def test_cells_kept_out_of_history_take_no_number_and_silent_ones_show_nothing(kernel):
    km, kc = kernel
    assert run_cell(kc, "x <- 1")[0]["execution_count"] == 1
    content, outputs = run_cell(kc, "print('shown'); x + 5", silent=True)
    assert content["status"] == "ok" and content["execution_count"] == 1
    # Printed text still shows, as in ipykernel; no input, no value.
    assert stdout_of(outputs) == '[1] "shown"\n'
    assert not [t for t, c in outputs if t in ("execute_input", "execute_result", "display_data")], outputs
    # A blank cell takes no number either, as in IPython.
    assert run_cell(kc, "  \n")[0]["execution_count"] == 1
    content, outputs = run_cell(kc, "x + 6", store_history=False)
    # ipykernel's numbers for such a cell: the next on its input, the last on its value.
    assert content["execution_count"] == 1
    assert [c["execution_count"] for t, c in outputs if t == "execute_input"] == [2]
    assert [c["execution_count"] for t, c in outputs if t == "execute_result"] == [1]
    assert run_cell(kc, "x")[0]["execution_count"] == 2
    assert [(line, source) for _, line, source in session_history(kc)] == [(1, "x <- 1"), (2, "x")]


@r_first
def test_user_expressions_are_r_expressions_answered_as_ipykernel_answers_python_ones(kernel):
    km, kc = kernel
    expressions = {"double": "x * 2", "letters": "letters[1:3]", "missing": "no_such_variable", "nothing": "NULL"}
    content, outputs = run_cell(kc, "x <- 21", user_expressions=expressions)
    assert content["status"] == "ok", outputs
    answers = content["user_expressions"]
    assert set(answers) == set(expressions)
    assert answers["double"] == {"status": "ok", "data": answers["double"]["data"], "metadata": {}}
    assert answers["double"]["data"]["text/plain"] == "[1] 42"
    assert answers["letters"]["data"]["text/plain"] == '[1] "a" "b" "c"'
    assert answers["nothing"]["data"]["text/plain"] == "NULL"
    missing = answers["missing"]
    assert missing["status"] == "error" and missing["ename"] == "RError"
    assert "no_such_variable" in missing["evalue"] and missing["traceback"]
    # A failed cell evaluates none, as in ipykernel.
    content, _ = run_cell(kc, "stop('no')", user_expressions=expressions)
    assert content["status"] == "error" and content["user_expressions"] == {}


@r_first
def test_r_errors_and_interrupts_read_as_r(kernel):
    km, kc = kernel
    content, outputs = run_cell(kc, "f <- function() stop('deep')\nf()")
    errors = [c for t, c in outputs if t == "error"]
    # IRkernel's name and value, so tools written for IRkernel read them alike.
    assert [(c["ename"], c["evalue"]) for c in errors] == [("ERROR", "Error in f(): deep")]
    assert errors[0]["traceback"][0] == "Error in f(): deep"
    assert {k: content[k] for k in ("status", "ename", "evalue", "traceback")} == {"status": "error", **errors[0]}
    content, outputs = run_cell(kc, "x <- 1 +* 2")
    assert content["ename"] == "ERROR" and "unexpected '*'" in content["evalue"]


@r_first
def test_what_python_prints_for_an_r_cell_comes_in_order_with_what_r_prints(kernel):
    km, kc = kernel
    code = "for (i in 1:3) {\n  py_run(sprintf('print(\"py %d\")', i))\n  cat('r', i, '\\n')\n}"
    content, outputs = run_cell(kc, code)
    assert content["status"] == "ok", outputs
    assert stdout_of(outputs) == "py 1\nr 1 \npy 2\nr 2 \npy 3\nr 3 \n"


@r_first
def test_readline_asks_the_frontend_and_without_stdin_fails_clearly(kernel):
    km, kc = kernel
    msg_id = kc.execute("name <- readline('who? ')\ncat('hi', name)", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=30)
    assert request["content"]["prompt"] == "who? "
    assert request["parent_header"]["msg_id"] == msg_id
    kc.input("Grace")
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    assert stdout_of(run_cell(kc, "cat(name)")[1]) == "Grace"
    # A client without stdin (nbclient, papermill): an R error saying so, not a hang.
    content, outputs = run_cell(kc, "readline('who? ')", allow_stdin=False)
    assert content["status"] == "error" and content["ename"] == "ERROR"
    assert "input" in content["evalue"].lower(), content["evalue"]


R_LOOPS = {"repeat": "repeat {}", "sleep": "Sys.sleep(100)", "python": "repeat py$kept"}


@pytest.mark.parametrize("kernel", ["tandem-r", "tandem-r-message"], indirect=True)
@pytest.mark.parametrize("loop", sorted(R_LOOPS))
def test_an_interrupted_r_cell_ends_alone_and_keeps_both_languages(kernel, loop):
    km, kc = kernel
    assert run_cell(kc, "kept <- 'r'\n")[0]["status"] == "ok"
    assert run_cell(kc, "%%python\nkept = 'python'")[0]["status"] == "ok"
    interrupt_running_cell(km, kc, R_LOOPS[loop], settle=1.0)
    assert stdout_of(run_cell(kc, "cat(kept, py$kept)")[1]) == "r python"
