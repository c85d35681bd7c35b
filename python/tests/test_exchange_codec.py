"""The Python half of the exchange format on its own: layout, transport and errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from tandem import _decode, _encode, _errors
from tandem import _exchange as ex
from tandem._bridge import pack, unpack


def roundtrip(values: dict, directory=None):
    header, frames, errors = pack(values) if directory is None else _pack_in(values, directory)
    header = json.loads(json.dumps(header))  # as it travels
    return header, frames, errors, unpack(header, frames)


def _pack_in(values, directory):
    os.environ["TANDEM_EXCHANGE_DIR"] = str(directory)
    try:
        return pack(values)
    finally:
        del os.environ["TANDEM_EXCHANGE_DIR"]


def test_buffers_are_64_byte_aligned_and_within_the_blob():
    header, frames, _, _ = roundtrip({"a": np.arange(3, dtype=np.int32), "b": "xyz", "c": np.ones(5)})
    assert header["exchange"] == ex.VERSION
    for offset, length in header["buffers"]:
        assert offset % 64 == 0 and offset + length <= header["size"]
    assert len(frames) == 1 and len(frames[0]) == header["size"]


def test_small_values_travel_in_the_frame_large_ones_in_the_arena(tmp_path):
    header, frames, _, (values, errors) = roundtrip({"small": np.ones(10)}, tmp_path)
    assert "file" not in header and frames
    big = np.random.default_rng(0).random(3 * ex.FILE_THRESHOLD // 8)
    header, frames, _, (values, errors) = roundtrip({"big": big}, tmp_path)
    assert header["file"] == str(tmp_path / "py-arena-0") and header["arena"] and not frames
    assert np.array_equal(values["big"], big) and values["big"].flags.writeable
    assert (tmp_path / "py-arena-0").exists()  # the arena stays for the next message
    del values
    roundtrip({"less": big[: 2 * len(big) // 3]}, tmp_path)
    assert (tmp_path / "py-arena-0").stat().st_size < big.nbytes  # and holds no more than the last


def test_the_writer_skips_arenas_a_reader_maps_and_empties_idle_ones(tmp_path):
    big = np.random.default_rng(1).random(ex.FILE_THRESHOLD // 8 + 1)
    held = []
    for number in range(4):
        header, _, _, (values, _) = roundtrip({"v": big + number}, tmp_path)
        assert header["file"] == str(tmp_path / f"py-arena-{number}")
        held.append(values["v"])  # a reader's view keeps its arena locked
    assert all(np.array_equal(v, big + i) for i, v in enumerate(held))
    held.clear()
    del values
    header, _, _, (values, _) = roundtrip({"v": big * 2}, tmp_path)
    assert header["file"] == str(tmp_path / "py-arena-0")
    sizes = [(tmp_path / f"py-arena-{n}").stat().st_size for n in range(4)]
    assert sizes[2:] == [0, 0]  # free arenas after the first two hold no pages
    del values
    for scale in (3, 4):  # an emptied arena is written again as new
        header, _, _, (values, _) = roundtrip({"v": big * scale}, tmp_path)
        assert np.array_equal(values["v"], big * scale)


def test_a_one_off_file_is_deleted_by_its_reader(tmp_path):
    writer = ex.Writer()
    node = ex.encode(np.zeros(ex.FILE_THRESHOLD // 8), writer)
    header, _ = writer.finish({"values": {"z": node}}, [str(tmp_path)])
    os.rename(header["file"], tmp_path / "one-off")
    header = {**header, "file": str(tmp_path / "one-off"), "arena": False}
    values, _ = unpack(header, [])
    assert values["z"].sum() == 0 and not (tmp_path / "one-off").exists()


def test_other_versions_are_refused():
    header, frames, _, _ = roundtrip({"a": 1})
    with pytest.raises(ValueError, match="version 2"):
        unpack({**header, "exchange": 2}, frames)


def test_values_that_cannot_cross_are_named_and_the_others_kept():
    header, frames, errors = pack({"ok": 1, "f": len, "m": pd.DataFrame({"x": [1, "a"]})})
    assert list(header["values"]) == ["ok"]
    assert any(e.startswith("f (builtin_function_or_method)") and "Convert it" in e for e in errors)
    assert any(e.startswith("m (pandas.") and "column 'x'" in e for e in errors)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**64, "does not fit in 64 bits"),
        ("a\0b", "NUL"),
        (pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])), "reset_index"),
        ({1: "x"}, "R names are strings"),
        (np.array([1, 2], dtype=np.uint64) * 2**63, r"beyond 2\^63"),
    ],
)
def test_no_mapping_messages(value, message):
    with pytest.raises(_errors.NoMapping, match=message):
        ex.encode(value, ex.Writer())


def _fill(source: bytes, n: int) -> np.ndarray:
    reader = ex.Reader({"exchange": ex.VERSION, "buffers": [[0, len(source)]], "size": len(source)}, [source])
    return _decode._string_column(reader, 0, n)


def test_string_buffers_are_made_and_read_in_c_as_python_would():
    texts = ["", "a", "é", "日本語", "🙂 x", "z" * 5000, "\u00ff"] * 300
    packed = _encode._pack_strings(np.array(texts, dtype=object))
    assert packed == ("\0".join(texts) + "\0").encode()
    column = _fill(bytes(packed), len(texts))
    assert list(column) == texts and all(type(t) is str for t in column)
    # A strided view is packed from a contiguous copy.
    assert _encode._pack_strings(np.array(texts, dtype=object)[::2]) == ("\0".join(texts[::2]) + "\0").encode()
    assert _encode._pack_strings(np.array([], dtype=object)) == b"" and list(_fill(b"", 0)) == []
    for items, error, words in [
        (["a", None], TypeError, "item 1 is not str"),
        (["a", "b\0c"], ValueError, "item 1 holds a NUL"),
        (["\ud800"], UnicodeEncodeError, "surrogate"),
    ]:
        with pytest.raises(error, match=words):
            _encode._pack_strings(np.array(items, dtype=object))
    for source, error, words in [
        (b"a\0b\0", ValueError, "holds 2 strings, expected 3"),
        (b"a\0b\0c\0d\0", ValueError, "more than the 3 strings"),
        (b"a\0\xff\0c\0", UnicodeDecodeError, "utf-8"),
    ]:
        with pytest.raises(error, match=words):
            _fill(source, 3)


def test_strings_with_na_and_non_ascii():
    values = np.array(["é", None, "", "日本", np.nan], dtype=object)
    writer = ex.Writer()
    node = ex.encode(values, writer)
    header, frames = writer.finish({"values": {"s": node}}, [])
    back = ex.decode(node, ex.Reader(header, frames))
    assert back.tolist() == ["é", None, "", "日本", None]


def test_rpy2_shapes_are_arrays_in_r_types_and_go_back_as_they_came():
    values = {
        "i": np.int32(3),
        "named": pd.Series([1.0, 2.0], index=["p", "q"]),
        "frame": pd.DataFrame({"a": [1, 2]}),
        "t": pd.Timestamp("2024-01-01 12:00", tz="Asia/Tokyo"),
    }
    header, frames, errors = pack(values, inline=True)
    assert not errors
    shaped, errors = unpack(header, frames, rpy2=True)
    assert not errors
    assert isinstance(shaped["i"], np.ndarray) and shaped["i"].dtype == np.int32 and shaped["i"].tolist() == [3]
    assert isinstance(shaped["named"], np.ndarray) and shaped["named"].tolist() == [1.0, 2.0]
    assert list(shaped["frame"].index) == ["1", "2"]
    assert isinstance(shaped["t"], pd.DatetimeIndex) and str(shaped["t"].tz) == "Asia/Tokyo"
    # The "1", "2" that R's automatic row names became go back as automatic row
    # names; an index the user set does not.
    back, _, _ = pack({"frame": shaped["frame"]}, inline=True)
    assert "rownames" not in back["values"]["frame"]
    mine = pd.DataFrame({"a": [1, 2]}, index=["1", "2"])
    assert "rownames" in pack({"mine": mine}, inline=True)[0]["values"]["mine"]
    shaped["frame"].index = ["1", "x"]
    assert "rownames" in pack({"frame": shaped["frame"]}, inline=True)[0]["values"]["frame"]


def test_r_integer64_goes_back_as_integer64_while_python_ints_take_rs_integer():
    bits = np.array([1, 2, 3], dtype=np.int64)
    node = {"kind": "vector", "type": "int64", "length": 3, "data": 0}
    header = {"exchange": ex.VERSION, "values": {"b": node}, "buffers": [[0, 24]], "size": 24}
    from_r = unpack(header, [bits.tobytes()])[0]["b"]
    assert from_r.dtype == np.int64 and from_r.tolist() == [1, 2, 3]
    assert pack({"b": from_r}, inline=True)[0]["values"]["b"]["type"] == "int64"
    assert pack({"b": from_r.copy()}, inline=True)[0]["values"]["b"]["type"] == "integer"
    series = pd.Series(from_r, index=list("xyz"))
    assert pack({"s": series}, inline=True)[0]["values"]["s"]["type"] == "integer"


def test_a_length_one_array_is_a_plain_vector_marked_to_come_back_an_array():
    header, frames, _ = pack({"a": np.array([7], dtype=np.int64)}, inline=True)
    node = header["values"]["a"]
    assert "dim" not in node and node["array"] is True and node["dtype"] == "int64"
    back = unpack(header, frames)[0]["a"]
    assert isinstance(back, np.ndarray) and back.dtype == np.int64 and back.tolist() == [7]
