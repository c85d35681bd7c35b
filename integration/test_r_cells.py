"""R cells in the Python-first kernel (%%R, %R) and R behaviour in both kernels."""

from __future__ import annotations

import base64
import io
import os
import signal
import struct
import time

import psutil
import pytest

from conftest import interrupt_running_cell, run_cell, stdout_of


def stderr_of(outputs) -> str:
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")


def test_cell_magic_output_and_result(kernel):
    km, kc = kernel
    reply, outputs = run_cell(kc, "%%R\nx <- c(2, 4)\nprint(x)\nsum(x)")
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "[1] 2 4\n"
    results = [c for t, c in outputs if t == "execute_result"]
    assert results[0]["data"]["text/plain"] == "[1] 6"
    assert results[0]["execution_count"] == reply["execution_count"]


def test_line_magic_runs_one_expression(kernel):
    km, kc = kernel
    reply, outputs = run_cell(kc, "%R y <- 10\nprint('python')\n%R print(y * 2)")
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "python\n[1] 20\n"


def test_r_error_is_a_python_exception(kernel):
    km, kc = kernel
    code = (
        "import tandem\n"
        "try:\n"
        "    %R stop('bad input')\n"
        "except tandem.RError as e:\n"
        "    print('caught:', e)"
    )
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "caught: bad input\n"


def test_r_error_reply_has_message_and_stack(kernel):
    km, kc = kernel
    reply, _ = run_cell(kc, "%%R\ninner <- function() stop('deep')\nouter <- function() inner()\nouter()")
    assert reply["status"] == "error"
    assert reply["ename"] == "RError" and reply["evalue"] == "deep"
    assert reply["traceback"][0] == "Error in inner(): deep"
    # Each call names the line of the R code it ran from, as in IRkernel.
    assert reply["traceback"][3:] == [
        "1. outer()", "2. inner()   # at line 2 of file <text>", '3. stop("deep")   # at line 1 of file <text>'
    ]
    reply, outputs = run_cell(kc, "%%R\ncat('next cell runs\\n')")
    assert stdout_of(outputs) == "next cell runs\n"


def test_syntax_error_is_reported(kernel):
    km, kc = kernel
    reply, _ = run_cell(kc, "%%R\nx <- (1 +")
    assert reply["status"] == "error"
    assert reply["ename"] == "RError"
    assert "unexpected end of input" in reply["evalue"]


def test_warnings_and_messages_go_to_stderr_and_system_output_is_captured(kernel):
    km, kc = kernel
    code = (
        "%%R\ncat('a\\n')\nsystem('echo hi from a shell')\nmessage('note')\n"
        "f <- function() warning('careful')\nf()\ncat('b\\n')"
    )
    reply, outputs = run_cell(kc, code)
    assert stdout_of(outputs) == "a\nhi from a shell\nb\n"
    err = stderr_of(outputs)
    assert "note\n" in err and "Warning message:\nIn f() : careful" in err


def png_size(b64: str) -> tuple[int, int]:
    data = base64.b64decode(b64)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plot_arrives_as_png_of_the_requested_size(kernel):
    km, kc = kernel
    reply, outputs = run_cell(kc, "%%R -w 400 -h 300 -u px\nplot(1:10)")
    images = [c["data"]["image/png"] for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
    assert len(images) == 1
    assert png_size(images[0]) == (400, 300)
    reply, outputs = run_cell(kc, "%%R -w 5 -h 4 -u in -r 100\nplot(1:10)")
    images = [c["data"]["image/png"] for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
    assert png_size(images[0]) == (500, 400)


def test_each_plot_page_is_shown_and_svg_on_request(kernel):
    km, kc = kernel
    reply, outputs = run_cell(kc, "%%R\nfor (i in 1:3) plot(i)")
    assert sum(1 for t, c in outputs if t == "display_data" and "image/png" in c["data"]) == 3
    run_cell(kc, "%Rdevice svg")
    reply, outputs = run_cell(kc, "%%R\nplot(1:3)")
    assert any("image/svg+xml" in c.get("data", {}) for t, c in outputs if t == "display_data")


def test_rich_output_of_data_frames(kernel):
    km, kc = kernel
    reply, outputs = run_cell(kc, "%%R\ndata.frame(a = 1:2, b = c('x', 'y'))")
    data = [c for t, c in outputs if t == "execute_result"][0]["data"]
    assert "<table" in data["text/html"]
    assert "\\begin{tabular}" in data["text/latex"]
    assert "a b" in data["text/plain"]


def test_readline_and_menu_through_stdin(kernel):
    km, kc = kernel
    msg_id = kc.execute("%%R\nname <- readline('who? ')\ncat('hi', name, '\\n')", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=30)
    assert request["content"]["prompt"] == "who? "
    kc.input("Grace")
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    kc.execute("%%R\nchoice <- menu(c('red', 'green'))\ncat('picked', choice, '\\n')", allow_stdin=True)
    kc.get_stdin_msg(timeout=30)
    kc.input("2")
    assert kc.get_shell_msg(timeout=30)["content"]["status"] == "ok"
    reply, outputs = run_cell(kc, "%%R\ncat(name, choice, '\\n')")
    assert stdout_of(outputs) == "Grace 2 \n"


R_LOOPS = {
    "repeat": "repeat {}",
    "sleep": "Sys.sleep(100)",
    "vectorised": "repeat { x <- sort(runif(1e6)) }",
}


@pytest.mark.parametrize("kernel", ["tandem", "tandem-message"], indirect=True)
@pytest.mark.parametrize("loop", sorted(R_LOOPS))
def test_interrupt_r_cell_keeps_both_languages(kernel, loop):
    km, kc = kernel
    run_cell(kc, "py_kept = 1")
    run_cell(kc, "%%R\nr_kept <- 'still here'")
    elapsed = interrupt_running_cell(km, kc, "%%R\n" + R_LOOPS[loop], settle=1.0)
    assert elapsed < 2.0, f"interrupt took {elapsed:.2f}s"
    reply, outputs = run_cell(kc, "%%R\ncat(r_kept, '\\n')")
    assert stdout_of(outputs) == "still here \n"
    reply, outputs = run_cell(kc, "print(py_kept)")
    assert stdout_of(outputs) == "1\n"


@pytest.mark.parametrize("how", ["quit(save = 'no', status = 3)", "tools::pskill(Sys.getpid(), 9)"])
def test_r_crash_is_reported_and_r_restarts(kernel, how):
    km, kc = kernel
    run_cell(kc, "py_state = 'kept'")
    run_cell(kc, "%%R\nold <- 1")
    reply, outputs = run_cell(kc, "%%R\n" + how)
    assert reply["status"] == "error"
    assert "fresh R session starts with the next R cell" in reply["evalue"]
    reply, outputs = run_cell(kc, "%%R\nexists('old')")
    assert "R restarted" in stderr_of(outputs)
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["[1] FALSE"]
    reply, outputs = run_cell(kc, "%%R\ncat('once\\n')")
    assert "R restarted" not in stderr_of(outputs)
    reply, outputs = run_cell(kc, "print(py_state)")
    assert stdout_of(outputs) == "kept\n"


def test_completion_and_inspection_follow_the_cell_language(kernel):
    km, kc = kernel
    code = "%%R\nx <- seq_le"
    kc.complete(code, len(code))
    reply = kc.get_shell_msg(timeout=30)["content"]
    assert reply["matches"] == ["seq_len"]
    assert code[reply["cursor_start"]:reply["cursor_end"]] == "seq_le"
    kc.inspect("%%R\npaste(1)", 6)
    reply = kc.get_shell_msg(timeout=30)["content"]
    assert reply["found"] and "Concatenate" in reply["data"]["text/plain"]
    # A cell magic goes on until a blank line, as IPython (ipykernel) says of every
    # cell magic: a console must not run `%%R` after its first line.
    from IPython.core.inputtransformer2 import TransformerManager

    ipython = TransformerManager()
    for cell in ["%%R", "%%R\nf <- function() {", "%%R\nx <- 1", "%%R\nx <- 1\n", "%%R\nx <- 1\n\n",
                 "%%R -i df\nsummary(df)\n  \n", "%%R\n\n"]:
        kc.is_complete(cell)
        status = kc.get_shell_msg(timeout=30)["content"]["status"]
        assert status == ipython.check_complete(cell)[0], (cell, status)
    kc.is_complete("for i in range(3):")  # plain Python code: IPython's own answer
    assert kc.get_shell_msg(timeout=30)["content"]["status"] == "incomplete"
    code = "import itert"
    kc.complete(code, len(code))
    assert "itertools" in kc.get_shell_msg(timeout=30)["content"]["matches"]


def test_python_cells_in_the_r_first_kernel():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="tandem-r", startup_timeout=30)
    try:
        kc.kernel_info()
        info = kc.get_shell_msg(timeout=30)["content"]
        assert info["language_info"]["name"] == "R"
        reply, outputs = run_cell(kc, "%%python\nimport sys\nprint(sys.version_info[0])")
        assert stdout_of(outputs) == "3\n"
        code = "%%python\nimport itert"
        kc.complete(code, len(code))
        reply = kc.get_shell_msg(timeout=30)["content"]
        assert "itertools" in reply["matches"]
        assert code[reply["cursor_start"]:reply["cursor_end"]] == "itert"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_r_dies_with_the_kernel_even_on_sigkill():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="tandem", startup_timeout=30)
    try:
        reply, outputs = run_cell(kc, "%%R\ncat(Sys.getpid(), '\\n')")
        r_pid = int(stdout_of(outputs))
        assert psutil.pid_exists(r_pid)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not psutil.pid_exists(r_pid) or psutil.Process(r_pid).status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("R outlived the kernel")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.parametrize("reset", ["%reset -f", "%reset -s -f", "get_ipython().reset()"])
def test_r_and_the_r_magics_survive_reset(kernel, reset):
    """Quarto's setup cell runs %reset before a document's cells: `r` and the R
    magics, which the user did not define, must still be there; what the user
    defined is gone, as IPython says."""
    km, kc = kernel
    assert run_cell(kc, "mine = 1\nr.kept = 41")[0]["status"] == "ok"
    content, outputs = run_cell(kc, reset)
    assert content["status"] == "ok", outputs
    content, outputs = run_cell(kc, "v = %R kept + 1L\nprint('mine' in dir(), r.kept + 1, v)\nr.again = 2")
    assert content["status"] == "ok", outputs
    assert stdout_of(outputs).split() == ["False", "42", "42"]
    assert stdout_of(run_cell(kc, "%%R\ncat(again)")[1]) == "2"
    assert "r" not in stdout_of(run_cell(kc, "%who")[1]).split()


def test_a_plot_added_to_is_one_picture_of_its_final_state(kernel):
    """`plot(x); abline(fit)` shows one PNG, as IRkernel and rpy2 do: the plot with
    its line. Each new page is still its own picture."""
    km, kc = kernel
    code = "%%R\nx <- 1:20; y <- x + sin(x)\nplot(x, y)\nabline(lm(y ~ x), col = 'red', lwd = 4)\n{legend('topleft', 'fit', lty = 1)}"
    reply, outputs = run_cell(kc, code)
    images = [c["data"]["image/png"] for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
    assert len(images) == 1, len(images)
    # The one picture has the red line (pure red pixels), so it is the final state.
    import numpy as np
    from PIL import Image

    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(images[0]))).convert("RGB"))
    assert (picture == (255, 0, 0)).all(axis=2).sum() > 200
    reply, outputs = run_cell(kc, "%%R\nplot(1:3)\nplot(3:1)\nlines(1:3)")
    assert sum(1 for t, c in outputs if t == "display_data" and "image/png" in c["data"]) == 2


def test_plot_sizes_default_to_rpy2s_in_r_magics_and_irkernels_in_r_cells(kernel):
    km, kc = kernel
    reply, outputs = run_cell(kc, "%%R\nplot(1:10)")
    images = [c["data"]["image/png"] for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
    assert png_size(images[0]) == (480, 480)  # rpy2's png() size
    reply, outputs = run_cell(kc, "%%R -w 600\nplot(1:10)")
    images = [c["data"]["image/png"] for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
    assert png_size(images[0]) == (600, 480)
    from jupyter_client.manager import start_new_kernel

    rkm, rkc = start_new_kernel(kernel_name="tandem-r", startup_timeout=30)
    try:
        reply, outputs = run_cell(rkc, "plot(1:10)")
        images = [c["data"]["image/png"] for t, c in outputs if t == "display_data" and "image/png" in c["data"]]
        assert png_size(images[0]) == (7 * 120, 7 * 120)  # IRkernel's repr.plot.* defaults
    finally:
        rkc.stop_channels()
        rkm.shutdown_kernel(now=True)


def test_quit_in_tandem_r_asks_the_frontend_to_close():
    """In the R-first kernel quit() and q() ask the frontend to close, as `exit` in
    a Python cell does (jupyter console then ends), instead of ending R under an
    open console; in %%R cells quit() still ends R."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="tandem-r", startup_timeout=30)
    try:
        assert run_cell(kc, "kept <- 42")[0]["status"] == "ok"
        for code in ("quit()", "q('no')"):
            content, outputs = run_cell(kc, code)
            assert content["status"] == "ok", outputs
            assert {"source": "ask_exit", "keepkernel": False} in content["payload"], content
        assert stdout_of(run_cell(kc, "cat(kept)")[1]) == "42"  # R never ended
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
