"""The outstanding balance the Stores list (and its sort) shows is the one the call screen, the
store card and the credit check count (db.queries.balances.credit_balance), kept current by
the store-figure triggers through collections, approvals, rejections, the bridge's push and
Zoho's pulls. It used to be the stored ``store.outstanding_balance``: a cheque collected on
the call screen lowered the call screen's figure and left the Stores list's as it was."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select, text, update

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, Payment, Store
from mangalm_desktop.db.queries.balances import credit_balance
from mangalm_desktop.db.queries.stores import fetch_store_rows
from mangalm_desktop.db.search import (
    ensure_search_schema,
    refresh_dirty_store_stats,
    refresh_store_stats,
    stats_staleness,
)
from mangalm_desktop.domain.enums import PaymentMode
from mangalm_desktop.payments import service
from mangalm_desktop.payments.model import AllocationInput, PaymentInput

from .payments_support import TODAY, seed_payments


def shown(engine) -> dict[str, D]:
    """What the Stores list shows per store code (the rows it fetches, as the view does)."""
    with engine.connect() as conn:
        rowids = [r[0] for r in conn.execute(text("SELECT rowid FROM store WHERE NOT deleted"))]
    rows = fetch_store_rows(engine, rowids, TODAY, identity=None)
    with session_scope(engine) as s:
        codes = {sid: c for sid, c in s.execute(select(Store.id, Store.code))}
    return {codes[r.id]: r.balance for r in rows}


def expected(engine) -> dict[str, D]:
    with session_scope(engine) as s:
        return {st.code: credit_balance(s, st, TODAY) for st in s.scalars(select(Store))}


def collect(engine, sd, amount: str, allocations: dict[str, str], **kw):  # noqa: ANN003, ANN201
    """The agent records a payment (cash unless ``mode`` says otherwise) against invoices."""
    kw.setdefault("mode", PaymentMode.CASH)
    return service.record_payment_now(
        engine,
        sd.agent,
        PaymentInput(
            store_id=sd.store_id,
            amount=D(amount),
            allocations=[AllocationInput(sd.invoices[n], D(a)) for n, a in allocations.items()],
            **kw,
        ),
        today=TODAY,
    )


def settle(engine) -> None:
    """As the app's figure keeper does after a write: only the stores the triggers noted."""
    assert stats_staleness(engine, TODAY) == "stores", "the change was not noticed"
    refresh_dirty_store_stats(engine, TODAY)
    assert stats_staleness(engine, TODAY) == "current"


def test_the_list_shows_what_the_call_screen_counts_through_every_collection_step(engine):
    sd = seed_payments(engine)
    with session_scope(engine) as s:  # a store the office keeps by hand: no invoice rows
        s.add(Store(code="ST-777", name="Hand Kept", outstanding_balance=D("1234.00")))
    ensure_search_schema(engine, TODAY)
    refresh_store_stats(engine, TODAY)
    start = shown(engine)
    assert start == expected(engine)
    assert start["ST-777"] == D("1234.00")
    code = next(c for c, v in start.items() if v == D("6700.50"))  # 3000 + 2500.50 + 1200

    # A cheque on the call screen: 1000 against INV-001 and 500 on account.
    paid = collect(
        engine,
        sd,
        "1500.00",
        {"INV-001": "1000.00"},
        mode=PaymentMode.CHEQUE,
        reference="CHQ-1",
        cheque_date=TODAY,
    )
    settle(engine)
    assert shown(engine)[code] == D("5200.50") == expected(engine)[code]

    # The manager rejects it (a bounced cheque): owed again.
    service.reject(engine, sd.manager, paid.payment_id, reason="cheque bounced")
    settle(engine)
    assert shown(engine)[code] == D("6700.50") == expected(engine)[code]

    # Another cash payment, then the bridge's push: Zoho's id and the lowered invoice balance
    # arrive together, so the figure does not move.
    cash = collect(engine, sd, "2500.50", {"INV-002": "2500.50"})
    settle(engine)
    assert shown(engine)[code] == D("4200.00") == expected(engine)[code]
    with session_scope(engine) as s:
        s.execute(update(Payment).where(Payment.id == cash.payment_id).values(zoho_payment_id="Z1"))
        s.execute(
            update(Invoice).where(Invoice.id == sd.invoices["INV-002"]).values(balance=D("0"))
        )
    settle(engine)
    assert shown(engine)[code] == D("4200.00") == expected(engine)[code]

    # Zoho's next pull: INV-003 was paid at the office.
    with session_scope(engine) as s:
        s.execute(
            update(Invoice).where(Invoice.id == sd.invoices["INV-003"]).values(balance=D("0"))
        )
    settle(engine)
    assert shown(engine)[code] == D("3000.00") == expected(engine)[code]

    # The office changes the hand-kept store's figure.
    with session_scope(engine) as s:
        s.execute(update(Store).where(Store.code == "ST-777").values(outstanding_balance=D("99")))
    settle(engine)
    assert shown(engine) == expected(engine)
    assert shown(engine)["ST-777"] == D("99.00")


def test_sorting_by_outstanding_follows_the_shown_figure(engine):
    sd = seed_payments(engine)
    ensure_search_schema(engine, TODAY)
    refresh_store_stats(engine, TODAY)
    from mangalm_desktop.db.queries.stores import StoreIndex

    # collected in full: the store that owed most now owes nothing
    collect(engine, sd, "6700.50", {"INV-001": "3000", "INV-002": "2500.50", "INV-003": "1200"})
    refresh_dirty_store_stats(engine, TODAY)
    index = StoreIndex(engine, TODAY, identity=None)
    order = index.order("balance", descending=True)
    rows = fetch_store_rows(engine, [int(r) for r in order], TODAY, identity=None)
    figures = [r.balance for r in rows]
    assert figures == sorted(figures, reverse=True)
    assert next(r.balance for r in rows if r.id == sd.store_id) == D("0.00")


def test_figures_of_an_older_version_without_the_balance_are_redone_on_open(engine):
    sd = seed_payments(engine)
    ensure_search_schema(engine, TODAY)
    with engine.begin() as conn:  # what an older version made
        conn.exec_driver_sql("DROP TABLE store_stats")
        conn.exec_driver_sql(
            "CREATE TABLE store_stats (store_rowid INTEGER PRIMARY KEY, last_order_date TEXT,"
            " sales_12m INTEGER NOT NULL DEFAULT 0)"
        )
    ensure_search_schema(engine, TODAY)
    assert shown(engine) == expected(engine)
    assert shown(engine)["ST-101"] == D("999.00")
    assert sd.store_id in {r.id for r in fetch_store_rows(engine, [1, 2], TODAY, identity=None)}


def test_todays_call_list_shows_the_same_figure(engine):
    from mangalm_desktop.forecasting.service import todays_calls

    sd = seed_payments(engine)
    ensure_search_schema(engine, TODAY)
    refresh_store_stats(engine, TODAY)
    collect(engine, sd, "700.50", {"INV-002": "700.50"})
    refresh_dirty_store_stats(engine, TODAY)
    calls = todays_calls(engine, TODAY, include_snoozed=True, identity=None)
    entries = {e.store_id: e for e in (*calls.to_call, *calls.win_back)}
    assert entries[sd.store_id].outstanding_balance == D("6000.00") == expected(engine)["ST-001"]
