"""Values between Python and R: the Python half of the exchange format.

A value crosses as a JSON header (the type tree) plus raw little-endian buffers
laid out 64-byte aligned in one blob; ``docs/exchange-format.md`` is the
specification. The blob and its arenas are in :mod:`tandem._blob`, encoding in
:mod:`tandem._encode`, decoding in :mod:`tandem._decode`. The kernel imports this
module at the first transfer, so numpy and pandas cost nothing at start-up.
"""

from ._blob import ALIGN, FILE_THRESHOLD, VERSION, Reader, Writer, release
from ._decode import decode, decode_array
from ._encode import encode, encode_array, type_name

__all__ = [
    "ALIGN",
    "FILE_THRESHOLD",
    "VERSION",
    "Reader",
    "Writer",
    "decode",
    "decode_array",
    "encode",
    "encode_array",
    "release",
    "type_name",
]
