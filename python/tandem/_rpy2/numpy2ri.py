"""rpy2.robjects.numpy2ri: numpy arrays to R vectors and arrays, and back."""

from __future__ import annotations

from . import conversion

converter = conversion.Converter("numpy conversion", frozenset({"numpy"}))
_global = conversion.Activation(converter)
activate = _global.activate
deactivate = _global.deactivate
# Converting with these rules whatever converter is in force.
py2rpy = (conversion.default_converter + converter).py2rpy
rpy2py = (conversion.default_converter + converter).rpy2py
