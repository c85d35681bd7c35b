"""rpy2.robjects.pandas2ri: pandas frames, series and categoricals (and numpy
arrays) to R and back, in the shapes rpy2 gives them."""

from __future__ import annotations

from . import conversion

converter = conversion.Converter("pandas conversion", frozenset({"numpy", "pandas"}))
_global = conversion.Activation(converter)
activate = _global.activate
deactivate = _global.deactivate
# Converting with these rules whatever converter is in force.
py2rpy = (conversion.default_converter + converter).py2rpy
rpy2py = (conversion.default_converter + converter).rpy2py
