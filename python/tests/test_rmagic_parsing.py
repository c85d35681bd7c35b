"""The pure parts of the R magics: splitting flags from R code, and name pairs."""

from __future__ import annotations

from tandem._rmagic import _name_pairs, _split_options, r_first_cell_transform


def test_flags_and_r_code_split_with_the_code_verbatim():
    assert _split_options("-i x -w 5 plot(x, main = 'a b')") == ("-i x -w 5", "plot(x, main = 'a b')")
    assert _split_options("-n 1 + 1") == ("-n", "1 + 1")
    assert _split_options("-i x -n") == ("-i x -n", "")
    assert _split_options("x <- -1") == ("", "x <- -1")


def test_name_pairs_rename_and_join():
    assert _name_pairs(["x,y", "a=b"]) == {"x": "x", "y": "y", "a": "b"}
    assert _name_pairs([" x , ", "z"]) == {"x": "x", "z": "z"}


def test_the_r_first_transform_follows_the_language_the_router_found():
    cell = ("r", 11)
    transform = r_first_cell_transform(lambda raw: f"ipython({raw!r})", lambda: cell)
    assert transform("%%R -i df\nsummary(df)") == "ipython('%%R -i df\\nsummary(df)')"
    cell = ("python", 9)
    assert transform("%%python\nprint('é')") == "ipython(\"print('é')\")"
