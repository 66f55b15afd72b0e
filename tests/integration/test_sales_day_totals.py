"""Sales by period, and by store, region and agent, from the per-(store, day) totals equal the
invoice-line scan figure for figure: on SQLite against its own line scan (after a refresh, with
stores written since, and where the totals cannot answer), and against the line scan of the
same company on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, event, insert, update

from mangalm_desktop.db import day_sales, migrate
from mangalm_desktop.db.engine import make_engine
from mangalm_desktop.db.models import Invoice, InvoiceLine
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.filters import ReportFilters
from mangalm_desktop.reports.sales import sales_by, sales_by_period
from tests.integration import reports_random

COMPANY = reports_random.make(implausible=False)
D = Decimal
LAST = reports_random.LAST

FAST = [  # filters the totals answer
    ReportFilters(),
    ReportFilters(date_to=LAST),
    ReportFilters(date_from=dt.date(2023, 3, 10), date_to=dt.date(2024, 2, 3), period="week"),
    ReportFilters(date_from=dt.date(2023, 5, 1), date_to=dt.date(2024, 4, 17), period="day"),
    ReportFilters(date_to=dt.date(2024, 3, 12), period="quarter"),
    ReportFilters(region="North", period="year"),
    ReportFilters(store="S6", date_from=dt.date(2023, 2, 1), date_to=dt.date(2023, 11, 30)),
]
SCAN = [  # filters only the lines answer
    ReportFilters(brand="Brand 1"),
    ReportFilters(agent="A2", date_to=dt.date(2024, 3, 12)),
    ReportFilters(product="P0", region="South", period="quarter"),
]


def _sqlite(path) -> Engine:
    eng = migrate.open_local_database(path)
    reports_random.build(eng, COMPANY)
    day_sales.refresh(eng)  # what the app does after writing
    return eng


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory):
    eng = _sqlite(tmp_path_factory.mktemp("sbp") / "r.sqlite")
    yield eng
    eng.dispose()


def _statements(eng: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(eng, "before_cursor_execute")
    def keep(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(statement)

    return seen


def _reads_totals(statements: list[str]) -> bool:
    return any(re.search(r"FROM store_day_sales\b(?!_dirty)", s) for s in statements)


def _both(
    eng: Engine, f: ReportFilters, by: str = "period"
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The report by the day totals where they answer, and by the lines; the statements the
    first ran."""
    seen = _statements(eng)

    def report(conn, **kw):  # noqa: ANN001, ANN202
        return sales_by_period(conn, f, **kw) if by == "period" else sales_by(conn, f, by, **kw)

    with eng.connect() as conn:
        fast = report(conn)
        used = list(seen)
        scan = report(conn, from_day_totals=False)
    return fast, scan, used


BY = ["period", "store", "region", "agent"]


CASES = [(f, True) for f in FAST] + [(f, False) for f in SCAN]


@pytest.mark.parametrize("by", BY)
@pytest.mark.parametrize(
    ("f", "by_totals"), CASES, ids=[f"{t}-{i}" for i, (_, t) in enumerate(CASES)]
)
def test_the_totals_give_the_line_scans_figures_where_they_can(sqlite_engine, f, by_totals, by):
    fast, scan, used = _both(sqlite_engine, f, by)
    assert len(scan) >= 1
    pd.testing.assert_frame_equal(fast, scan)
    assert _reads_totals(used) == by_totals
    if by_totals and by != "agent":  # not one invoice line: nothing written since the refresh
        assert not any("FROM invoice_line" in s for s in used)


def _late_invoice(conn, store: dict) -> None:
    """An invoice of 49.36 on 14 June 2023 for ``store``, written after the refresh."""
    inv = {
        "id": uuid.uuid4(),
        "number": "LATE-1",
        "status": "paid",
        "kind": "invoice",
        "store_id": store["id"],
        "agent_id": store["agent_id"],
        "invoice_date": dt.date(2023, 6, 14),
        "total": Decimal("0"),
        "balance": Decimal("0"),
        "source": "test",
    }
    line = {
        "invoice_id": inv["id"],
        "store_id": store["id"],
        "invoice_date": inv["invoice_date"],
        "product_id": COMPANY.products[0]["id"],
        "unit_price": Decimal("12.34"),
    }
    conn.execute(insert(Invoice), [inv])
    conn.execute(
        insert(InvoiceLine),
        [
            {**line, "id": uuid.uuid4(), "line_no": 1, "quantity": 3, "line_total": D("37.02")},
            {**line, "id": uuid.uuid4(), "line_no": 2, "quantity": 1, "line_total": D("12.34")},
        ],
    )


def test_stores_written_since_the_refresh_are_summed_from_their_lines(tmp_path):
    eng = _sqlite(tmp_path / "r.sqlite")
    s1, s2 = COMPANY.stores[1], COMPANY.stores[2]
    voided = next(
        i for i in COMPANY.invoices if i["store_id"] == s2["id"] and i["status"] == "paid"
    )
    with eng.begin() as conn:
        _late_invoice(conn, s1)
        conn.execute(update(Invoice).where(Invoice.id == voided["id"]).values(status="void"))
        dirty = {r[0] for r in conn.exec_driver_sql("SELECT store_id FROM store_day_sales_dirty")}
    assert dirty == {s1["id"].hex, s2["id"].hex}
    for f in FAST:
        for by in BY:
            fast, scan, used = _both(eng, f, by)
            pd.testing.assert_frame_equal(fast, scan)
            assert _reads_totals(used)
            assert any("FROM invoice_line" in s and "store_day_sales_dirty" in s for s in used)
    # counted: June 2023 grew by the new lines' 49.36, less S2's voided invoice if from June
    clean = _sqlite(tmp_path / "clean.sqlite")
    june = ReportFilters(date_from=dt.date(2023, 6, 1), date_to=dt.date(2023, 6, 30))
    with eng.connect() as now, clean.connect() as before:
        grown = sales_by_period(now, june)["sales"].iloc[-1]
        was = sales_by_period(before, june)["sales"].iloc[-1]
        voided_june = sum(
            (
                ln["line_total"]
                for ln in COMPANY.lines
                if ln["invoice_id"] == voided["id"]
                and not ln["deleted"]
                and ln["invoice_date"].month == 6
                and ln["invoice_date"].year == 2023
            ),
            Decimal(0),
        )
    assert grown == was + Decimal("49.36") - voided_june
    clean.dispose()
    eng.dispose()


def test_lines_written_without_the_triggers_send_the_report_to_the_lines(tmp_path):
    """The import's fresh path drops the line triggers for its bulk load; until the app's next
    open remakes them (and redoes every store), nothing notes what was written."""
    eng = _sqlite(tmp_path / "r.sqlite")
    with eng.begin() as conn:
        day_sales.drop_line_triggers(conn)
        _late_invoice(conn, COMPANY.stores[1])
    fast, scan, used = _both(eng, ReportFilters())
    pd.testing.assert_frame_equal(fast, scan)
    assert not _reads_totals(used)
    eng.dispose()


def test_an_invoice_with_an_implausible_date_sends_the_report_to_the_lines(tmp_path):
    eng = _sqlite(tmp_path / "r.sqlite")
    odd = COMPANY.invoices[3]
    with eng.begin() as conn:
        conn.execute(
            update(Invoice).where(Invoice.id == odd["id"]).values(invoice_date=dt.date(1901, 1, 1))
        )
    fast, scan, used = _both(eng, ReportFilters())
    pd.testing.assert_frame_equal(fast, scan)
    assert not _reads_totals(used)
    eng.dispose()


def test_a_pending_refresh_of_every_store_sends_the_report_to_the_lines(tmp_path):
    eng = migrate.open_local_database(tmp_path / "r.sqlite")
    reports_random.build(eng, COMPANY)
    with eng.begin() as conn:
        day_sales.ensure_day_sales(conn)  # a new table: every store noted, nothing summed yet
    fast, scan, used = _both(eng, ReportFilters())
    assert len(scan) > 1
    pd.testing.assert_frame_equal(fast, scan)
    assert not _reads_totals(used)
    eng.dispose()


@pytest.mark.pg
def test_postgresql_scans_the_lines_to_the_same_figures(sqlite_engine, pg_url):
    pg = make_engine(pg_url)
    migrate.upgrade(pg)
    reports_random.build(pg, COMPANY)
    try:
        for f in FAST + SCAN:
            for name in ("sales-by-period", "sales-by-store", "sales-by-region", "sales-by-agent"):
                on_pg = run_report(pg, name, f, identity=None).frame
                on_sqlite = run_report(sqlite_engine, name, f, identity=None).frame
                pd.testing.assert_frame_equal(on_pg, on_sqlite)
    finally:
        pg.dispose()
