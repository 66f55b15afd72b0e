"""``store_expected`` (db/store_expected.py): each store's expected order as kept equals the
one summed from the suggested lines now (the rule Today used on every load, and still uses on
PostgreSQL) after forecast runs, sync pull UPSERTs, price changes, tombstones and deletes;
the forecast run leaves it current; every trigger is needed, and a missing one is noticed.
Today's lists read from it are identical to the lists summed now (on PostgreSQL, in
``test_today_postgresql.py``, and here with the table taken away)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from mangalm_desktop.db import store_expected
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Prediction, Product
from mangalm_desktop.db.store_expected import TRIGGERS, refresh_store_expected, rounded, sums_query
from mangalm_desktop.forecasting import service
from mangalm_desktop.forecasting.service import run_forecast, todays_calls
from mangalm_desktop.sync.tables import table_spec
from tests.integration.test_forecast_service import TODAY, shop  # noqa: F401 - fixture

Sums = dict[str, tuple[float, float, int]]


def kept(engine) -> Sums:
    """The table as it is (no refresh)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT store_id, value, units, priced FROM store_expected"
        ).all()
    return {k: (v, u, p) for k, v, u, p in rows}


def summed(engine) -> Sums:
    """The sums from the suggested lines now, as Today summed them on every load."""
    with engine.connect() as conn:
        rows = conn.execute(sums_query(conn.dialect)).all()
    return {k: (rounded(v), rounded(u), int(p)) for k, v, u, p in rows}


def refreshed(engine) -> Sums:
    with engine.begin() as conn:
        refresh_store_expected(conn)
    return kept(engine)


def dirty(engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT store_id FROM store_expected_dirty")}


def _pull(engine, table_name: str, row_id: uuid.UUID, **changes) -> None:
    """Write a row as the sync pull does: an UPSERT of the whole row, a newer version."""
    spec = table_spec(table_name)
    with engine.begin() as conn:
        got = conn.exec_driver_sql(
            f'SELECT {", ".join(spec.columns)} FROM "{table_name}" WHERE id = ?',  # noqa: S608
            (row_id.hex,),
        ).one()
        row = {**dict(zip(spec.columns, got, strict=True)), **changes}
        row["version"] = int(row["version"]) + 1
        conn.exec_driver_sql(spec.sqlite_upsert(force=True), tuple(row[c] for c in spec.columns))


def _new_sale(engine, store_id: uuid.UUID, product_id: uuid.UUID) -> None:
    """An invoice for one store today: the next forecast run recomputes that store only."""
    with session_scope(engine) as s:
        inv = Invoice(
            id=uuid.uuid4(),
            number=f"NEW-{uuid.uuid4().hex[:6]}",
            store_id=store_id,
            invoice_date=TODAY,
            total=Decimal("0"),
            source="test",
            status="sent",
        )
        s.add(inv)
        s.add(
            InvoiceLine(
                invoice_id=inv.id,
                line_no=1,
                store_id=store_id,
                invoice_date=TODAY,
                product_id=product_id,
                quantity=30,
                unit_price=Decimal("10"),
                line_total=Decimal(300),
            )
        )


def _lines(engine, store_id: uuid.UUID | None = None) -> list[Prediction]:
    with session_scope(engine) as s:
        q = select(Prediction).where(Prediction.deleted.is_(False)).order_by(Prediction.id)
        if store_id is not None:
            q = q.where(Prediction.store_id == store_id)
        rows = list(s.scalars(q))
        s.expunge_all()
    return rows


def test_kept_values_equal_the_summed_ones_after_every_kind_of_write(shop):  # noqa: F811
    engine, ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    # the forecast run keeps them: current without any reader's refresh
    assert dirty(engine) == set()
    assert kept(engine) == summed(engine)
    assert len(kept(engine)) >= 7 and all(p == 1 for _, _, p in kept(engine).values())

    # a second run after one store's sale recomputes that store: kept by the run again
    _new_sale(engine, ids["S3"], ids["TEA"])
    before = kept(engine)
    run_forecast(engine, today=TODAY + dt.timedelta(days=1), identity=None)
    assert dirty(engine) == set()
    assert kept(engine) == summed(engine) != before

    # a price change: every store noted, and the sums follow
    before = kept(engine)
    with session_scope(engine) as s:
        s.execute(update(Product).where(Product.id == ids["ATTA"]).values(price=Decimal("300")))
    assert dirty(engine) == {"*"}
    assert refreshed(engine) == summed(engine) != before

    # a sync pull rewriting a product unchanged notes nothing
    _pull(engine, "product", ids["DAL"])
    assert dirty(engine) == set()

    # a sync pull of a suggested line with another quantity; another one's probability
    first, second = _lines(engine)[:2]
    _pull(engine, "prediction", first.id, suggested_qty=(first.suggested_qty or 0) + 7)
    _pull(engine, "prediction", second.id, probability=0.01)
    assert dirty(engine) == {first.store_id.hex, second.store_id.hex}
    assert refreshed(engine) == summed(engine)

    # a line tombstoned; every line of a store deleted (a scope change): the store leaves
    line = _lines(engine, ids["S1"])[0]
    with session_scope(engine) as s:
        s.execute(update(Prediction).where(Prediction.id == line.id).values(deleted=True))
        s.execute(Prediction.__table__.delete().where(Prediction.store_id == ids["S2"]))
    assert refreshed(engine) == summed(engine)
    assert ids["S2"].hex not in kept(engine)

    # prices taken away: the units still kept, no store priced
    with session_scope(engine) as s:
        s.execute(update(Product).values(price=None))
    assert refreshed(engine) == summed(engine)
    assert all(p == 0 for _, _, p in kept(engine).values())


def test_every_trigger_has_a_write_here():
    assert set(TRIGGERS) == set(WRITES)


def _tombstone(engine, ids) -> None:
    line = _lines(engine, ids["S4"])[0]
    with session_scope(engine) as s:
        s.execute(update(Prediction).where(Prediction.id == line.id).values(deleted=True))


def _insert(engine, ids) -> None:
    with session_scope(engine) as s:
        s.add(
            Prediction(
                store_id=ids["S4"],
                product_id=ids["TEA"],
                horizon_start=TODAY,
                horizon_weeks=1,
                point=3,
                low=1,
                high=5,
                probability=0.5,
                suggested_qty=6,
                model="test",
            )
        )


def _delete(engine, ids) -> None:
    line = _lines(engine, ids["S4"])[0]
    with session_scope(engine) as s:
        s.execute(Prediction.__table__.delete().where(Prediction.id == line.id))


def _price(engine, ids) -> None:
    with session_scope(engine) as s:
        s.execute(update(Product).where(Product.id == ids["DAL"]).values(price=Decimal("1")))


def _without_foreign_keys(engine, statement) -> None:
    """``statement`` with foreign keys off, as the first sync writes (parents may come later)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.execute(statement)
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _product_added(engine, ids) -> None:
    """A product arriving after a suggested line that names it: the line now counts."""
    new = uuid.uuid4()
    line = _lines(engine, ids["S4"])[0]
    _without_foreign_keys(
        engine, update(Prediction).where(Prediction.id == line.id).values(product_id=new)
    )
    with engine.begin() as conn:  # what the line adds now: nothing, until its product exists
        store_expected.refresh_noted(conn)
    with session_scope(engine) as s:
        s.add(Product(id=new, sku="NEW", name="New", pack_size=1, price=Decimal("50")))


def _product_removed(engine, ids) -> None:
    """A product gone (foreign keys off): its lines no longer count."""
    _without_foreign_keys(engine, Product.__table__.delete().where(Product.id == ids["ATTA"]))


WRITES = {
    "store_expected_pred_ai": _insert,
    "store_expected_pred_au": _tombstone,
    "store_expected_pred_ad": _delete,
    "store_expected_product_au": _price,
    "store_expected_product_ai": _product_added,
    "store_expected_product_ad": _product_removed,
}


@pytest.mark.parametrize("trigger", sorted(WRITES))
@pytest.mark.parametrize("dropped", [False, True], ids=["kept", "trigger-dropped"])
def test_each_write_is_noted_by_its_trigger(shop, trigger, dropped):  # noqa: F811
    """With every trigger the sums follow the write; without this one they do not (so each
    trigger is needed, and each write here tests its own)."""
    engine, ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    assert dirty(engine) == set()
    if dropped:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
    before = kept(engine)
    WRITES[trigger](engine, ids)
    with engine.begin() as conn:  # a refresh that does not make the dropped trigger again
        store_expected.refresh_noted(conn)
    assert summed(engine) != before  # the write changes the sums
    assert (kept(engine) == summed(engine)) is not dropped


def test_a_missing_trigger_is_noticed_and_every_store_redone(shop):  # noqa: F811
    engine, ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER store_expected_pred_au")
    _tombstone(engine, ids)  # unnoted
    assert dirty(engine) == set()
    assert refreshed(engine) == summed(engine)  # the reader found the trigger missing
    _tombstone(engine, ids)
    assert dirty(engine) == {ids["S4"].hex}


def test_todays_lists_from_the_kept_values_equal_the_lists_summed_now(shop, monkeypatch):  # noqa: F811
    """The same lists with the kept values as with the lines summed now (the reader told
    there are none kept, as on PostgreSQL), after a price change kept by its trigger."""
    engine, ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    with session_scope(engine) as s:
        s.execute(update(Product).where(Product.id == ids["DAL"]).values(price=Decimal("99.5")))
    fast = todays_calls(engine, TODAY, include_snoozed=True, identity=None)
    real = service.store_rows
    monkeypatch.setattr(
        service, "store_rows", lambda s, agent: dataclasses.replace(real(s, agent), expected=None)
    )
    slow = todays_calls(engine, TODAY, include_snoozed=True, identity=None)
    assert [dataclasses.astuple(e) for e in fast.to_call] == [
        dataclasses.astuple(e) for e in slow.to_call
    ]
    assert list(fast.win_back) == list(slow.win_back) and len(fast.win_back) == 1
    assert any(e.expected_value > 0 for e in fast.to_call)
