"""The pure parts of the R magics: splitting flags from R code, name pairs, and
values shaped as rpy2 returns them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tandem._rmagic import _name_pairs, _split_options, as_rpy2_returns


def test_flags_and_r_code_split_with_the_code_verbatim():
    assert _split_options("-i x -w 5 plot(x, main = 'a b')") == ("-i x -w 5", "plot(x, main = 'a b')")
    assert _split_options("-n 1 + 1") == ("-n", "1 + 1")
    assert _split_options("-i x -n") == ("-i x -n", "")
    assert _split_options("x <- -1") == ("", "x <- -1")


def test_name_pairs_rename_and_join():
    assert _name_pairs(["x,y", "a=b"]) == {"x": "x", "y": "y", "a": "b"}
    assert _name_pairs([" x , ", "z"]) == {"x": "x", "z": "z"}


def test_values_are_shaped_as_rpy2_returns_them():
    assert as_rpy2_returns(None) is None
    assert as_rpy2_returns(2.5).tolist() == [2.5] and isinstance(as_rpy2_returns(2.5), np.ndarray)
    assert as_rpy2_returns("a").tolist() == ["a"]
    named = pd.Series([1.0, 2.0], index=["p", "q"])
    assert as_rpy2_returns(named).tolist() == [1.0, 2.0]
    with_na = pd.Series(pd.array([1, None], dtype="Int64"))
    kept = as_rpy2_returns(with_na)
    assert isinstance(kept, pd.api.extensions.ExtensionArray) and kept.isna().tolist() == [False, True]
    frame = pd.DataFrame({"a": [1]})
    assert as_rpy2_returns(frame) is frame
    assert as_rpy2_returns([1, "x"]) == [1, "x"]
