"""Every report's figures against numbers worked out by hand from reports_data.py.

Runs on the local SQLite and on a real PostgreSQL, since both back ends serve reports.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal as D

import pytest

from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.reports.catalog import REPORTS, run_report
from mangalm_desktop.reports.filters import ReportFilters
from tests.integration import reports_data

Q1 = ReportFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31))
APRIL = ReportFilters(date_from=dt.date(2024, 4, 1), date_to=dt.date(2024, 4, 30))
AS_OF = ReportFilters(date_to=dt.date(2024, 4, 30))


@pytest.fixture
def rengine(report_db):
    reports_data.build(report_db)
    return report_db


def rows(name, engine, f):
    """Records with pandas' NaN (a ratio with nothing to divide by) shown as None."""
    records = run_report(engine, name, f, identity=None).frame.to_dict("records")
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in records
    ]


def test_sales_by_month_with_growth(rengine):
    got = rows("sales-by-period", rengine, Q1)
    assert [r["period"] for r in got] == ["2024-01", "2024-02", "2024-03"]
    assert [r["sales"] for r in got] == [D("1100.00"), D("1900.50"), D("810.25")]
    assert [r["quantity"] for r in got] == [15, 6, 12]
    assert [r["lines"] for r in got] == [2, 1 + 1, 4]
    assert [r["prev_sales"] for r in got] == [D("300.00"), D("1100.00"), D("1900.50")]
    assert got[0]["growth_prev"] == pytest.approx(800 / 300)
    assert got[1]["growth_prev"] == pytest.approx(800.50 / 1100)
    assert got[2]["growth_prev"] == pytest.approx(-1090.25 / 1900.50)
    assert [r["last_year_sales"] for r in got] == [D("0.00"), D("480.00"), D("700.00")]
    assert got[0]["growth_last_year"] is None
    assert got[1]["growth_last_year"] == pytest.approx(1420.50 / 480)
    assert got[2]["growth_last_year"] == pytest.approx(0.1575)


def test_sales_by_quarter_widens_the_start_and_labels_a_partial_end(rengine):
    """Issue 17: a period cut by the end date is labelled partial and compared like for like
    (the same first days of the previous period and of last year), never as if complete."""
    f = ReportFilters(date_from=dt.date(2024, 2, 10), date_to=dt.date(2024, 3, 1), period="quarter")
    got = rows("sales-by-period", rengine, f)
    assert [r["period"] for r in got] == ["2024-Q1 (partial, to 01 Mar)"]
    assert got[0]["sales"] == D("3000.50")  # I1 + I2 + I3 (from 1 Jan; nothing after 1 Mar)
    assert got[0]["prev_sales"] == D("0.00")  # 1 Oct-30 Nov 2023: I11 (1 Dec) is not in it
    assert got[0]["growth_prev"] is None
    assert got[0]["last_year_sales"] == D("480.00")  # 1 Jan-2 Mar 2023: I7, not I8 (15 Mar)
    assert got[0]["growth_last_year"] == pytest.approx(3000.50 / 480 - 1)

    whole = ReportFilters(
        date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31), period="quarter"
    )
    (q1,) = rows("sales-by-period", rengine, whole)
    assert q1["period"] == "2024-Q1" and q1["sales"] == D("3810.75")
    assert q1["prev_sales"] == D("300.00")  # 2023-Q4: I11
    assert q1["last_year_sales"] == D("1180.00")  # 2023-Q1: I7 + I8


def test_sales_by_week_fills_empty_weeks(rengine):
    f = ReportFilters(date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 31), period="week")
    got = rows("sales-by-period", rengine, f)
    # ISO weeks touching March 2024: W09 (Feb 26) .. W13 (Mar 25).
    assert [r["period"] for r in got] == [f"2024-W{w:02d}" for w in range(9, 14)]
    assert got[0]["period_start"] == dt.date(2024, 2, 26)
    assert [r["sales"] for r in got] == [
        D("950.25"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("-140.00"),
    ]


def test_sales_by_dimension(rengine):
    by_region = rows("sales-by-region", rengine, Q1)
    assert [(r["region"], r["sales"]) for r in by_region] == [
        ("North", D("2860.50")),
        ("South", D("950.25")),
    ]
    assert by_region[0]["share"] == pytest.approx(2860.50 / 3810.75)
    by_store = rows("sales-by-store", rengine, Q1)
    assert [(r["store_code"], r["sales"]) for r in by_store] == [
        ("S2", D("1560.50")),
        ("S1", D("1300.00")),
        ("S3", D("950.25")),
    ]
    by_product = rows("sales-by-product", rengine, Q1)
    assert [(r["sku"], r["sales"], r["quantity"]) for r in by_product] == [
        ("P2", D("2250.75"), 3),
        ("P1", D("1200.00"), 12),
        ("P3", D("360.00"), 18),
    ]
    by_brand = rows("sales-by-brand", rengine, Q1)
    assert [(r["brand"], r["sales"]) for r in by_brand] == [
        ("India Gate", D("2250.75")),
        ("Tata", D("1560.00")),
    ]
    by_cat = rows("sales-by-category", rengine, Q1)
    assert {r["category"]: r["sales"] for r in by_cat} == {
        "Rice": D("2250.75"),
        "Pulses": D("1200.00"),
        "Staples": D("360.00"),
    }
    by_agent = rows("sales-by-agent", rengine, Q1)
    # I3 has no sales person (→ S2's agent A01); I9 at S2 was sold by A02 and moves to A02.
    assert [(r["agent_code"], r["sales"], r["lines"]) for r in by_agent] == [
        ("A01", D("2800.50"), 5),
        ("A02", D("1010.25"), 3),
    ]


def test_filters_narrow_sales(rengine):
    got = rows("sales-by-store", rengine, Q1.with_(agent="A02"))
    assert [(r["store_code"], r["sales"]) for r in got] == [("S3", D("950.25")), ("S2", D("60.00"))]
    got = rows("sales-by-store", rengine, Q1.with_(brand="Tata", region="North"))
    assert [(r["store_code"], r["sales"]) for r in got] == [
        ("S1", D("1300.00")),
        ("S2", D("60.00")),
    ]
    got = rows("sales-by-product", rengine, Q1.with_(store="Kirana Three"))
    assert [(r["sku"], r["sales"]) for r in got] == [("P2", D("750.25")), ("P3", D("200.00"))]
    got = rows("sales-by-store", rengine, Q1.with_(product="P2", category="Rice"))
    assert [(r["store_code"], r["sales"]) for r in got] == [
        ("S2", D("1500.50")),
        ("S3", D("750.25")),
    ]


def test_top_movers(rengine):
    f = ReportFilters(date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 31))
    got = rows("top-movers", rengine, f)
    assert [(r["direction"], r["rank"], r["sku"], r["change"]) for r in got] == [
        ("up", 1, "P3", D("260.00")),
        ("down", 1, "P2", D("-750.25")),
        ("down", 2, "P1", D("-600.00")),
    ]
    assert got[0]["growth"] is None
    assert got[1]["growth"] == pytest.approx(-750.25 / 1500.50)
    assert got[2]["previous_sales"] == D("400.00")
    assert got[2]["current_sales"] == D("-200.00")
    assert got[2]["growth"] == pytest.approx(-1.5)
    one = rows("top-movers", rengine, f.with_(top_n=1))
    assert [r["sku"] for r in one] == ["P3", "P2"]


def test_dormant_stores(rengine):
    got = rows("dormant-stores", rengine, AS_OF)
    assert [
        (r["store_code"], r["days_since"], r["allowed_days"], r["days_overdue"]) for r in got
    ] == [
        ("S4", 120, 45, 75),
        ("S1", 20, 12, 8),
    ]
    assert got[1]["last_purchase"] == dt.date(2024, 4, 10)
    assert got[0]["last_purchase"] is None
    assert got[0]["cadence_days"] == 30
    # Before the April orders S1's last purchase was I2 (5 Feb); the credit note does not count.
    early = rows("dormant-stores", rengine, ReportFilters(date_to=dt.date(2024, 3, 31)))
    s1 = next(r for r in early if r["store_code"] == "S1")
    assert s1["last_purchase"] == dt.date(2024, 2, 5)


def test_agent_performance(rengine):
    got = {r["agent_code"]: r for r in rows("agent-performance", rengine, APRIL)}
    a1, a2 = got["A01"], got["A02"]
    assert (a1["scheduled_calls"], a1["calls_made"], a1["unscheduled_calls"]) == (3, 4, 1)
    assert a1["productive_calls"] == 2
    assert a1["strike_rate"] == pytest.approx(0.5)
    assert (a1["orders"], a1["order_value"], a1["drop_size"]) == (2, D("750.00"), D("375.00"))
    assert a1["lines_per_call"] == pytest.approx(2.0)
    assert (a1["assigned_stores"], a1["stores_covered"], a1["coverage"]) == (2, 2, 1.0)
    assert a1["suggested_lines"] == 4
    assert a1["suggestion_acceptance"] == pytest.approx(0.75)
    assert a1["quantity_match"] == pytest.approx(18 / 27)
    assert a1["invoiced"] == D("80.00")
    assert (a2["scheduled_calls"], a2["calls_made"], a2["productive_calls"]) == (2, 3, 2)
    assert a2["strike_rate"] == pytest.approx(2 / 3)
    assert (a2["orders"], a2["order_value"], a2["drop_size"]) == (1, D("300.00"), D("150.00"))
    assert a2["lines_per_call"] == pytest.approx(1.0)
    assert a2["coverage"] == pytest.approx(1.0)
    assert a2["suggested_lines"] == 0 and a2["suggestion_acceptance"] is None
    assert a2["invoiced"] == D("100.00")
    only = rows("agent-performance", rengine, APRIL.with_(agent="Bala"))
    assert [r["agent_code"] for r in only] == ["A02"]


def test_forecast_accuracy(rengine):
    by_agent = {r["agent_code"]: r for r in rows("forecast-accuracy", rengine, AS_OF)}
    assert by_agent["A01"]["predictions"] == 2
    assert by_agent["A01"]["forecast"] == pytest.approx(11.5)
    assert by_agent["A01"]["actual"] == 13
    assert by_agent["A01"]["wape"] == pytest.approx(1.5 / 13)
    assert by_agent["A01"]["bias"] == pytest.approx(-1.5 / 13)
    assert by_agent["A02"]["actual"] == 1
    assert by_agent["A02"]["wape"] == pytest.approx(7.0)
    by_product = {r["sku"]: r["wape"] for r in rows("forecast-accuracy-by-product", rengine, AS_OF)}
    assert by_product == pytest.approx({"P1": 0.6, "P2": 2.0, "P3": 0.5 / 3})
    by_month = rows("forecast-accuracy-by-period", rengine, AS_OF)
    assert [(r["period"], r["predictions"]) for r in by_month] == [("2024-01", 1), ("2024-03", 3)]
    assert [r["wape"] for r in by_month] == pytest.approx([0.1, 7.5 / 4])
    by_store = {
        r["store_code"]: r["actual"] for r in rows("forecast-accuracy-by-store", rengine, AS_OF)
    }
    assert by_store == {"S1": 10, "S2": 3, "S3": 1}


def test_outstanding_ageing(rengine):
    got = rows("ageing", rengine, AS_OF)
    assert [r["store_code"] for r in got] == ["S2", "S1", "S3"]
    s2, s1, s3 = got
    assert (s2["d0_30"], s2["d31_60"], s2["total"]) == (D("80.00"), D("1560.50"), D("1640.50"))
    assert (s2["invoices"], s2["oldest_days"], s2["over_limit"]) == (3, 60, True)
    assert (s1["d61_90"], s1["d90_plus"], s1["total"]) == (D("400.00"), D("150.00"), D("550.00"))
    assert (s1["d0_30"], s1["d31_60"], s1["oldest_days"], s1["over_limit"]) == (
        D("0.00"),
        D("0.00"),
        121,
        False,
    )
    assert (s3["not_due"], s3["d31_60"], s3["total"]) == (D("100.00"), D("300.00"), D("400.00"))
    # The end date is an "as of" date: a start date is dropped, not silently half-applied.
    res = run_report(rengine, "ageing", AS_OF.with_(date_from=dt.date(2024, 4, 1)), identity=None)
    assert res.filters.date_from is None and len(res.frame) == 3
    north = rows("ageing", rengine, AS_OF.with_(region="North"))
    assert [r["store_code"] for r in north] == ["S2", "S1"]


def test_every_report_runs_with_all_filters(rengine):
    f = ReportFilters(
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 4, 30),
        region="North",
        agent="A01",
        brand="Tata",
        store="S1",
    )
    for name in REPORTS:
        frame = run_report(rengine, name, f, identity=None).frame
        assert list(frame.columns), name


def test_unknown_filter_values_are_clear_errors(rengine):
    with pytest.raises(UserError, match="no region called 'Nort'") as err:
        run_report(rengine, "sales-by-store", Q1.with_(region="Nort"), identity=None)
    assert "North" in str(err.value)
    with pytest.raises(UserError, match="no agent"):
        run_report(rengine, "sales-by-store", Q1.with_(agent="Z9"), identity=None)
    with pytest.raises(UserError, match="no report called"):
        run_report(rengine, "sales-by-planet", Q1, identity=None)
    with pytest.raises(UserError, match="date range is empty"):
        ReportFilters(date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 1, 1))
