"""The C part of Tandem's Python half: abi3 extensions, so that one wheel
installs into every CPython from 3.10 on (pyproject.toml holds the rest).

`make wheel` sets TANDEM_WHEEL_PAYLOAD to a folder holding what the binary wheel
carries beside the Python half: ``bin/tandem`` (the kernel's binary),
``r/tandem`` (the R package's source, which `tandem install` builds) and
``kernelspec`` (the logos). It goes into the package as it is.
"""

import os
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


class BuildWithPayload(build_py):
    def run(self):
        super().run()
        payload = os.environ.get("TANDEM_WHEEL_PAYLOAD")
        if not payload:
            return
        if not (Path(payload) / "bin" / "tandem").is_file():
            raise SystemExit(f"TANDEM_WHEEL_PAYLOAD={payload} holds no bin/tandem")
        shutil.copytree(payload, Path(self.build_lib) / "tandem", dirs_exist_ok=True)


setup(
    ext_modules=[
        Extension(
            "tandem._strings",
            ["tandem/_strings.c"],
            py_limited_api=True,
            define_macros=[("Py_LIMITED_API", "0x030A0000")],
        ),
        Extension(
            "tandem._murmur",
            ["tandem/_murmur.c"],
            py_limited_api=True,
            define_macros=[("Py_LIMITED_API", "0x030A0000")],
        ),
    ],
    cmdclass={"build_py": BuildWithPayload},
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
