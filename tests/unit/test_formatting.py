"""The one formatter (domain.formatting): exact strings, as a person reads them on every face."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest

from mangalm_desktop.domain import formatting as f


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12345678.9, "₹1,23,45,678.90"),
        (Decimal("12345678.9"), "₹1,23,45,678.90"),
        (Decimal("-1234.5"), "-₹1,234.50"),
        (0, "₹0.00"),
        (Decimal("-0.001"), "₹0.00"),
        (Decimal("0.05"), "₹0.05"),
        (Decimal("0.005"), "₹0.01"),  # half-up to the paisa, as an invoice rounds
        (0.1 + 0.2, "₹0.30"),
        (999, "₹999.00"),
        (1000, "₹1,000.00"),
        (100000, "₹1,00,000.00"),
        (Decimal("987654321012.34"), "₹9,87,65,43,21,012.34"),
    ],
)
def test_money_indian_grouping(value: object, text: str) -> None:
    assert f.money(value) == text


def test_money_options_and_missing() -> None:
    assert f.money(Decimal("1234567.5"), paise=False) == "₹12,34,568"
    assert f.money(Decimal("-1234567.49"), paise=False) == "-₹12,34,567"
    assert f.money(Decimal("1234567.5"), symbol=False) == "12,34,567.50"
    for missing in (None, float("nan"), pd.NA, pd.NaT, Decimal("NaN")):
        assert f.money(missing) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "₹0"),
        (950, "₹950"),
        (12500, "₹12,500"),
        (99999, "₹99,999"),
        (100000, "₹1 L"),
        (450000, "₹4.5 L"),
        (1234567, "₹12.35 L"),
        (9999999, "₹100 L"),
        (10000000, "₹1 Cr"),
        (12345678.9, "₹1.23 Cr"),
        (1234567890, "₹123.46 Cr"),
        (-450000, "-₹4.5 L"),
        (-0.2, "₹0"),
    ],
)
def test_short_form_for_axes(value: object, text: str) -> None:
    assert f.money_short(value) == text
    assert f.short(value) == text.replace("₹", "")


def test_short_small_steps_keep_decimals() -> None:
    assert f.short(0.25, decimals=2) == "0.25"
    assert f.short(1234.5, decimals=2) == "1,234.50"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (7, "7"), (1234, "1,234"), (123456, "1,23,456"), (-1234567, "-12,34,567")],
)
def test_quantities(value: int, text: str) -> None:
    assert f.quantity(value) == text


def test_quantity_fraction() -> None:
    assert f.quantity(Decimal("1234.50")) == "1,234.5"
    assert f.quantity(2.0) == "2"


@pytest.mark.parametrize(
    ("fraction", "text", "signed"),
    [
        (-0.05, "-5.0%", "-5.0%"),
        (0.05, "5.0%", "+5.0%"),
        (0, "0.0%", "0.0%"),
        (-0.00001, "0.0%", "0.0%"),
        (-0.646, "-64.6%", "-64.6%"),
        (12.345, "1,234.5%", "+1,234.5%"),
        (Decimal("0.1234"), "12.3%", "+12.3%"),
    ],
)
def test_percent(fraction: object, text: str, signed: str) -> None:
    assert f.percent(fraction) == text
    assert f.percent(fraction, signed=True) == signed


def test_percent_points_and_trend() -> None:
    assert f.percent_points(Decimal("5.00")) == "5%"
    assert f.percent_points(Decimal("2.50")) == "2.5%"
    assert f.pct_number(Decimal("2.50")) == "2.5"
    assert f.pct_number(Decimal("-0")) == "0"
    assert f.trend(12.4) == "▲ +12%"
    assert f.trend(-7.6) == "▼ -8%"
    assert f.trend(0.2) == "▶ 0%"
    assert f.trend(None) == "new"


def test_dates() -> None:
    assert f.day(dt.date(2026, 12, 6)) == "06 Dec 2026"
    assert f.day(None) == ""
    assert f.day_time(dt.datetime(2026, 12, 6, 14, 5)) == "06 Dec 2026 14:05"


def test_report_cells() -> None:
    assert f.cell(Decimal("1234567.891"), "money") == "₹12,34,567.89"
    assert f.cell(-0.05, "pct") == "-5.0%"
    assert f.cell(1234567, "int") == "12,34,567"
    assert f.cell(1234.567, "float") == "1,234.57"
    assert f.cell(pd.Timestamp("2026-03-05"), "date") == "05 Mar 2026"
    assert f.cell(dt.date(2026, 3, 5), "date") == "05 Mar 2026"
    assert f.cell(True, "bool") == "Yes"
    assert f.cell("कुमार स्टोर", "text") == "कुमार स्टोर"
    assert f.cell(math.nan, "money") == ""
    assert f.to_number(Decimal("1.5")) == 1.5
    assert f.to_number("x") is None
    assert f.to_number(None) is None


def test_numpy_and_odd_values() -> None:
    import numpy as np

    assert f.cell(np.float64(-0.05), "pct") == "-5.0%"
    assert f.cell(np.int64(1234567), "int") == "12,34,567"
    assert f.cell(np.float32(0.5), "float") == "0.50"
    assert f.money(np.float64(1234.5)) == "₹1,234.50"
    assert f.percent(float("inf")) == "∞%"
    assert f.cell(np.float64("nan"), "pct") == ""


def test_group_indian() -> None:
    assert f.group_indian(0) == "0"
    assert f.group_indian(999) == "999"
    assert f.group_indian(1000) == "1,000"
    assert f.group_indian(12345678) == "1,23,45,678"
    assert f.group_indian(-100000) == "-1,00,000"
