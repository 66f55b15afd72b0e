"""Collections on a real migrated SQLite database: one transaction with the caller, numbers,
validation in words, identity, approval and the balances that follow (docs/collections.md)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    AuditLog,
    Invoice,
    Outbox,
    Payment,
    PaymentAllocation,
    PaymentPromise,
    Store,
)
from mangalm_desktop.db.queries import store_detail
from mangalm_desktop.db.queries.balances import open_invoices, store_balance
from mangalm_desktop.domain.enums import PaymentMode
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.orders import service as orders
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.orders.validation import validate
from mangalm_desktop.payments import queries, service
from mangalm_desktop.payments.model import AllocationInput, PaymentInput, PromiseInput
from mangalm_desktop.security.roles import PermissionDenied
from mangalm_desktop.visits.header import load_header

from .payments_support import TODAY, seed_payments


@pytest.fixture
def sd(engine):
    return seed_payments(engine)


def pay(sd, amount="1000.00", mode=PaymentMode.CASH, allocs=(), **kw) -> PaymentInput:
    return PaymentInput(
        store_id=kw.pop("store_id", sd.store_id),
        amount=D(amount),
        mode=mode,
        allocations=[AllocationInput(sd.invoices[n], D(a)) for n, a in allocs],
        **kw,
    )


def counts(engine) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Payment)),
            s.scalar(select(func.count()).select_from(PaymentAllocation)),
            s.scalar(select(func.count()).select_from(Outbox)),
        )


def test_record_inside_the_callers_transaction_commits_or_rolls_back_with_it(engine, sd):
    # Rolled back by the caller (the call screen's save failed later): nothing stays.
    with Session(engine) as s, s.begin():
        res = service.record_payment(
            s, sd.agent, pay(sd, allocs=[("INV-001", "1000")]), today=TODAY
        )
        assert s.get(Payment, res.payment_id) is not None
        s.rollback()
    assert counts(engine) == (0, 0, 0)
    # Committed by the caller: payment, allocation and their ops (and the audit entry's).
    with Session(engine) as s, s.begin():
        res = service.record_payment(
            s, sd.agent, pay(sd, allocs=[("INV-001", "1000")]), today=TODAY
        )
    with session_scope(engine) as s:
        ops = list(s.scalars(select(Outbox).order_by(Outbox.seq)))
        assert [o.table_name for o in ops] == ["payment", "payment_allocation", "audit_log"]
        assert all(o.base_version is None and o.op == "upsert" for o in ops)
        body = json.loads(ops[0].payload)
        assert body["number"] == res.number and body["status"] == "collected"
        assert body["amount"] == "1000.00"
    # The number from the rolled-back attempt was never stored, so it is used now.
    assert re.fullmatch(r"A07-[0-9A-Z]{3}-R-000001", res.number)


def test_receipt_numbers_count_on_and_are_separate_from_orders(engine, sd):
    numbers = [
        service.record_payment_now(engine, sd.agent, pay(sd, "10"), today=TODAY).number
        for _ in range(3)
    ]
    assert [n[-8:] for n in numbers] == ["R-000001", "R-000002", "R-000003"]
    assert len({n.rsplit("-", 2)[0] for n in numbers}) == 1  # same agent and device


def test_allocations_settle_invoices_and_the_balance_follows(engine, sd):
    with session_scope(engine) as s:
        before = store_balance(s, sd.store_id, TODAY)
    assert before.outstanding == D("6700.50")
    assert before.overdue == D("5500.50")  # INV-001 and INV-002 are past due
    res = service.record_payment_now(
        engine,
        sd.agent,
        pay(sd, "4000.00", allocs=[("INV-001", "3000.00"), ("INV-002", "500.50")]),
        today=TODAY,
    )
    assert res.allocated == D("3500.50") and res.on_account == D("499.50")
    with session_scope(engine) as s:
        after = store_balance(s, sd.store_id, TODAY)
        left = {x.number: x.open for x in open_invoices(s, sd.store_id)}
    assert after.outstanding == D("2700.50")  # 6700.50 − 4000
    assert after.on_account == D("499.50")
    assert after.overdue == D("2000.00")
    assert left == {"INV-002": D("2000.00"), "INV-003": D("1200.00")}  # INV-001 settled
    # The store card shows the same figure (one way), not the stored outstanding_balance.
    card = store_detail.load_store_detail(engine, sd.store_id, TODAY, identity=sd.agent)
    assert card.profile.outstanding_balance == D("2700.50")

    # A rejected payment (cheque bounced) makes the invoices owed again at once.
    service.reject(engine, sd.manager, res.number, reason="cheque bounced")
    with session_scope(engine) as s:
        assert store_balance(s, sd.store_id, TODAY).outstanding == D("6700.50")

    # Once Zoho has the payment, the invoice's own balance carries it: not counted twice.
    res2 = service.record_payment_now(
        engine, sd.agent, pay(sd, "1000.00", allocs=[("INV-003", "1000.00")]), today=TODAY
    )
    with session_scope(engine) as s:
        p = s.get(Payment, res2.payment_id)
        p.zoho_payment_id = "ZP-1"
        inv = s.get(Invoice, sd.invoices["INV-003"])
        inv.balance = D("200.00")  # what the bridge writes with the Zoho id
    with session_scope(engine) as s:
        assert store_balance(s, sd.store_id, TODAY).outstanding == D("5700.50")


def messages(engine, sd, data) -> list[str]:
    with pytest.raises(service.PaymentInvalid) as got:
        service.record_payment_now(engine, sd.agent, data, today=TODAY)
    return got.value.problems


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (dict(amount="0"), "The amount must be more than ₹0."),
        (dict(amount="-5"), "The amount must be more than ₹0."),
        (dict(amount="10.005"), "more than two decimals"),
        (dict(mode="card"), "'card' is not a payment mode"),
        (dict(mode=PaymentMode.CHEQUE), "A cheque needs its cheque number"),
        (
            dict(mode=PaymentMode.CHEQUE, reference="123456"),
            "A cheque needs the date written on it.",
        ),
        (
            dict(mode=PaymentMode.CHEQUE, reference="1", cheque_date=TODAY - dt.timedelta(days=91)),
            "banks refuse a stale cheque",
        ),
        (dict(cheque_date=TODAY), "Only a cheque has a cheque date."),
        (dict(mode=PaymentMode.UPI), "A upi payment needs its UPI transaction id."),
        (dict(mode=PaymentMode.BANK_TRANSFER), "needs its bank reference (UTR)"),
        (dict(received_on=TODAY + dt.timedelta(days=1)), "is in the future"),
        (dict(allocs=[("INV-001", "3000.01")]), "Invoice INV-001 has ₹3,000.00 left to pay"),
        (dict(allocs=[("INV-000", "1")]), "Invoice INV-000 has ₹0.00 left to pay"),
        (dict(allocs=[("INV-900", "1")]), "Invoice INV-900 is not an invoice of Sri Lakshmi"),
        (
            dict(amount="100", allocs=[("INV-001", "60"), ("INV-002", "50")]),
            "add up to ₹110.00, more than the payment of ₹100.00",
        ),
        (dict(allocs=[("INV-001", "1"), ("INV-001", "2")]), "settled twice"),
        (dict(allocs=[("INV-001", "0")]), "must be more than ₹0, in paise"),
    ],
)
def test_every_validation_message_and_nothing_written(engine, sd, data, expected):
    data = dict(data)
    got = messages(
        engine,
        sd,
        pay(
            sd,
            data.pop("amount", "1000.00"),
            data.pop("mode", PaymentMode.CASH),
            data.pop("allocs", ()),
            **data,
        ),
    )
    assert any(expected in m for m in got), got
    assert counts(engine) == (0, 0, 0)


def test_identity_is_checked_in_the_service(engine, sd):
    other_store = pay(sd, store_id=sd.other_store_id)
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        service.record_payment_now(engine, sd.agent, other_store, today=TODAY)
    in_others_name = pay(sd, agent_id=sd.other_agent_id)
    with pytest.raises(PermissionDenied, match="only in their own name"):
        service.record_payment_now(engine, sd.agent, in_others_name, today=TODAY)
    res = service.record_payment_now(engine, sd.agent, pay(sd), today=TODAY)
    with pytest.raises(PermissionDenied, match="may not approve payments"):
        service.approve(engine, sd.agent, res.number)
    assert counts(engine)[0] == 1
    # An agent lists only its own stores' payments; a manager all.
    assert [r.number for r in queries.list_payments(engine, sd.agent)] == [res.number]
    assert queries.list_payments(engine, sd.other_agent) == []
    assert len(queries.list_payments(engine, sd.manager)) == 1


def test_manager_approves_once_with_a_field_level_op(engine, sd):
    res = service.record_payment_now(engine, sd.manager, pay(sd), today=TODAY)
    with session_scope(engine) as s:
        assert s.get(Payment, res.payment_id).agent_id == sd.base.agent_id  # the store's agent
    got = service.approve(engine, sd.manager, res.number.lower(), note="counted")
    assert got.status == "approved"
    with session_scope(engine) as s:
        p = s.get(Payment, res.payment_id)
        assert (p.status, p.decided_by, p.decision_note, p.version) == (
            "approved",
            "M01",
            "counted",
            2,
        )
        op = s.scalars(
            select(Outbox).where(Outbox.table_name == "payment").order_by(Outbox.seq.desc())
        ).first()
        body = json.loads(op.payload)
        assert op.base_version == 1 and body["_base"]["status"] == "collected"
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"payment_record", "payment_approve"} <= actions
    with pytest.raises(UserError, match="already approved by M01"):
        service.reject(engine, sd.manager, res.number, reason="oops")
    with pytest.raises(UserError, match="Say why"):
        service.reject(engine, sd.manager, res.number, reason="  ")
    with pytest.raises(UserError, match="No payment A07-XXX-R-999999"):
        service.approve(engine, sd.manager, "A07-XXX-R-999999")


def test_promise_to_pay(engine, sd):
    got = service.record_promise_now(
        engine,
        sd.agent,
        PromiseInput(sd.store_id, D("2500"), TODAY + dt.timedelta(days=7)),
        today=TODAY,
    )
    with session_scope(engine) as s:
        row = s.get(PaymentPromise, got.promise_id)
        assert (row.amount, row.agent_id, row.promised_on) == (
            D("2500.00"),
            sd.base.agent_id,
            TODAY,
        )
        assert (
            s.scalar(select(Outbox.table_name).where(Outbox.row_id == row.id)) == "payment_promise"
        )
    with pytest.raises(UserError, match="has already passed"):
        service.record_promise_now(
            engine,
            sd.agent,
            PromiseInput(sd.store_id, D("1"), TODAY - dt.timedelta(days=1)),
            today=TODAY,
        )
    with pytest.raises(PermissionDenied):
        service.record_promise_now(
            engine, sd.agent, PromiseInput(sd.other_store_id, D("1"), TODAY), today=TODAY
        )


def test_a_redrawn_device_code_renumbers_receipts_the_server_never_saw(engine, sd):
    from mangalm_desktop.db import numbering

    sent = service.record_payment_now(engine, sd.agent, pay(sd, "10"), today=TODAY)
    with session_scope(engine) as s:  # the first one reached the server: its op is gone
        s.execute(Outbox.__table__.delete().where(Outbox.row_id == sent.payment_id))
    unsent = service.record_payment_now(engine, sd.agent, pay(sd, "20"), today=TODAY)
    with session_scope(engine) as s:
        old = numbering.device_code(s)
        new, renumbered = numbering.redraw_device_code(s)
    assert new != old
    assert renumbered == {unsent.number: f"A07-{new}-R-000001"}
    with session_scope(engine) as s:
        assert s.get(Payment, sent.payment_id).number == sent.number  # the server has it
        moved = s.get(Payment, unsent.payment_id)
        assert (moved.number, moved.device_id) == (f"A07-{new}-R-000001", new)
        op = s.scalars(select(Outbox).where(Outbox.row_id == unsent.payment_id)).one()
        assert json.loads(op.payload)["number"] == moved.number


def test_a_collection_frees_credit_for_the_order_as_the_call_screen_header_shows(engine, sd):
    """Issue 19: the order's credit check counts the same balance as the header's credit left.

    The office's stored column says what the invoices say (6,700.50) and the limit is 10,000;
    16 × ATTA-5 = 3,928.00 does not fit. A 3,000.00 cheque settling INV-001 (not yet in Zoho)
    brings the store to 3,700.50 + 3,928.00 = 7,628.50: the order fits and is not flagged. The
    old check added up the stored column, which no collection lowers, and still warned."""
    with session_scope(engine) as s:
        store = s.get(Store, sd.store_id)
        store.credit_limit, store.outstanding_balance = D("10000.00"), D("6700.50")
    order = OrderDraft(
        agent_id=sd.base.agent_id, store=sd.store_id, lines=[LineInput("ATTA-5", 16)]
    )

    def warnings() -> list[str]:
        with session_scope(engine) as s:
            return [str(w) for w in validate(s, order, today=TODAY).warnings]

    assert warnings() == [
        "Credit limit exceeded for Sri Lakshmi Stores: outstanding balance ₹6,700.50 + open "
        "orders ₹0.00 + this order ₹3,928.00 = ₹10,628.50, over the limit of ₹10,000.00 by "
        "₹628.50."
    ]
    assert load_header(engine, sd.agent, sd.store_id, TODAY).credit_left == D("3299.50")

    service.record_payment_now(
        engine,
        sd.agent,
        pay(
            sd,
            "3000.00",
            PaymentMode.CHEQUE,
            [("INV-001", "3000.00")],
            reference="004417",
            cheque_date=TODAY,
        ),
        today=TODAY,
    )

    assert load_header(engine, sd.agent, sd.store_id, TODAY).credit_left == D("6299.50")
    assert warnings() == []
    res = orders.submit(engine, order, today=TODAY, identity=sd.agent)  # no confirmation asked
    assert res.state == "submitted" and res.warnings == []
