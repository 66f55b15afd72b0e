"""Store figures (last order, 12-month sales) kept incrementally: after any mix of invoice and
store changes, recomputing only the stores the triggers noted gives exactly what a full
recomputation gives, and a new day is noticed as stale."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import delete, select, text, update

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, Store
from mangalm_desktop.db.search import (
    ensure_search_schema,
    refresh_dirty_store_stats,
    refresh_stale_store_stats,
    refresh_store_stats,
    stats_staleness,
)

AS_OF = dt.date(2026, 6, 1)


def figures(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.code, st.last_order_date, st.sales_12m FROM store s"
                " JOIN store_stats st ON st.store_rowid = s.rowid ORDER BY s.code"
            )
        ).all()
    return {code: (last, sales) for code, last, sales in rows}


def expected(engine, as_of: dt.date = AS_OF) -> dict[str, tuple]:
    """Written out here from the rule (not by the code under test)."""
    since = as_of - dt.timedelta(days=365)
    out = {}
    with session_scope(engine) as s:
        for store in s.scalars(select(Store)):
            last, sales = None, Decimal(0)
            for inv in s.scalars(select(Invoice).where(Invoice.store_id == store.id)):
                counted = (
                    not inv.deleted
                    and inv.kind in ("invoice", "credit_note")
                    and (inv.status or "") not in ("void", "draft")
                    and inv.invoice_date <= as_of
                )
                if not counted:
                    continue
                if inv.kind == "invoice":
                    last = max(last or inv.invoice_date, inv.invoice_date)
                if inv.invoice_date > since:
                    sales += inv.total
            out[store.code] = (last.isoformat() if last else None, int(sales * 100))
    return out


def add_stores(engine, n: int, start: int = 0) -> list[Store]:
    with session_scope(engine) as s:
        stores = [
            Store(code=f"S-{i:03d}", name=f"Store {i}", city="Pune", region="West")
            for i in range(start, start + n)
        ]
        s.add_all(stores)
    return stores


def add_invoice(engine, store: Store, n: int, days_ago: int, amount: str, **kw) -> Invoice:
    with session_scope(engine) as s:
        inv = Invoice(
            number=f"INV-{store.code}-{n}",
            store_id=store.id,
            invoice_date=AS_OF - dt.timedelta(days=days_ago),
            total=Decimal(amount),
            source="test",
            kind=kw.get("kind", "invoice"),
            status=kw.get("status", "paid"),
        )
        s.add(inv)
    return inv


def test_only_changed_stores_are_recomputed_and_match_a_full_recompute(engine):
    ensure_search_schema(engine, AS_OF)
    stores = add_stores(engine, 12)
    rng = random.Random(5)
    invoices = []
    for n in range(40):
        store = rng.choice(stores)
        invoices.append(
            add_invoice(engine, store, n, rng.randint(0, 500), f"{rng.randint(1, 900)}.25")
        )
    refresh_store_stats(engine, AS_OF)
    assert figures(engine) == expected(engine)
    assert stats_staleness(engine, AS_OF) == "current"

    # a burst of changes, as an import or a sync makes them
    touched = set()
    for n in range(40, 46):
        store = stores[n % 3]
        touched.add(store.code)
        add_invoice(engine, store, n, rng.randint(0, 400), "10.00")
    credit = add_invoice(engine, stores[4], 99, 20, "-30.00", kind="credit_note")
    touched.add(stores[4].code)
    with session_scope(engine) as s:
        victim = invoices[0]
        s.execute(update(Invoice).where(Invoice.id == victim.id).values(status="void"))
        moved = invoices[1]
        s.execute(update(Invoice).where(Invoice.id == moved.id).values(store_id=stores[11].id))
        s.execute(update(Invoice).where(Invoice.id == invoices[2].id).values(deleted=True))
        s.execute(delete(Invoice).where(Invoice.id == invoices[3].id))
        for inv in (victim, invoices[2], invoices[3]):
            touched.add(next(x.code for x in stores if x.id == inv.store_id))
        touched.update({next(x.code for x in stores if x.id == moved.store_id), "S-011"})
    new = add_stores(engine, 2, start=50)
    add_invoice(engine, new[0], 1, 5, "42.00")
    touched.update(x.code for x in new)
    assert credit.total < 0
    assert stats_staleness(engine, AS_OF) == "stores"
    assert figures(engine) != expected(engine)  # stale until refreshed

    recomputed = refresh_dirty_store_stats(engine, AS_OF)
    assert recomputed == len(touched) < len(stores) + len(new)
    assert figures(engine) == expected(engine)
    assert stats_staleness(engine, AS_OF) == "current"

    # a deleted store takes its figures with it
    with session_scope(engine) as s:
        s.execute(delete(Store).where(Store.id == new[1].id))
    assert refresh_stale_store_stats(engine, AS_OF) == "current"
    assert "S-051" not in figures(engine)
    assert figures(engine) == expected(engine)


def test_a_new_day_makes_every_figure_stale(engine):
    ensure_search_schema(engine, AS_OF - dt.timedelta(days=1))
    add_invoice(engine, add_stores(engine, 1)[0], 1, 365, "5.00")  # in yesterday's 12 months
    assert stats_staleness(engine, AS_OF - dt.timedelta(days=1)) == "stores"
    assert stats_staleness(engine, AS_OF) == "date"
    assert refresh_stale_store_stats(engine, AS_OF) == "date"
    assert figures(engine) == expected(engine) == {"S-000": ("2025-06-01", 0)}


def test_missing_triggers_mean_every_store_is_redone(engine):
    """A migration that rebuilds ``invoice`` drops its triggers: changes made then are caught."""
    ensure_search_schema(engine, AS_OF)
    store = add_stores(engine, 1)[0]
    refresh_store_stats(engine, AS_OF)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER store_stats_invoice_ai2")
    add_invoice(engine, store, 1, 3, "7.00")
    assert stats_staleness(engine, AS_OF) == "current"  # nothing noted the change...
    ensure_search_schema(engine, AS_OF)  # ...so the next open redoes every store
    assert figures(engine) == expected(engine) == {"S-000": ("2026-05-29", 700)}


def test_an_invoice_updated_by_the_sync_pull_upsert_marks_its_store_once(engine):
    """The pull writes with ``INSERT ... ON CONFLICT DO UPDATE``; SQLite lets that statement's
    conflict handling override a trigger's ``OR IGNORE``, so the OR IGNORE triggers failed the
    whole sync ("UNIQUE constraint failed: store_stats_dirty.store_id") whenever a pulled
    invoice changed (found by the visit journey: a payment lowered an invoice's balance)."""
    from mangalm_desktop.sync.tables import table_spec

    ensure_search_schema(engine, AS_OF)
    store = add_stores(engine, 1)[0]
    add_invoice(engine, store, 1, 3, "7.00")
    spec = table_spec("invoice")
    with engine.begin() as conn:
        row = conn.exec_driver_sql(
            f"SELECT {', '.join(spec.columns)} FROM invoice"  # noqa: S608 - model names
        ).one()
        changed = dict(zip(spec.columns, row, strict=True))
        changed["total"] = int(changed["total"]) + 100
        changed["version"] = int(changed["version"]) + 1
        sql = spec.sqlite_upsert(force=True)
        conn.exec_driver_sql(sql, tuple(changed[c] for c in spec.columns))  # store not dirty yet?
        conn.exec_driver_sql(sql, tuple(changed[c] for c in spec.columns))  # and again
        dirty = conn.exec_driver_sql("SELECT count(*) FROM store_stats_dirty").scalar()
    assert dirty == 1
