"""rpy2's Python API in the Tandem kernel, on the kernel's own R session.

Notebooks written for rpy2 use its Python API beside the `%%R` magics
(`rpy2.robjects.r(...)`, `globalenv`, `importr()`, `pandas2ri`). Importing the real
rpy2 in the kernel would start a second R inside the kernel's process, and the
notebook's state would split between two Rs without a word. So the kernel serves
the modules `rpy2`, `rpy2.robjects` and those below it that notebooks use from
this package, backed by the R session every R cell runs in; a module outside
that part fails to import, naming itself and the alternative.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

from .rinterface import unsupported

# The rpy2 modules served, by the module of this package that serves each.
_SERVED = {
    "rpy2": "top",
    "rpy2.robjects": "robjects",
    "rpy2.robjects.vectors": "robject",
    "rpy2.robjects.functions": "robject",
    "rpy2.robjects.environments": "robject",
    "rpy2.robjects.robject": "robject",
    "rpy2.robjects.conversion": "conversion",
    "rpy2.robjects.packages": "packages",
    "rpy2.robjects.pandas2ri": "pandas2ri",
    "rpy2.robjects.numpy2ri": "numpy2ri",
    "rpy2.rinterface": "rinterface",
    "rpy2.rinterface_lib": "rinterface",
    "rpy2.rinterface_lib.callbacks": "rinterface",
    "rpy2.rinterface_lib.embedded": "rinterface",
    "rpy2.ipython": "ipython",
}
# Those that submodules are imported from.
_PACKAGES = {"rpy2", "rpy2.robjects", "rpy2.rinterface_lib", "rpy2.ipython"}


# What belongs to the serving module itself, not to what it serves.
_MODULE_MACHINERY = {
    "__name__", "__spec__", "__loader__", "__package__", "__path__", "__file__", "__cached__", "__builtins__",
    "__getattr__", "__doc__",
}


class _Finder:
    """Serves the modules below `rpy2`: the path entry finder of the `rpy2`
    packages' `__path__` and their loader, so it is asked only for their
    submodules and no other import runs its code. (It follows importlib's
    protocols without importlib.abc, which would cost the kernel's start 3 ms.)"""

    def find_spec(self, fullname: str, target: object = None):
        spec = importlib.util.spec_from_loader(fullname, self, is_package=fullname in _PACKAGES)
        if spec is not None and spec.submodule_search_locations is not None:
            spec.submodule_search_locations.append(_ENTRY)
        return spec

    def create_module(self, spec) -> ModuleType:
        if spec.name not in _SERVED:
            raise ImportError(
                f"{spec.name} is not part of Tandem's rpy2 API. The Tandem kernel serves rpy2's "
                "rpy2.robjects (r, globalenv, importr, the vectors, conversion, pandas2ri, numpy2ri) on its "
                "one R session, so that the notebook never starts a second R; use a %%R cell or tandem.r "
                "for the rest.",
                name=spec.name,
            )
        # A module of rpy2's name holding what the serving module has, so that
        # `from rpy2.robjects import pandas2ri` imports rpy2's name.
        source = importlib.import_module(f"{__name__}.{_SERVED[spec.name]}")
        module = ModuleType(spec.name, source.__doc__)
        module.__dict__.update(
            (name, value) for name, value in vars(source).items() if name not in _MODULE_MACHINERY
        )
        # What the API lacks is named as rpy2 names it.
        module.__getattr__ = getattr(source, "__getattr__", None) or unsupported(spec.name)
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was made."""


# The path entry the served packages' submodules are found in. Absolute, as
# `importlib.invalidate_caches()` drops relative entries from the cache; no such
# folder exists.
_ENTRY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "<served rpy2>")
_finder = _Finder()


def _path_hook(entry: str) -> _Finder:
    """Finds `_ENTRY` again when something cleared `sys.path_importer_cache`."""
    if entry != _ENTRY:
        raise ImportError("not Tandem's rpy2 entry")
    return _finder


def install() -> None:
    """Serves rpy2 from here in this process (the kernel calls it when it runs R):
    `rpy2` itself is in `sys.modules` (ahead of any installed rpy2), and its
    submodules are found through `_ENTRY`."""
    if "rpy2" in sys.modules and sys.modules["rpy2"].__spec__.loader is _finder:
        return
    if _path_hook not in sys.path_hooks:
        sys.path_hooks.insert(0, _path_hook)
    sys.path_importer_cache[_ENTRY] = _finder
    spec = _finder.find_spec("rpy2")
    module = importlib.util.module_from_spec(spec)
    sys.modules["rpy2"] = module
