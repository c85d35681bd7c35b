"""The pure parts of the R magics: splitting flags from R code, and name pairs."""

from __future__ import annotations

from tandem._rmagic import _name_pairs, _split_options


def test_flags_and_r_code_split_with_the_code_verbatim():
    assert _split_options("-i x -w 5 plot(x, main = 'a b')") == ("-i x -w 5", "plot(x, main = 'a b')")
    assert _split_options("-n 1 + 1") == ("-n", "1 + 1")
    assert _split_options("-i x -n") == ("-i x -n", "")
    assert _split_options("x <- -1") == ("", "x <- -1")


def test_name_pairs_rename_and_join():
    assert _name_pairs(["x,y", "a=b"]) == {"x": "x", "y": "y", "a": "b"}
    assert _name_pairs([" x , ", "z"]) == {"x": "x", "z": "z"}
