"""Order services on a real migrated SQLite database: states, outbox, numbers, validation."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    NumberSequence,
    Order,
    OrderLine,
    Outbox,
    Prediction,
    SuggestionFeedback,
    SyncState,
)
from mangalm_desktop.domain.enums import OrderKind
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.orders import calls, numbering, queries, service
from mangalm_desktop.orders.errors import CreditLimitExceeded, OrderInvalid, OrderStateError
from mangalm_desktop.orders.model import LineInput, OrderDraft, Suggestion
from mangalm_desktop.orders.prefill import prefill
from mangalm_desktop.orders.validation import validate

from .orders_support import seed

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def seeded(engine):
    return seed(engine)


def draft(sd, *lines, **kw) -> OrderDraft:
    kw.setdefault("store", sd.store_id)
    return OrderDraft(agent_id=sd.agent_id, lines=list(lines), **kw)


def ops(engine, table="orders"):
    with session_scope(engine) as s:
        return list(
            s.scalars(select(Outbox).where(Outbox.table_name == table).order_by(Outbox.seq))
        )


def test_submit_writes_order_lines_and_one_outbox_op(engine, seeded):
    d = draft(
        seeded,
        LineInput("ATTA-5", 8, D("5")),
        LineInput("dal-1", 10),  # SKU is case-insensitive
        LineInput(seeded.products["TEA-250"], 24, D("2.5")),
        discount_pct=D("3"),
        notes="  ring bell twice ",
        requested_delivery_date=TODAY + dt.timedelta(days=2),
    )
    res = service.submit(engine, d, today=TODAY, identity=None)
    assert re.fullmatch(r"A07-[0-9A-HJKMNP-TV-Z]{3}-000001", res.number)
    assert res.state == "submitted" and res.version == 1
    # the hand-computed invoice of tests/unit/test_order_pricing.py
    assert res.total == D("5709.90")
    with session_scope(engine) as s:
        o = queries.get_order(s, res.order_id, identity=None)
    assert (o.subtotal, o.discount_total, o.total) == (D("6051.90"), D("342.00"), D("5709.90"))
    assert [x.sku for x in o.lines] == ["ATTA-5", "DAL-1", "TEA-250"]
    assert [x.line_total for x in o.lines] == [D("1865.80"), D("1399.90"), D("2620.80")]
    assert o.notes == "ring bell twice"
    [op] = ops(engine)
    assert op.op == "upsert_order" and op.base_version is None and op.row_id == res.order_id
    payload = json.loads(op.payload)
    assert payload["order"]["number"] == res.number and payload["order"]["state"] == "submitted"
    assert payload["order"]["total"] == "5709.90"
    assert [x["line_no"] for x in payload["lines"]] == [1, 2, 3]


def test_draft_is_local_then_submitted_with_the_same_number(engine, seeded):
    res = service.save_draft(
        engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None
    )
    assert res.state == "draft" and ops(engine) == []
    res2 = service.save_draft(
        engine,
        draft(seeded, LineInput("DAL-1", 10), LineInput("OIL-1", 12)),
        order_id=res.order_id,
        today=TODAY,
        identity=None,
    )
    assert res2.number == res.number and ops(engine) == []
    sub = service.submit_saved(engine, res.order_id, today=TODAY, identity=None)
    assert sub.number == res.number and sub.state == "submitted"
    [op] = ops(engine)
    assert [x["line_no"] for x in json.loads(op.payload)["lines"]] == [1, 2]
    with pytest.raises(OrderStateError, match="not a draft"):
        service.submit_saved(engine, res.order_id, today=TODAY, identity=None)


def test_amend_is_a_new_op_against_the_current_version(engine, seeded):
    res = service.submit(
        engine,
        draft(seeded, LineInput("ATTA-5", 4), LineInput("DAL-1", 10)),
        today=TODAY,
        identity=None,
    )
    am = service.amend(
        engine,
        res.order_id,
        draft(seeded, LineInput("DAL-1", 20), LineInput("OIL-1", 12)),
        today=TODAY,
        identity=None,
    )
    assert am.version == 2 and am.state == "submitted" and am.number == res.number
    first, second = ops(engine)
    assert first.base_version is None and second.base_version == 1
    lines = json.loads(second.payload)["lines"]
    # DAL-1 keeps line 2; ATTA-5 (line 1) is dropped; OIL-1 gets a fresh number 3, not 1
    assert [(x["line_no"], x["quantity"]) for x in lines] == [(2, 20), (3, 12)]
    with session_scope(engine) as s:
        tomb = s.scalars(select(OrderLine).where(OrderLine.deleted.is_(True))).all()
        assert [t.line_no for t in tomb] == [1]
        assert [x.sku for x in queries.get_order(s, res.order_id, identity=None).lines] == [
            "DAL-1",
            "OIL-1",
        ]
    # the synced state may be amended too; another op against version 2
    with session_scope(engine) as s:
        s.get(Order, res.order_id).state = "synced"
    service.amend(
        engine, res.order_id, draft(seeded, LineInput("DAL-1", 30)), today=TODAY, identity=None
    )
    assert ops(engine)[-1].base_version == 2
    with pytest.raises(OrderStateError, match="store of order"):
        service.amend(
            engine,
            res.order_id,
            draft(seeded, LineInput("DAL-1", 1), store=seeded.tight_store_id),
            today=TODAY,
            identity=None,
        )


def test_cancel_rules(engine, seeded):
    d = service.save_draft(
        engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None
    )
    assert service.cancel(engine, d.order_id, identity=None).state == "discarded"
    sub = service.submit(engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None)
    assert sub.number.endswith("-000002")  # the discarded draft's number is not reused
    c = service.cancel(engine, sub.order_id, reason="store closed for Diwali", identity=None)
    assert c.state == "cancelled" and c.version == 2
    last = ops(engine)[-1]
    assert last.base_version == 1 and json.loads(last.payload)["order"]["state"] == "cancelled"
    with pytest.raises(OrderStateError, match="is cancelled"):
        service.cancel(engine, sub.order_id, identity=None)
    with pytest.raises(OrderStateError, match="is cancelled"):
        service.amend(
            engine, sub.order_id, draft(seeded, LineInput("ATTA-5", 1)), today=TODAY, identity=None
        )
    z = service.submit(engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None)
    with session_scope(engine) as s:
        o = s.get(Order, z.order_id)
        o.state, o.zoho_salesorder_number = "sent_to_zoho", "SO-00042"
    before = len(ops(engine))
    with pytest.raises(
        OrderStateError, match=r"already sent to zoho \(Zoho sales order SO-00042\)"
    ):
        service.cancel(engine, z.order_id, identity=None)
    with pytest.raises(OrderStateError, match="can no longer be amended"):
        service.amend(
            engine, z.order_id, draft(seeded, LineInput("ATTA-5", 8)), today=TODAY, identity=None
        )
    assert len(ops(engine)) == before


def test_numbers_never_reused_and_device_segment(engine, seeded):
    nums = [
        service.submit(
            engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None
        ).number
        for _ in range(3)
    ]
    assert [n[-6:] for n in nums] == ["000001", "000002", "000003"]
    prefix = nums[0][:-7]
    with session_scope(engine) as s:
        assert s.get(SyncState, numbering.DEVICE_KEY).value == prefix.split("-")[1]
        # a reinstall that drew the same device code, after pulling its old orders:
        s.get(NumberSequence, prefix).last_value = 0
    assert service.submit(
        engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None
    ).number == (f"{prefix}-000004")
    with session_scope(engine) as s:
        numbering.note_central_number(s, f"{prefix}-000120")
        numbering.note_central_number(s, f"{prefix}-000007")  # lower: ignored
    assert service.submit(
        engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None
    ).number == (f"{prefix}-000121")


def test_second_laptop_gets_its_own_device_segment(tmp_path, seeded, engine):
    from mangalm_desktop.db.migrate import open_local_database

    other = open_local_database(tmp_path / "laptop2.sqlite")
    try:
        seed_other = seed(other)
        a = service.submit(
            engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, identity=None
        ).number
        b = service.submit(
            other, draft(seed_other, LineInput("ATTA-5", 4)), today=TODAY, identity=None
        ).number
    finally:
        other.dispose()
    # Both start at 1 but differ in the device segment (32**3 codes); equal codes would be
    # caught by the local-maximum rule after the first sync and by the central constraint.
    assert a.endswith("-000001") and b.endswith("-000001")
    assert a.split("-")[0] == b.split("-")[0] == "A07"


def messages(engine, d):
    with session_scope(engine) as s:
        c = validate(s, d, today=TODAY)
    return c


def test_every_validation_message(engine, seeded):
    p = seeded.products
    c = messages(engine, draft(seeded, LineInput("ATTA-5", 1), store=None))
    assert [str(e) for e in c.errors] == ["Choose a store for the order."]
    c = messages(engine, draft(seeded, LineInput("ATTA-5", 1), store="ST-999"))
    assert [str(e) for e in c.errors] == ["Store ST-999 was not found."]
    c = messages(engine, draft(seeded, LineInput("ATTA-5", 1), store=seeded.closed_store_id))
    assert [str(e) for e in c.errors] == ["Store Old Corner Shop is closed (inactive)."]
    c = messages(engine, draft(seeded))
    assert [str(e) for e in c.errors] == ["The order has no lines; add at least one product."]
    c = messages(
        engine,
        draft(
            seeded,
            LineInput("NOPE-1", 1),
            LineInput("OLD-1", 1),
            LineInput("ATTA-5", 0),
            LineInput("DAL-1", -2),
            LineInput("OIL-1", "2.5"),
            LineInput("TEA-250", 24, D("101")),
            LineInput(uuid.uuid4(), 1),
        ),
    )
    assert [str(e) for e in c.errors] == [
        "Line 1: Unknown product NOPE-1.",
        "Line 2: OLD-1 Discontinued Namkeen is no longer sold (inactive).",
        "Line 3: Quantity of ATTA-5 Mangalm Chakki Atta 5 kg must be at least 1 (got 0); "
        "record returned goods as a separate return.",
        "Line 4: Quantity of DAL-1 Toor Dal 1 kg must be at least 1 (got -2); "
        "record returned goods as a separate return.",
        "Line 5: Quantity '2.5' is not a whole number.",
        "Line 6: Discount on TEA-250 Assam Tea 250 g must be between 0 and 100% (got 101%).",
        f"Line 7: Unknown product {c.errors[-1].message.split()[-1][:-1]}.",
    ]
    c = messages(
        engine,
        draft(
            seeded,
            LineInput("ATTA-5", 3),
            LineInput("TEA-250", 24),
            LineInput(p["ATTA-5"], 5),
            discount_pct=D("-1"),
            requested_delivery_date=TODAY - dt.timedelta(days=1),
            order_date=TODAY,
        ),
    )
    assert [str(e) for e in c.errors] == [
        "Order discount must be between 0 and 100% (got -1%).",
        "Requested delivery date 24 Nov 2026 is before the order date 25 Nov 2026.",
    ]
    assert [str(n) for n in c.notices] == [
        "Line 1: ATTA-5 Mangalm Chakki Atta 5 kg was on lines 1, 3; merged into one line of 8.",
    ]
    assert [x.quantity for x in c.lines] == [8, 24]
    c = messages(engine, draft(seeded, LineInput("ATTA-5", 3, D("5")), LineInput("ATTA-5", 1)))
    assert [str(e) for e in c.errors] == [
        "Line 2: ATTA-5 Mangalm Chakki Atta 5 kg is on lines 1 and 2 with different discounts "
        "(5% and 0%); keep one line."
    ]
    c = messages(engine, draft(seeded, LineInput("DAL-1", 7)))
    assert [str(n) for n in c.notices] == [
        "Line 1: DAL-1 Toor Dal 1 kg: 7 is not a whole number of packs of 10; 10 would be."
    ]


def test_credit_limit_warning_needs_confirmation(engine, seeded):
    # Ganesh Provisions: limit 15,000, balance 12,000. 16 × 245.50 = 3,928.00
    d = draft(seeded, LineInput("ATTA-5", 16), store="ST-002")
    c = messages(engine, d)
    assert c.errors == []
    assert [str(w) for w in c.warnings] == [
        "Credit limit exceeded for Ganesh Provisions: outstanding balance ₹12,000.00 + open "
        "orders ₹0.00 + this order ₹3,928.00 = ₹15,928.00, over the limit of ₹15,000.00 by "
        "₹928.00."
    ]
    with pytest.raises(CreditLimitExceeded, match="over the limit of ₹15,000.00"):
        service.submit(engine, d, today=TODAY, identity=None)
    assert ops(engine) == []
    service.save_draft(engine, d, today=TODAY, identity=None)  # a draft is kept regardless
    res = service.submit(engine, d, accept_credit_warning=True, today=TODAY, identity=None)
    assert res.warnings and res.state == "submitted"
    # the open order now counts: 4 × 245.50 = 982 would fit alone but not on top of it
    c = messages(engine, draft(seeded, LineInput("ATTA-5", 4), store="ST-002"))
    assert "open orders ₹3,928.00 + this order ₹982.00" in str(c.warnings[0])


def test_invalid_submit_writes_nothing(engine, seeded):
    with pytest.raises(OrderInvalid) as err:
        service.submit(
            engine, draft(seeded, LineInput("ATTA-5", 0), store=None), today=TODAY, identity=None
        )
    assert [i.code for i in err.value.issues] == ["store_missing", "quantity_not_positive"]
    assert "The order cannot be saved:" in str(err.value)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
        assert s.scalar(select(func.count()).select_from(NumberSequence)) == 0
    assert ops(engine) == []


def test_return_order_is_explicit_and_negative(engine, seeded):
    res = service.submit(
        engine,
        draft(seeded, LineInput("OIL-1", 2), kind=OrderKind.RETURN),
        today=TODAY,
        identity=None,
    )
    with session_scope(engine) as s:
        o = queries.get_order(s, res.order_id, identity=None)
    assert o.kind == "return" and o.lines[0].quantity == -2
    assert o.total == D("-378.67")  # 2 × 189.3333 = 378.6666 → 378.67
    c = messages(engine, draft(seeded, LineInput("OIL-1", 0), kind=OrderKind.RETURN))
    assert [str(e) for e in c.errors] == [
        "Line 1: Quantity of OIL-1 Groundnut Oil 1 L must not be 0."
    ]


def test_suggestion_feedback_includes_deleted_suggestions(engine, seeded):
    p = seeded.products
    sugg = [Suggestion(p["ATTA-5"], 8), Suggestion(p["DAL-1"], 10)]
    d = draft(seeded, LineInput("ATTA-5", 12, suggested_qty=8), suggestions=sugg)
    res = service.submit(engine, d, today=TODAY, identity=None)
    with session_scope(engine) as s:
        fb = s.scalars(
            select(SuggestionFeedback).where(SuggestionFeedback.order_id == res.order_id)
        )
        got = sorted((f.product_id == p["ATTA-5"], f.suggested_qty, f.ordered_qty) for f in fb)
    assert got == [(False, 10, 0), (True, 8, 12)]
    assert len(ops(engine, "suggestion_feedback")) == 2 and len(ops(engine)) == 1


def test_prefill_suggestions_then_last_order(engine, seeded):
    p = seeded.products
    with session_scope(engine) as s:
        assert prefill(s, seeded.store_id, identity=None).source == "none"
    service.submit(
        engine,
        draft(seeded, LineInput("DAL-1", 10), LineInput("OIL-1", 12)),
        today=TODAY,
        identity=None,
    )
    with session_scope(engine) as s:
        pf = prefill(s, seeded.store_id, identity=None)
    assert pf.source == "last_order"
    assert [(x.product, x.quantity) for x in pf.lines] == [(p["DAL-1"], 10), (p["OIL-1"], 12)]
    with session_scope(engine) as s:
        for sku, q in [("TEA-250", 24), ("OLD-1", 5), ("ATTA-5", 0)]:
            s.add(
                Prediction(
                    store_id=seeded.store_id,
                    product_id=p[sku],
                    horizon_start=TODAY,
                    horizon_weeks=2,
                    point=1.0,
                    low=0.0,
                    high=2.0,
                    suggested_qty=q,
                    model="tsb",
                    reason="usually 24",
                )
            )
    with session_scope(engine) as s:
        pf = prefill(s, seeded.store_id, identity=None)
    assert pf.source == "suggestions"  # inactive OLD-1 and zero ATTA-5 left out
    assert [(x.product, x.quantity, x.suggested_qty) for x in pf.lines] == [(p["TEA-250"], 24, 24)]
    assert pf.suggestions[0].reason == "usually 24" and pf.lines[0].prediction_id is not None


def test_duplicate_and_list(engine, seeded):
    a = service.submit(engine, draft(seeded, LineInput("DAL-1", 10)), today=TODAY, identity=None)
    service.submit(
        engine, draft(seeded, LineInput("ATTA-5", 4), store="ST-002"), today=TODAY, identity=None
    )
    dup = service.duplicate(
        engine, a.order_id, agent_id=seeded.agent_id, today=TODAY, identity=None
    )
    assert dup.state == "draft" and dup.number != a.number and dup.total == a.total
    with session_scope(engine) as s:
        assert queries.count_orders(s, identity=None) == 3
        rows = queries.list_orders(s, queries.OrderFilter(states=("submitted",)), identity=None)
        assert {r.store_name for r in rows} == {"Sri Lakshmi Stores", "Ganesh Provisions"}
        rows = queries.list_orders(s, queries.OrderFilter(store_id=seeded.store_id), identity=None)
        assert [r.state for r in rows] == ["draft", "submitted"]  # newest number first
        assert queries.count_orders(s, queries.OrderFilter(text="ganesh"), identity=None) == 1
        assert (
            queries.count_orders(
                s, queries.OrderFilter(date_from=TODAY + dt.timedelta(1)), identity=None
            )
            == 0
        )
        assert queries.find_order(s, a.number.lower()) == a.order_id
        with pytest.raises(UserError, match="No order"):
            queries.find_order(s, "A07-XXX-999999")


def test_call_log_and_stock_capture(engine, seeded):
    with pytest.raises(UserError, match="call back needs the date"):
        calls.log_call(
            engine,
            identity=None,
            store="ST-001",
            agent_id=seeded.agent_id,
            outcome="call_back",
            today=TODAY,
        )
    with pytest.raises(UserError, match="is in the past"):
        calls.log_call(
            engine,
            identity=None,
            store="ST-001",
            agent_id=seeded.agent_id,
            outcome="no_answer",
            next_call_date=TODAY - dt.timedelta(days=1),
            today=TODAY,
        )
    with pytest.raises(UserError, match="Unknown call outcome 'maybe'"):
        calls.log_call(
            engine, identity=None, store="ST-001", agent_id=seeded.agent_id, outcome="maybe"
        )
    with pytest.raises(UserError, match="Store ST-404 was not found"):
        calls.log_call(
            engine, identity=None, store="ST-404", agent_id=seeded.agent_id, outcome="no_answer"
        )
    calls.log_call(
        engine,
        identity=None,
        store="ST-001",
        agent_id=seeded.agent_id,
        outcome="call_back",
        notes="owner at temple",
        next_call_date=TODAY + dt.timedelta(days=1),
        today=TODAY,
    )
    with session_scope(engine) as s:
        [c] = calls.recent_calls(s, seeded.store_id, identity=None)
    assert c.outcome == "call_back" and c.notes == "owner at temple"
    assert len(ops(engine, "call_log")) == 1

    with pytest.raises(UserError) as err:
        calls.record_stock(
            engine,
            identity=None,
            store="ST-001",
            agent_id=seeded.agent_id,
            quantities={"ATTA-5": 3, "NOPE": 1, "DAL-1": -1},
        )
    assert str(err.value) == (
        "Stock not recorded:\n- Unknown product NOPE.\n"
        "- Shelf quantity of DAL-1 must be 0 or more (got -1)."
    )
    assert ops(engine, "store_stock_report") == []
    n = calls.record_stock(
        engine,
        identity=None,
        store="ST-001",
        agent_id=seeded.agent_id,
        quantities={"ATTA-5": 3, seeded.products["DAL-1"]: 0},
        reported_on=TODAY,
    )
    assert n == 2 and len(ops(engine, "store_stock_report")) == 2
    with session_scope(engine) as s:
        shelf = calls.latest_stock(s, seeded.store_id, identity=None)
    assert shelf[seeded.products["ATTA-5"]] == (TODAY, 3)


def test_on_write_hook_shares_the_order_transaction(engine, seeded):
    seen = []

    def hook(session, action, order):
        seen.append((action, order.number, order.state))
        raise RuntimeError("audit failed")

    with pytest.raises(RuntimeError, match="audit failed"):
        service.submit(
            engine, draft(seeded, LineInput("ATTA-5", 4)), today=TODAY, on_write=hook, identity=None
        )
    assert seen and seen[0][0] == "order_submit" and seen[0][2] == "submitted"
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0  # all rolled back
    assert ops(engine) == []
    res = service.submit(
        engine,
        draft(seeded, LineInput("ATTA-5", 4)),
        today=TODAY,
        on_write=lambda s, a, o: seen.append((a, o.number, o.state)),
        identity=None,
    )
    service.amend(
        engine,
        res.order_id,
        draft(seeded, LineInput("ATTA-5", 8)),
        today=TODAY,
        on_write=lambda s, a, o: seen.append((a, o.number, o.state)),
        identity=None,
    )
    service.cancel(
        engine,
        res.order_id,
        on_write=lambda s, a, o: seen.append((a, o.number, o.state)),
        identity=None,
    )
    assert [x[0] for x in seen[1:]] == ["order_submit", "order_amend", "order_cancel"]
    assert seen[1][1].endswith("-000001")  # the failed attempt's number was rolled back too
