"""``store_day_sales`` (db/day_sales.py) is exactly a from-scratch grouping of the lines after
any mix of writes: an import (its column-wise path), sync pull UPSERTs (a line before its
invoice, with foreign keys off as the first sync runs), tombstones, invoices voided and
restored, orders drafted, submitted, amended, cancelled and handed over (deleted). The expected
sums are written out here in Python from the rows, not by the SQL under test; every trigger is
needed (dropping any one leaves the table wrong), and a missing trigger is noticed and healed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from mangalm_desktop.db import day_sales
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Invoice, InvoiceLine, Order, OrderLine, Product, Store
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.imports.pipeline import ImportOptions
from mangalm_desktop.imports.zoho import import_invoices
from mangalm_desktop.orders import service as orders
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.reports.filters import EXCLUDED_INVOICE_STATUSES
from mangalm_desktop.sync.tables import table_spec
from tests.fixtures.imports.make_fixtures import HEADER, write_csv
from tests.integration.test_import_columnwise import _rows

Key = tuple[str, str]


def expected(engine) -> dict[Key, tuple[int, ...]]:
    """The rule of each column group, from the ORM rows (money as stored: minor units)."""
    out: dict[Key, list[int]] = {}
    with session_scope(engine) as s:
        invoices = {i.id: i for i in s.scalars(select(Invoice))}
        for ln in s.scalars(select(InvoiceLine).where(InvoiceLine.deleted.is_(False))):
            row = out.setdefault((ln.store_id.hex, ln.invoice_date.isoformat()), [0] * 9)
            price = int((ln.unit_price or Decimal(0)) * 10_000)
            inv = invoices.get(ln.invoice_id)
            sale = inv is None or not (inv.deleted or inv.status in ("void", "draft"))
            if ln.quantity > 0 and sale:
                row[0] += 1
                row[1] += ln.quantity
                row[2] += ln.quantity * price
            if sale:
                row[3] += 1
                row[4] += ln.quantity
                row[5] += int(ln.line_total * 100)
        open_orders = {
            o.id: o
            for o in s.scalars(select(Order))
            if not o.deleted
            and o.kind == "order"
            and o.state in ("submitted", "synced", "sent_to_zoho")
        }
        for ol in s.scalars(select(OrderLine).where(OrderLine.deleted.is_(False))):
            order = open_orders.get(ol.order_id)
            if order is None:
                continue
            row = out.setdefault((ol.store_id.hex, order.order_date.isoformat()), [0] * 9)
            row[6] += 1
            row[7] += ol.quantity
            row[8] += ol.quantity * int((ol.unit_price or Decimal(0)) * 10_000)
    # a row exists while one of its three line counts is above 0 (a void invoice's lines alone
    # make none)
    return {k: tuple(v) for k, v in out.items() if v[0] or v[3] or v[6]}


def table(engine) -> dict[Key, tuple[int, ...]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT store_id, day, lines, units, value, net_lines, net_quantity, net_sales,"
            " order_lines, order_units, order_value FROM store_day_sales"
        ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def refresh(engine, *, check: bool = True) -> None:
    with engine.begin() as conn:
        if check:
            day_sales.refresh_day_sales(conn)
        else:
            day_sales.refresh_dirty(conn)


def imported(engine, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    write_csv(path, HEADER, _rows(150))
    opts = ImportOptions(chunk_rows=40, error_report=tmp_path / "errors.csv")
    summary = import_invoices(engine, [path], opts, identity=None)
    assert summary.imported == 150 and not summary.errors


def _row(conn, table_name: str, row_id: uuid.UUID) -> dict:
    spec = table_spec(table_name)
    got = conn.exec_driver_sql(
        f'SELECT {", ".join(spec.columns)} FROM "{table_name}" WHERE id = ?',  # noqa: S608
        (row_id.hex,),
    ).one()
    return dict(zip(spec.columns, got, strict=True))


def _pull(conn, table_name: str, row: dict) -> None:
    """Write ``row`` as the sync pull does: an UPSERT, a newer version."""
    spec = table_spec(table_name)
    row = {**row, "version": int(row["version"]) + 1}
    conn.exec_driver_sql(spec.sqlite_upsert(force=True), tuple(row[c] for c in spec.columns))


def more_writes(engine) -> None:
    """Every write path after the import, each of which changes the table."""
    with session_scope(engine) as s:
        inv = s.scalars(select(Invoice).where(Invoice.kind == "invoice").order_by(Invoice.number))
        first, second, third, fourth, fifth = list(inv)[:5]
        lines = {
            i.id: s.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == i.id)
                .order_by(InvoiceLine.line_no)
            ).all()
            for i in (first, second, third, fifth)
        }
        agent = s.scalars(select(Agent)).first()
        agent_id = agent.id if agent else None
        store_ids = [st.id for st in s.scalars(select(Store).order_by(Store.code))]
        product = s.scalars(select(Product).order_by(Product.sku)).first()
        s.expunge_all()
    # sync pull UPSERTs: a line's quantity changed; a line moved to another day; an invoice voided
    with engine.begin() as conn:
        row = _row(conn, "invoice_line", lines[first.id][0].id)
        _pull(conn, "invoice_line", {**row, "quantity": int(row["quantity"]) + 5})
        row = _row(conn, "invoice_line", lines[second.id][-1].id)
        _pull(conn, "invoice_line", {**row, "invoice_date": "2024-03-29"})
        _pull(conn, "invoice", {**_row(conn, "invoice", third.id), "status": "void"})
        _pull(conn, "invoice", {**_row(conn, "invoice", third.id), "status": "void"})  # again
    # the first sync loads with foreign keys off: a line can arrive before its invoice, which
    # then comes as a draft
    new_invoice = uuid.uuid4()
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        line = _row(conn, "invoice_line", lines[fifth.id][0].id)
        head = _row(conn, "invoice", fifth.id)
        _pull(conn, "invoice_line", {**line, "id": uuid.uuid4().hex, "invoice_id": new_invoice.hex})
        conn.commit()
        _pull(
            conn,
            "invoice",
            {
                **head,
                "id": new_invoice.hex,
                "number": "PULLED-1",
                "status": "draft",
                "zoho_invoice_id": None,
            },
        )
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    with session_scope(engine) as s:
        # a tombstoned line, a tombstoned invoice, a voided invoice paid again
        s.execute(
            update(InvoiceLine).where(InvoiceLine.id == lines[first.id][-1].id).values(deleted=True)
        )
        s.execute(update(Invoice).where(Invoice.id == fourth.id).values(deleted=True))
        s.execute(update(Invoice).where(Invoice.id == third.id).values(status="paid"))
        s.execute(update(Invoice).where(Invoice.id == second.id).values(status="void"))
    with session_scope(engine) as s:  # a void invoice deleted outright, lines first
        s.execute(InvoiceLine.__table__.delete().where(InvoiceLine.invoice_id == second.id))
        s.execute(Invoice.__table__.delete().where(Invoice.id == second.id))
    # orders: submitted, amended, a draft (not counted), one cancelled, one handed over (deleted)
    day = dt.date(2024, 3, 20)

    def draft(store: uuid.UUID, qty: int) -> OrderDraft:
        return OrderDraft(
            store=store, agent_id=agent_id, lines=[LineInput(product.id, qty)], order_date=day
        )

    kept = orders.submit(engine, draft(store_ids[0], 4), identity=None, today=day)
    orders.amend(engine, kept.order_id, draft(store_ids[0], 9), identity=None, today=day)
    orders.save_draft(engine, draft(store_ids[1], 2), identity=None, today=day)
    gone = orders.submit(engine, draft(store_ids[1], 3), identity=None, today=day)
    orders.cancel(engine, gone.order_id, identity=None)
    handed = orders.submit(engine, draft(store_ids[2], 6), identity=None, today=day)
    with engine.begin() as conn:  # as sync/handover.py removes an order handed to the office
        conn.exec_driver_sql("DELETE FROM outbox")
        conn.exec_driver_sql("DELETE FROM order_line WHERE order_id = ?", (handed.order_id.hex,))
        conn.exec_driver_sql("DELETE FROM orders WHERE id = ?", (handed.order_id.hex,))
    moved = orders.submit(engine, draft(store_ids[2], 5), identity=None, today=day)
    with session_scope(engine) as s:  # pulled back with another date
        s.execute(
            update(Order).where(Order.id == moved.order_id).values(order_date=day.replace(day=22))
        )


@pytest.fixture
def agent(engine):
    with session_scope(engine) as s:
        s.add(Agent(code="A01", name="Ravi Kumar", role="agent"))


def test_the_table_equals_a_grouping_from_scratch_after_every_kind_of_write(
    engine, tmp_path, agent
):
    ensure_search_schema(engine, dt.date(2024, 4, 1))  # the app's open: the table is made
    imported(engine, tmp_path)
    assert table(engine) == {}  # noted, not yet summed
    refresh(engine)
    before = table(engine)
    assert before == expected(engine) and len(before) > 20
    more_writes(engine)
    with engine.connect() as conn:
        dirty = conn.exec_driver_sql("SELECT count(*) FROM store_day_sales_dirty").scalar()
    assert 0 < dirty <= 3  # only the stores written to (3 stores in all)
    refresh(engine)
    after = table(engine)
    assert after == expected(engine) != before
    assert any(v[6] for v in after.values())  # open orders are in it
    with engine.connect() as conn:  # and the SQL rule of the module says the same
        scratch = conn.exec_driver_sql(day_sales.FROM_SCRATCH).all()
    assert {(r[0], r[1]): tuple(r[2:]) for r in scratch} == after


@dataclass
class Book:
    """Ids of what :func:`booked` wrote, for the one-write scenarios below."""

    invoice: uuid.UUID  # a paid invoice with several lines
    lines: list[uuid.UUID]
    order: uuid.UUID  # a submitted order with one line
    order_line: uuid.UUID
    extra: uuid.UUID  # the id of an invoice/order pulled later


def booked(engine, tmp_path: Path) -> Book:
    imported(engine, tmp_path)
    with session_scope(engine) as s:
        inv = next(
            i
            for i in s.scalars(select(Invoice).where(Invoice.kind == "invoice"))
            if len(_lines(s, i.id)) >= 3
        )
        lines = [ln.id for ln in _lines(s, inv.id)]
        agent_id = s.scalars(select(Agent.id)).first()
        store_id = s.scalars(select(Store.id).order_by(Store.code)).first()
        product = s.scalars(select(Product.id).order_by(Product.sku)).first()
    day = dt.date(2024, 3, 20)
    draft = OrderDraft(
        store=store_id, agent_id=agent_id, lines=[LineInput(product, 4)], order_date=day
    )
    order = orders.submit(engine, draft, identity=None, today=day).order_id
    with session_scope(engine) as s:
        ol = s.scalars(select(OrderLine.id).where(OrderLine.order_id == order)).one()
    refresh(engine)
    return Book(inv.id, lines, order, ol, uuid.uuid4())


def _lines(s, invoice_id: uuid.UUID) -> list[InvoiceLine]:
    return list(
        s.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.line_no)
        )
    )


def _fk_off(engine, write) -> None:  # noqa: ANN001
    """``write(conn)`` with foreign keys off, as the first sync loads."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        write(conn)
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _line_before_its_invoice(engine, b: Book) -> None:
    """A line whose invoice is not here yet (the first sync loads with foreign keys off; the
    app may read between two pages)."""
    new = b.extra.hex

    def write(conn) -> None:  # noqa: ANN001
        line = _row(conn, "invoice_line", b.lines[0])
        _pull(conn, "invoice_line", {**line, "id": uuid.uuid4().hex, "invoice_id": new})

    _fk_off(engine, write)


def _its_invoice_pulled_as_a_draft(engine, b: Book) -> None:
    def write(conn) -> None:  # noqa: ANN001
        head = _row(conn, "invoice", b.invoice)
        _pull(
            conn,
            "invoice",
            {
                **head,
                "id": b.extra.hex,
                "number": "PULLED-1",
                "status": "draft",
                "zoho_invoice_id": None,
            },
        )

    _fk_off(engine, write)


def _void(engine, b: Book) -> None:
    with session_scope(engine) as s:
        s.execute(update(Invoice).where(Invoice.id == b.invoice).values(status="void"))


def _delete_the_void_invoice_keeping_its_lines(engine, b: Book) -> None:
    _fk_off(
        engine,
        lambda conn: conn.exec_driver_sql("DELETE FROM invoice WHERE id = ?", (b.invoice.hex,)),
    )


def _order_line_before_its_order(engine, b: Book) -> None:
    def write(conn) -> None:  # noqa: ANN001
        line = _row(conn, "order_line", b.order_line)
        _pull(conn, "order_line", {**line, "id": uuid.uuid4().hex, "order_id": b.extra.hex})

    _fk_off(engine, write)


def _its_order_pulled(engine, b: Book) -> None:
    def write(conn) -> None:  # noqa: ANN001
        head = _row(conn, "orders", b.order)
        _pull(
            conn,
            "orders",
            {**head, "id": b.extra.hex, "number": "PULLED-ORDER", "zoho_salesorder_id": None},
        )

    _fk_off(engine, write)


def _pull_new_line(engine, b: Book) -> None:
    with engine.begin() as conn:
        line = _row(conn, "invoice_line", b.lines[0])
        _pull(conn, "invoice_line", {**line, "id": uuid.uuid4().hex, "line_no": 99})


def _pull_changed_quantity(engine, b: Book) -> None:
    with engine.begin() as conn:
        line = _row(conn, "invoice_line", b.lines[1])
        _pull(conn, "invoice_line", {**line, "quantity": int(line["quantity"]) + 7})


def _delete_line(engine, b: Book) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM invoice_line WHERE id = ?", (b.lines[-1].hex,))


def _pull_voided_invoice(engine, b: Book) -> None:
    with engine.begin() as conn:
        _pull(conn, "invoice", {**_row(conn, "invoice", b.invoice), "status": "void"})


def _pull_order_line(engine, b: Book) -> None:
    with engine.begin() as conn:
        line = _row(conn, "order_line", b.order_line)
        _pull(conn, "order_line", {**line, "id": uuid.uuid4().hex, "line_no": 2})


def _pull_changed_order_line(engine, b: Book) -> None:
    with engine.begin() as conn:
        line = _row(conn, "order_line", b.order_line)
        _pull(conn, "order_line", {**line, "quantity": 40})


def _hand_over(engine, b: Book) -> None:
    with engine.begin() as conn:  # as sync/handover.py: the lines, then the order
        conn.exec_driver_sql("DELETE FROM order_line WHERE order_id = ?", (b.order.hex,))
        conn.exec_driver_sql("DELETE FROM orders WHERE id = ?", (b.order.hex,))


def _cancel(engine, b: Book) -> None:
    orders.cancel(engine, b.order, identity=None)


def _delete_order_keeping_its_lines(engine, b: Book) -> None:
    _fk_off(
        engine, lambda conn: conn.exec_driver_sql("DELETE FROM orders WHERE id = ?", (b.order.hex,))
    )


def _nothing(engine, b: Book) -> None:
    pass


ONE_WRITE = {  # trigger: (what comes before, refreshed; the write only that trigger notes)
    "store_day_sales_il_ai": (_nothing, _pull_new_line),
    "store_day_sales_il_au": (_nothing, _pull_changed_quantity),
    "store_day_sales_il_ad": (_nothing, _delete_line),
    "store_day_sales_inv_ai": (_line_before_its_invoice, _its_invoice_pulled_as_a_draft),
    "store_day_sales_inv_au2": (_nothing, _pull_voided_invoice),
    "store_day_sales_inv_ad": (_void, _delete_the_void_invoice_keeping_its_lines),
    "store_day_sales_ol_ai": (_nothing, _pull_order_line),
    "store_day_sales_ol_au": (_nothing, _pull_changed_order_line),
    "store_day_sales_ol_ad": (_nothing, _hand_over),
    "store_day_sales_ord_ai": (_order_line_before_its_order, _its_order_pulled),
    "store_day_sales_ord_au": (_nothing, _cancel),
    "store_day_sales_ord_ad": (_nothing, _delete_order_keeping_its_lines),
}


def test_every_trigger_has_a_write_here():
    assert set(ONE_WRITE) == set(day_sales.TRIGGERS)


@pytest.mark.parametrize("dropped", [False, True], ids=["kept", "dropped"])
@pytest.mark.parametrize("trigger", sorted(ONE_WRITE))
def test_each_write_is_noted_by_its_trigger(engine, tmp_path, agent, trigger, dropped):
    """With the trigger the write is caught; without it the table is left wrong."""
    b = booked(engine, tmp_path)
    first, write = ONE_WRITE[trigger]
    first(engine, b)
    refresh(engine)
    before = table(engine)
    assert before == expected(engine)
    if dropped:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
    write(engine, b)
    refresh(engine, check=False)  # the noted stores only, as if nobody checked the triggers
    assert expected(engine) != before  # the write did change the sums
    assert (table(engine) == expected(engine)) is not dropped


def test_a_missing_trigger_is_noticed_and_every_store_redone(engine, tmp_path, agent):
    imported(engine, tmp_path)
    refresh(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER store_day_sales_il_ai")
    more_writes(engine)
    refresh(engine)  # as every reader does: the trigger is made again and all stores redone
    assert table(engine) == expected(engine)
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert set(day_sales.TRIGGERS) <= names


def test_a_table_kept_by_the_version_that_counted_void_invoices_is_redone(engine, tmp_path, agent):
    """Before, Today's order days counted a void invoice's lines; a laptop upgraded with such
    a table must not keep those days: the old version's trigger is retired, its successor's
    absence noticed, and every store redone at the next read."""
    imported(engine, tmp_path)
    more_writes(engine)  # voids and drafts among them
    refresh(engine)
    with engine.begin() as conn:  # the table as the older version left it
        conn.exec_driver_sql("DROP TRIGGER store_day_sales_inv_au2")
        conn.exec_driver_sql(
            "CREATE TRIGGER store_day_sales_inv_au AFTER UPDATE OF status ON invoice BEGIN"
            " SELECT 1; END"
        )
        conn.exec_driver_sql("UPDATE store_day_sales SET lines = lines + 1")
    assert table(engine) != expected(engine)
    refresh(engine)
    assert table(engine) == expected(engine)
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert "store_day_sales_inv_au" not in names and "store_day_sales_inv_au2" in names


def test_a_void_invoice_is_not_an_order_day_for_today(engine, tmp_path, agent):
    """The forecast has always left void and draft invoices out; Today counted their lines,
    so a store whose last invoice was voided looked as if it had just ordered."""
    from mangalm_desktop.forecasting.today import order_days

    imported(engine, tmp_path)
    last = dt.date(2024, 3, 31)

    def lines_on(store: str, day: str) -> float:
        with session_scope(engine) as s:
            days = order_days(s, last)
        return float(days[(days["store_id"] == store) & (days["date"] == day)]["lines"].sum())

    with session_scope(engine) as s:
        newest = s.scalars(select(Invoice).order_by(Invoice.invoice_date.desc())).first()
        key = (newest.store_id.hex, newest.invoice_date.isoformat())
        own = s.scalar(
            select(func.count())
            .select_from(InvoiceLine)
            .where(InvoiceLine.invoice_id == newest.id, InvoiceLine.quantity > 0)
        )
    before = lines_on(*key)
    assert own > 0 and before >= own
    for status, counted in (("void", before - own), ("draft", before - own), ("paid", before)):
        with session_scope(engine) as s:
            s.execute(update(Invoice).where(Invoice.id == newest.id).values(status=status))
        assert lines_on(*key) == counted, status


def test_the_sales_rule_is_the_reports_rule():
    assert day_sales.EXCLUDED_STATUSES == EXCLUDED_INVOICE_STATUSES


def test_a_fresh_import_loads_without_the_line_triggers_and_every_store_is_redone(engine, tmp_path):
    """The import's fresh path drops the line triggers (each made every line's INSERT keep a
    statement journal); the next read makes them again and sums every store."""
    ensure_search_schema(engine, dt.date(2024, 4, 1))
    with engine.begin() as conn:
        day_sales.refresh_day_sales(conn)  # nothing to sum yet; the '*' note is gone
        assert conn.exec_driver_sql("SELECT count(*) FROM store_day_sales_dirty").scalar() == 0
    imported(engine, tmp_path)
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert not set(day_sales.LINE_TRIGGERS) & names
    refresh(engine)
    assert table(engine) == expected(engine) != {}


def test_todays_order_days_from_the_table_equal_the_grouping_of_the_lines(engine, tmp_path, agent):
    """Today reads its order days from the table on SQLite and groups the lines on
    PostgreSQL: after every kind of write both give the same frame (values to the last bit)."""
    from mangalm_desktop.forecasting.today import _order_days_grouped, order_days

    imported(engine, tmp_path)
    more_writes(engine)
    with session_scope(engine) as s:
        day = InvoiceLine.invoice_date == dt.date(2024, 3, 5)  # a day sold without prices
        s.execute(update(InvoiceLine).where(day).values(unit_price=0))
    last = dt.date(2024, 3, 31)
    with session_scope(engine) as s:
        fast = order_days(s, last)
        grouped = _order_days_grouped(s, last)
    grouped["date"] = grouped["date"].map(dt.date.isoformat)
    assert len(fast) > 20 and fast["value"].isna().any()  # a day with no price has no value
    pd.testing.assert_frame_equal(fast, grouped, check_exact=True)


def test_the_store_figures_keeper_brings_the_sums_up_to_date_after_an_import(engine, tmp_path):
    """The app's background refresh after writes (gui.store_figures.refresh_figures, the
    worker side) sums the imported days, so Today's next load reads them ready."""
    from mangalm_desktop.gui.store_figures import refresh_figures

    ensure_search_schema(engine, dt.date(2024, 4, 1))
    imported(engine, tmp_path)
    refresh_figures(None, engine, dt.date(2024, 4, 1))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM store_day_sales_dirty").scalar() == 0
    assert table(engine) == expected(engine) != {}
