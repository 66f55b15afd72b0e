"""Today's lists make an entry only when it is read (forecasting.entries.LazyRows)."""

from __future__ import annotations

import pytest

from mangalm_desktop.forecasting.entries import LazyRows


def test_rows_are_made_when_read_and_kept():
    made: list[int] = []

    def make(i: int) -> str:
        made.append(i)
        return f"row {i}"

    rows = LazyRows(100_000, make, key=lambda i: f"k{i}")
    assert len(rows) == 100_000 and made == []
    assert rows[0] == "row 0" and rows[-1] == "row 99999" and rows[0] is rows[0]
    assert rows[2:4] == ["row 2", "row 3"]
    assert made == [0, 99_999, 2, 3]
    assert rows.find("k70000") == 70_000 and rows.find("nobody") == -1
    assert made == [0, 99_999, 2, 3]  # finding makes no row
    with pytest.raises(IndexError):
        rows[100_000]
    small = LazyRows(2, str)
    assert small + ["x"] == ["0", "1", "x"] and ["x"] + small == ["x", "0", "1"]
    assert small == ["0", "1"] and small != ["0"]
    assert list(small) == ["0", "1"]
