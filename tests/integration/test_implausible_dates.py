"""A database that already holds implausible dates (issue 23, finding 7's leftover).

The importer refuses dates outside 2000-01-01 .. today + 1 year, but such rows still arrive from
an old import, a Zoho pull or central sync. They used to crash ``mangalm forecast`` and
``mangalm report sales-by-period`` with pandas' OutOfBoundsDatetime. Now every command leaves
them out, says how many, and the plausible rows give the same figures as without them.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Prediction, Product, Store
from mangalm_desktop.forecasting.service import todays_calls
from mangalm_desktop.reports.catalog import REPORTS, run_report
from mangalm_desktop.reports.filters import ReportFilters
from tests.integration import reports_data

BAD_DATES = (dt.date(1, 1, 1), dt.date(1900, 1, 1), dt.date(2099, 12, 31), dt.date(9999, 12, 31))
TODAY = dt.date(2024, 5, 1)


def _add_bad_invoices(engine) -> None:  # noqa: ANN001
    """Straight into the tables, as an old import or a Zoho pull left them (no importer)."""
    with session_scope(engine) as s:
        store = s.scalars(select(Store).where(Store.code == "S1")).one()
        product = s.scalars(select(Product).where(Product.sku == "P1")).one()
        for i, day in enumerate(BAD_DATES):
            inv = Invoice(
                number=f"BAD{i}",
                invoice_date=day,
                due_date=day,
                store_id=store.id,
                total=D("70.00"),
                balance=D("70.00"),
                kind="invoice",
                status="sent",
                source="test",
            )
            s.add(inv)
            s.flush()
            s.add(
                InvoiceLine(
                    invoice_id=inv.id,
                    line_no=1,
                    store_id=store.id,
                    invoice_date=day,
                    product_id=product.id,
                    quantity=7,
                    unit_price=D("10.00"),
                    line_total=D("70.00"),
                )
            )


@pytest.fixture(autouse=True)
def standalone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A standalone laptop: no central settings of this machine's user (no sign-in prompt)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def bad_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("implausible") / "bad.sqlite"
    engine = migrate.open_local_database(path)
    reports_data.build(engine)
    _add_bad_invoices(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def clean_template(bad_template: Path) -> Path:
    """The same database (same ids, so the same model fit) without the bad invoices."""
    path = bad_template.with_name("clean.sqlite")
    engine = migrate.open_local_database(bad_template)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"VACUUM INTO '{path}'")
    engine.dispose()
    engine = migrate.open_local_database(path)
    with session_scope(engine) as s:
        bad = select(Invoice.id).where(Invoice.number.like("BAD%"))
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(bad)))
        s.execute(delete(Invoice).where(Invoice.id.in_(bad)))
    engine.dispose()
    return path


# Each test gets its own copies (a forecast writes to them); the two are built once a module.
@pytest.fixture
def bad_db(bad_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(bad_template, tmp_path / "bad.sqlite"))


@pytest.fixture
def clean_db(clean_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(clean_template, tmp_path / "clean.sqlite"))


def _records(db: Path, name: str, f: ReportFilters) -> list[dict]:
    engine = migrate.open_local_database(db)
    try:
        result = run_report(engine, name, f, identity=None)
    finally:
        engine.dispose()
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in result.frame.to_dict("records")
    ]


@pytest.mark.parametrize("name", sorted(REPORTS))
@pytest.mark.parametrize("today", [None, TODAY.isoformat()])
def test_every_report_leaves_implausible_dates_out(name, today, bad_db, clean_db, capsys):
    argv = ["report", name, "--db", str(bad_db), "-q"]
    if today is not None:
        argv += ["--today", today]
    assert main(argv) == 0  # used to raise OutOfBoundsDatetime for sales-by-period
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "4 invoice lines dated outside 2000-01-01 to" in err
    f = ReportFilters(date_to=TODAY if today else None)
    assert _records(bad_db, name, f) == _records(clean_db, name, f)


def _predictions(db: Path) -> list[tuple]:
    engine = migrate.open_local_database(db)
    try:
        with session_scope(engine) as s:
            rows = s.execute(
                select(Store.code, Product.sku, Prediction.suggested_qty, Prediction.probability)
                .join(Store, Store.id == Prediction.store_id)
                .join(Product, Product.id == Prediction.product_id)
                .where(Prediction.deleted.is_(False))
            ).all()
    finally:
        engine.dispose()
    return sorted((c, p, q, round(float(pr), 9)) for c, p, q, pr in rows)


def test_forecast_leaves_implausible_dates_out(bad_db, clean_db, capsys):
    assert main(["forecast", "--db", str(clean_db), "-q", "--today", TODAY.isoformat()]) == 0
    capsys.readouterr()
    # used to crash in load_history with OutOfBoundsDatetime: 0001-01-01
    assert main(["forecast", "--db", str(bad_db), "-q", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert "4 invoice lines dated outside 2000-01-01 to" in out.out
    assert "were ignored" in out.out
    clean = _predictions(clean_db)
    assert clean  # the comparison below means something
    assert _predictions(bad_db) == clean


def test_todays_calls_leave_implausible_dates_out(bad_db, clean_db):
    def lists(db: Path) -> tuple:
        engine = migrate.open_local_database(db)
        try:
            calls = todays_calls(engine, today=TODAY, identity=None)
        finally:
            engine.dispose()
        return ([c.store_id for c in calls.to_call], [c.store_id for c in calls.win_back])

    assert lists(bad_db) == lists(clean_db)
