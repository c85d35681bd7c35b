"""The pure parts of Tandem's rpy2 API: which modules are served, the converters'
rules, and how importr names an R package's exports."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pandas as pd
import pytest

from tandem import _rpy2
from tandem._rpy2 import conversion, numpy2ri, pandas2ri
from tandem._rpy2.packages import Package


@pytest.fixture
def served():
    _rpy2.install()
    try:
        yield
    finally:
        sys.path_importer_cache.pop(_rpy2._ENTRY, None)
        sys.path_hooks.remove(_rpy2._path_hook)
        for name in [name for name in sys.modules if name == "rpy2" or name.startswith("rpy2.")]:
            del sys.modules[name]


def test_modules_outside_the_api_fail_naming_themselves_and_the_alternative(served):
    # (rpy2.robjects itself needs the kernel's R: the modules here do not.)
    with pytest.raises(ImportError, match=r"rpy2\.situation is not part of Tandem's rpy2 API.*%%R"):
        importlib.import_module("rpy2.situation")
    top = importlib.import_module("rpy2")
    assert top.__version__.endswith("+tandem")
    with pytest.raises(AttributeError, match=r"rpy2\.rlike is not part of Tandem's rpy2 API"):
        top.rlike  # noqa: B018


def test_served_modules_bear_rpy2s_names(served):
    rinterface = importlib.import_module("rpy2.rinterface")
    assert rinterface.__name__ == "rpy2.rinterface" and repr(rinterface.NA_Integer) == "NA_integer_"
    callbacks = importlib.import_module("rpy2.rinterface_lib.callbacks")
    assert callbacks.logger.name == "rpy2.rinterface_lib.callbacks"


def test_converters_add_their_rules_and_apply_inside_their_block():
    assert conversion.converts() is False
    with conversion.localconverter(conversion.default_converter + numpy2ri.converter):
        assert conversion.converts() == "atomic"
        with conversion.localconverter(conversion.default_converter + pandas2ri.converter):
            assert conversion.converts() == "all"
        assert conversion.converts() == "atomic"
    assert conversion.converts() is False


def test_activate_makes_a_converter_global_until_deactivated():
    with pytest.warns(DeprecationWarning):
        pandas2ri.activate()
    try:
        assert conversion.converts() == "all"
    finally:
        pandas2ri.deactivate()
    assert conversion.converts() is False


def test_python_values_cross_only_where_a_rule_converts_them():
    frame = pd.DataFrame({"a": [1, 2]})
    assert conversion.to_r(3) == 3 and conversion.to_r("x") == "x" and conversion.to_r(None) is None
    with pytest.raises(NotImplementedError, match="Conversion 'py2rpy' not defined for objects of type"):
        conversion.to_r(frame)
    with pytest.raises(NotImplementedError):
        conversion.to_r([1, 2])
    with conversion.localconverter(conversion.default_converter + numpy2ri.converter):
        assert conversion.to_r(np.arange(3)) is not None
        with pytest.raises(NotImplementedError):
            conversion.to_r(frame)
    with conversion.localconverter(conversion.default_converter + pandas2ri.converter):
        # rpy2 gives R the index as row names, always as text.
        assert list(conversion.to_r(frame).index) == ["0", "1"]


def test_importr_reads_dots_as_underscores_unless_the_name_is_taken():
    package = Package("stats", ["t.test", "as_tibble", "as.tibble", "lm"])
    assert package._translations["t_test"] == "t.test"
    assert package._translations["as_tibble"] == "as_tibble"
    assert package._translations["as.tibble"] == "as.tibble"
    assert "lm" in dir(package)
    with pytest.raises(AttributeError, match="module 'stats' has no attribute 'nothing'"):
        package.nothing  # noqa: B018
    assert repr(package) == "rpy2.robjects.packages.Package as a <module 'stats'>"


def test_submodules_stay_served_after_the_import_caches_are_cleared(served):
    # pip and other tools call invalidate_caches(); some clear the cache outright.
    importlib.invalidate_caches()
    assert importlib.import_module("rpy2.rinterface").__name__ == "rpy2.rinterface"
    sys.path_importer_cache.clear()
    assert importlib.import_module("rpy2.rinterface_lib.callbacks").logger.name == "rpy2.rinterface_lib.callbacks"
