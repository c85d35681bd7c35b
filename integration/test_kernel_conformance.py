"""The Jupyter kernel conformance suite (jupyter_kernel_test) on Python cells."""

from __future__ import annotations

import json
import unittest

import jupyter_kernel_test as jkt
import zmq
from jupyter_client.manager import KernelManager, start_new_kernel

from own_pythons import environment


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


class TandemPython312KernelTests(TandemPythonKernelTests):
    """The same suite on a fresh environment of pyenv's CPython 3.12, embedded by a
    Tandem that `make install` put in a prefix."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.kernel_name = environment("3.12")[1]
        super().setUpClass()


class TandemEncryptedKernelTests(TandemPythonKernelTests):
    """The same suite with every Jupyter socket a CurveZMQ server, keys from the
    connection file (jupyter_client's transport_encryption="required")."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, transport_encryption="required")

    def test_tandem_connection_is_encrypted(self) -> None:
        with open(self.km.connection_file) as f:
            info = json.load(f)
        self.assertEqual(len(info["curve_publickey"]), 40)
        # A client that does not know the server's key gets no answer.
        context = zmq.Context()
        try:
            plain = context.socket(zmq.DEALER)
            plain.linger = 0
            plain.connect(f"tcp://{info['ip']}:{info['shell_port']}")
            msg = self.km.session.msg("kernel_info_request", {})
            self.km.session.send(plain, msg)
            self.assertEqual(plain.poll(2000), 0)
            plain.close()
        finally:
            context.term()
        reply = self.kc.kernel_info(reply=True, timeout=10)
        self.assertEqual(reply["content"]["status"], "ok")


class TandemSha512KernelTests(TandemPythonKernelTests):
    """The same suite with messages signed with hmac-sha512 (any hmac-<hash>
    jupyter_client allows)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.km = KernelManager(kernel_name=cls.kernel_name)
        cls.km.session.signature_scheme = "hmac-sha512"
        cls.km.start_kernel()
        cls.kc = cls.km.client()
        cls.kc.start_channels()
        cls.kc.wait_for_ready(timeout=30)

    def test_tandem_signs_with_sha512(self) -> None:
        with open(self.km.connection_file) as f:
            self.assertEqual(json.load(f)["signature_scheme"], "hmac-sha512")
        reply = self.kc.kernel_info(reply=True, timeout=10)
        self.assertEqual(len(self.kc.session.sign([b"{}"])), 128)
        self.assertEqual(reply["content"]["status"], "ok")


class TandemIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = "tandem"
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
