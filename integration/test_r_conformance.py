"""The Jupyter kernel conformance suite on the R-first kernelspec (tandem-r)."""

from __future__ import annotations

import jupyter_kernel_test as jkt


class TandemRKernelTests(jkt.KernelTests):
    kernel_name = "tandem-r"
    language_name = "R"
    file_extension = ".r"

    code_hello_world = 'print("hello, world")'
    code_stderr = 'message("test")'
    completion_samples = [
        {"text": "seq_le", "matches": {"seq_len"}},
        {"text": "Sys.getp", "matches": {"Sys.getpid"}},
    ]
    complete_code_samples = ["1", 'print("hello, world")', "f <- function(x) {\n  x * 2\n}"]
    incomplete_code_samples = ['print("hello', "f <- function(x) {\n  x * 2", "1 +"]
    invalid_code_samples = ["x <- 1 +* 2", "f(]"]
    code_page_something = "?cat"
    code_generate_error = 'stop("tandem test error")'
    code_execute_result = [
        {"code": "1+2+3", "result": "[1] 6"},
        {"code": "paste('a', 'b')", "result": '[1] "a b"'},
        {"code": "x <- c(a = 1)\nx", "mime": "text/html"},
    ]
    code_display_data = [
        {"code": 'IRdisplay::display_html("<b>t</b>")', "mime": "text/html"},
        {"code": "plot(1:3)", "mime": "image/png"},
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "paste"
    code_clear_output = "IRdisplay::clear_output()"


class TandemRIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = "tandem-r"
    support_iopub_welcome = True
