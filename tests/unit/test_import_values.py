"""Cell readers: date-format detection and numbers, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.imports.values import BadValue, DateReader, NumberReader


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-03-15", "2024-12-01"], dt.date(2024, 3, 15)),
        (["15/03/2024", "01/12/2024"], dt.date(2024, 3, 15)),
        (["03/15/2024", "12/01/2024"], dt.date(2024, 3, 15)),
        (["15 Mar 2024", "1 Dec 2024"], dt.date(2024, 3, 15)),
        (["15-Mar-2024"], dt.date(2024, 3, 15)),
    ],
)
def test_detects_one_consistent_format(values: list[str], expected: dt.date) -> None:
    r = DateReader()
    r.observe(values)
    r.refuse_if_ambiguous("f.csv", "Invoice Date")
    assert r.parse(values[0]) == expected


def test_day_first_and_month_first_evidence_anywhere_decides() -> None:
    r = DateReader()
    r.observe(["03/04/2024", "05/06/2024"])
    assert not r.decided
    with pytest.raises(UserError, match="(?s)ambiguous.*--date-format"):
        r.refuse_if_ambiguous("f.csv", "Invoice Date")
    r.observe(["25/06/2024"])  # only day-first reads this
    assert r.decided and r.parse("03/04/2024") == dt.date(2024, 4, 3)


def test_a_garbage_value_is_a_bad_cell_not_evidence() -> None:
    r = DateReader()
    r.observe(["15/03/2024", "not a date", "2024-99-99"])
    assert r.decided and r.parse("16/03/2024") == dt.date(2024, 3, 16)
    with pytest.raises(BadValue, match="not a date"):
        r.parse("not a date")
    with pytest.raises(BadValue, match="missing date"):
        r.parse("  ")


def test_fixed_format_overrides_detection() -> None:
    r = DateReader("%m/%d/%Y")
    r.observe(["03/04/2024"])
    assert r.decided and r.parse("03/04/2024") == dt.date(2024, 3, 4)
    with pytest.raises(BadValue):
        r.parse("2024-03-04")


def test_numbers_with_separators_and_exact_money() -> None:
    n = NumberReader()
    assert n.quantity("1,200") == 1200
    assert n.quantity(" -12 ") == -12
    assert n.quantity("24.00") == 24
    assert n.money("2,94,600.50") == Decimal("294600.50")
    assert n.money("₹1,234.5") == Decimal("1234.50")
    assert n.money("(12.00)") == Decimal("-12.00")
    assert n.money("0.125") == Decimal("0.13")  # half-up to the paisa
    assert n.money("0.12345", 4) == Decimal("0.1235")
    assert n.money("", required=False) is None
    for bad in ("1.5", "abc", "1e400x", "nan"):
        with pytest.raises(BadValue):
            n.quantity(bad)
    with pytest.raises(BadValue, match="not an amount"):
        n.money("12,5O")
    with pytest.raises(BadValue, match="not an amount"):
        n.money("inf")


@pytest.mark.parametrize(
    "text",
    ["0.00", "-0.00", "7.05", "1234.50", "1,234.50", "-1,234.50", "1,23,456.78", "12,34,56,789.10",
     "9,999,999,999.99", "-9999999999.99"],
)  # fmt: skip
def test_a_two_decimal_amount_is_its_text_without_commas(text: str) -> None:
    """The column-wise import reads such an amount by its shape (``GROUPED_AMOUNT_2``): its value
    must be exactly what ``NumberReader.money`` makes of it."""
    from mangalm_desktop.imports.values import GROUPED_AMOUNT_2

    assert GROUPED_AMOUNT_2.fullmatch(text)
    d = NumberReader().money(text, 2)
    assert d == Decimal(text.replace(",", "")) and str(d) == text.replace(",", "")


@pytest.mark.parametrize(
    "text",
    ["1,234.5", "1234", "1,234.567", ",123.00", "1,,234.00", "12,345,678,901.00", "₹1,234.00",
     "(1,234.00)", " 1,234.00", "1e3.00", "--1.00", "1.00-"],
)  # fmt: skip
def test_other_amounts_are_left_to_the_money_reader(text: str) -> None:
    from mangalm_desktop.imports.values import GROUPED_AMOUNT_2

    assert not GROUPED_AMOUNT_2.fullmatch(text)
