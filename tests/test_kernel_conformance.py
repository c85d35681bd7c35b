"""The Jupyter kernel conformance suite (jupyter_kernel_test) on Python cells."""

from __future__ import annotations

import unittest

import jupyter_kernel_test as jkt


class TandemPythonKernelTests(jkt.KernelTests):
    kernel_name = "tandem"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "import itert", "matches": {"itertools"}},
    ]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2", "for i in range(3):"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise ValueError('tandem test error')"
    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(4)]", "result": "[0, 1, 4, 9]"},
        {"code": "'tandem'.upper()", "result": "'TANDEM'"},
    ]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>t</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Math, display; display(Math(r'\\alpha'))",
         "mime": "text/latex"},
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"


class TandemIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = "tandem"
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
