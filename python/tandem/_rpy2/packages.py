"""rpy2.robjects.packages: `importr()` attaches an R package in the kernel's R
session (so that later `%%R` cells find it too) and gives its exports as Python
attributes, `.` in R's names read as `_` (`stats.t_test`); `data()` fetches a
package's data sets."""

from __future__ import annotations

import json
from typing import Any

from .._errors import PackageNotInstalledError
from . import _link, conversion
from .robject import Environment, _request_object


class Package:
    """An R package's exports as attributes."""

    def __init__(self, name: str, exports: list[str], translations: dict[str, str] | None = None) -> None:
        self.__rname__ = name
        self.__name__ = name
        self._exports = set(exports)
        # rpy2 reads `.` as `_`, unless that name is taken by another export.
        self._translations = {r_name: r_name for r_name in exports}
        for r_name in exports:
            self._translations.setdefault(r_name.replace(".", "_"), r_name)
        self._translations.update(translations or {})
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in self.__dict__.get("_translations", {}):
            raise AttributeError(f"module '{self.__dict__.get('__rname__')}' has no attribute '{name}'")
        if name not in self._cache:
            self._cache[name] = _request_object(
                "get", name=self._translations[name], env=self.__rname__, convert=conversion.converts()
            )
        return self._cache[name]

    def __dir__(self) -> list[str]:
        return sorted(self._translations)

    def __repr__(self) -> str:
        return f"rpy2.robjects.packages.Package as a <module '{self.__rname__}'>"


Package.__module__ = "rpy2.robjects.packages"
InstalledSTPackage = Package


def importr(name: str, lib_loc: Any = None, robject_translations: dict | None = None,
            signature_translation: bool = True, suppress_messages: bool = True, on_conflict: str = "fail",
            data: bool = True) -> Package:
    """Attaches R package `name` and returns its exports."""
    try:
        reply, _ = _link.request("exports", package=name)
    except _link.RRuntimeError as error:
        raise PackageNotInstalledError(f'The R package "{name}" is not installed.') from error
    translations = {python: r_name for r_name, python in (robject_translations or {}).items()}
    return Package(name, reply["exports"], translations)


def isinstalled(name: str, lib_loc: Any = None) -> bool:
    """Whether R has package `name`."""
    found = _request_object("eval", code=f"nzchar(system.file(package = {json.dumps(name)}))", convert="atomic")
    return bool(found[0])


class PackageData:
    """A package's data sets, fetched by name."""

    def __init__(self, package: Package) -> None:
        self._package = package.__rname__

    def names(self) -> Any:
        """The names of the data sets."""
        code = f"utils::data(package = {json.dumps(self._package)})$results[, 'Item']"
        return _request_object("eval", code=code)

    def fetch(self, name: str) -> Environment:
        """An environment holding data set `name`."""
        code = (f"local({{e <- new.env(); utils::data(list = {json.dumps(name)}, "
                f"package = {json.dumps(self._package)}, envir = e); e}})")
        return _request_object("eval", code=code)


def data(package: Package) -> PackageData:
    """The data sets of `package` (an `importr()` result)."""
    return PackageData(package)
