"""The C part of Tandem's Python half: abi3 extensions, so that one wheel
installs into every CPython from 3.10 on (pyproject.toml holds the rest)."""

from setuptools import Extension, setup

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
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
