"""The visit service: one transaction for the call, order, stock and (later) payment."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    CallLog,
    Invoice,
    NoOrderReason,
    Order,
    OrderLine,
    Outbox,
    StoreStockReport,
)
from mangalm_desktop.domain.enums import CallOutcome, Role
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.orders.errors import CreditLimitExceeded, OrderInvalid
from mangalm_desktop.orders.model import LineInput
from mangalm_desktop.payments.model import AllocationInput, PaymentInput, PromiseInput
from mangalm_desktop.security.roles import Identity, PermissionDenied
from mangalm_desktop.visits import reasons
from mangalm_desktop.visits.header import load_header
from mangalm_desktop.visits.model import VisitInput
from mangalm_desktop.visits.service import save_visit

from .orders_support import seed

TODAY = dt.date(2026, 12, 7)
MANAGER = Identity("meera", Role.MANAGER)


def _counts(engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Order, OrderLine, CallLog, StoreStockReport, Outbox)
        }


@pytest.fixture
def sd(engine):
    return seed(engine)


def _agent(sd) -> Identity:
    return Identity("ravi", Role.AGENT, agent_id=sd.agent_id, agent_code="A07")


def test_an_ordered_visit_writes_order_call_and_stock_with_their_ops(engine, sd):
    visit = VisitInput(
        store_id=sd.store_id,
        agent_id=sd.agent_id,
        outcome=CallOutcome.ORDERED,
        lines=[LineInput("ATTA-5", 8), LineInput("DAL-1", 10)],
        stock={"ATTA-5": 3, "TEA-250": 0},
        next_call_date=TODAY + dt.timedelta(days=7),
        notes="wants a poster",
    )
    result = save_visit(engine, _agent(sd), visit, today=TODAY)
    assert result.order is not None and result.order.state == "submitted"
    assert result.stock_rows == 2
    with session_scope(engine) as s:
        call = s.get(CallLog, result.call_id)
        assert call.outcome == "ordered" and call.order_id == result.order.order_id
        assert call.next_call_date == TODAY + dt.timedelta(days=7) and call.scheduled
        ops = sorted(s.scalars(select(Outbox.table_name)))
        stock = {r.quantity for r in s.scalars(select(StoreStockReport))}
        order = s.get(Order, result.order.order_id)
    # one op for the order (its lines inside), one per feedback row? none: no suggestions
    assert ops == ["call_log", "orders", "store_stock_report", "store_stock_report"]
    assert stock == {3, 0}
    assert (
        order.total == Decimal("1964.00") + Decimal("1399.90") and order.notes == "wants a poster"
    )


def test_no_order_needs_a_reason_from_the_list_and_keeps_nothing_without(engine, sd):
    before = _counts(engine)
    with pytest.raises(UserError, match="needs its reason"):
        save_visit(
            engine,
            None,
            VisitInput(sd.store_id, sd.agent_id, CallOutcome.NO_ORDER, stock={"ATTA-5": 4}),
            today=TODAY,
        )
    assert _counts(engine) == before
    reason = reasons.add_reason(engine, MANAGER, "Enough stock on the shelf")
    result = save_visit(
        engine,
        None,
        VisitInput(
            sd.store_id,
            sd.agent_id,
            CallOutcome.NO_ORDER,
            reason_id=reason.id,
            stock={"ATTA-5": 4},
            lines=[LineInput("ATTA-5", 8)],  # typed, then the store said no: no order
        ),
        today=TODAY,
    )
    assert result.order is None
    with session_scope(engine) as s:
        call = s.get(CallLog, result.call_id)
        assert (call.outcome, call.reason_id, call.order_id) == ("no_order", reason.id, None)
        assert s.scalar(select(func.count()).select_from(Order)) == 0


def test_a_retired_reason_is_refused(engine, sd):
    reason = reasons.add_reason(engine, MANAGER, "Shop closed")
    reasons.retire_reason(engine, MANAGER, reason.code)
    assert reasons.reasons(engine, None) == []
    with pytest.raises(UserError, match="no longer on the list"):
        save_visit(
            engine,
            None,
            VisitInput(sd.store_id, sd.agent_id, CallOutcome.NO_ORDER, reason_id=reason.id),
            today=TODAY,
        )


def test_a_bad_part_anywhere_keeps_nothing(engine, sd):
    before = _counts(engine)
    good_lines = [LineInput("ATTA-5", 8)]
    bad = [
        # stock of an unknown product, after the order was already written in the session
        (
            VisitInput(
                sd.store_id, sd.agent_id, CallOutcome.ORDERED, good_lines, stock={"NOPE": 1}
            ),
            "Unknown product",
        ),
        # a call back in the past, after the order
        (
            VisitInput(
                sd.store_id,
                sd.agent_id,
                CallOutcome.CALL_BACK,
                next_call_date=TODAY - dt.timedelta(days=1),
            ),
            "in the past",
        ),
        (
            VisitInput(sd.store_id, sd.agent_id, CallOutcome.ORDERED, [LineInput("OLD-1", 1)]),
            "no longer sold",
        ),
        (VisitInput(sd.store_id, sd.agent_id, CallOutcome.ORDERED, []), "at least one line"),
        (
            VisitInput(
                sd.store_id,
                sd.agent_id,
                CallOutcome.ORDERED,
                good_lines,
                payment=PaymentInput(sd.store_id, Decimal("100"), "cheque", reference="000123"),
            ),
            "needs the date written on it",
        ),
    ]
    for visit, words in bad:
        with pytest.raises(UserError, match=words):
            save_visit(engine, None, visit, today=TODAY)
        assert _counts(engine) == before, words


def test_credit_limit_needs_acceptance(engine, sd):
    visit = VisitInput(
        sd.tight_store_id, sd.agent_id, CallOutcome.ORDERED, [LineInput("ATTA-5", 20)]
    )
    with pytest.raises(CreditLimitExceeded, match="Credit limit exceeded"):
        save_visit(engine, None, visit, today=TODAY)
    visit.accept_credit_warning = True
    assert save_visit(engine, None, visit, today=TODAY).order is not None


def test_agents_record_visits_only_for_their_own_stores_and_name(engine, sd):
    other = Identity("asha", Role.AGENT, agent_id=uuid.uuid4(), agent_code="A08")
    before = _counts(engine)
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        save_visit(engine, other, VisitInput(sd.store_id, None, CallOutcome.NO_ANSWER), today=TODAY)
    with pytest.raises(PermissionDenied, match="own name"):
        save_visit(
            engine,
            _agent(sd),
            VisitInput(sd.store_id, uuid.uuid4(), CallOutcome.NO_ANSWER),
            today=TODAY,
        )
    assert _counts(engine) == before
    # the agent's own id is taken from the identity when the visit names none
    result = save_visit(
        engine, _agent(sd), VisitInput(sd.store_id, None, CallOutcome.NO_ANSWER), today=TODAY
    )
    with session_scope(engine) as s:
        assert s.get(CallLog, result.call_id).agent_id == sd.agent_id


def test_only_managers_keep_the_reason_list(engine, sd):
    with pytest.raises(PermissionDenied):
        reasons.add_reason(engine, _agent(sd), "Owner away")
    with pytest.raises(UserError, match="Type the reason"):
        reasons.add_reason(engine, MANAGER, "   ")
    added = reasons.add_reason(engine, MANAGER, "Owner  away")
    assert added.label == "Owner away" and added.code == "owner_away"
    with pytest.raises(UserError, match="exists already"):
        reasons.add_reason(engine, MANAGER, "owner away")
    with session_scope(engine) as s:
        op = s.scalar(select(Outbox).where(Outbox.table_name == "no_order_reason"))
        assert op is not None and op.row_id == added.id
        assert s.scalar(select(func.count()).select_from(NoOrderReason)) == 1


def test_header_shows_balance_overdue_credit_and_last_orders(engine, sd):
    from mangalm_desktop.orders import service
    from mangalm_desktop.orders.model import OrderDraft

    with session_scope(engine) as s:
        for n, (due, bal) in enumerate([(TODAY - dt.timedelta(days=5), "400"), (TODAY, "600")]):
            s.add(
                Invoice(
                    number=f"INV-{n}",
                    store_id=sd.store_id,
                    invoice_date=TODAY - dt.timedelta(days=40),
                    due_date=due,
                    total=Decimal("1000"),
                    balance=Decimal(bal),
                    source="test",
                )
            )
    for qty in (4, 8):
        service.submit(
            engine,
            OrderDraft(
                store=sd.store_id,
                agent_id=sd.agent_id,
                lines=[LineInput("ATTA-5", qty), LineInput("DAL-1", 10)],
            ),
            identity=None,
            today=TODAY,
        )
    with pytest.raises(OrderInvalid):
        save_visit(
            engine,
            None,
            VisitInput(sd.store_id, sd.agent_id, CallOutcome.ORDERED, [LineInput("ATTA-5", -1)]),
            today=TODAY,
        )
    header = load_header(engine, _agent(sd), sd.store_id, TODAY)
    assert header.store_name == "Sri Lakshmi Stores" and header.phone == "+91 821 000 111"
    assert header.locality == "Mysuru" and header.beat == ""
    assert header.outstanding == Decimal("1000.00")
    assert (header.overdue_count, header.overdue_amount) == (1, Decimal("400.00"))
    open_orders = Decimal("982.00") + Decimal("1399.90") + Decimal("1964.00") + Decimal("1399.90")
    assert header.credit_left == Decimal("50000") - Decimal("1000") - open_orders
    # the two app orders, newest first, then an invoice to make three
    assert [p.units for p in header.past_orders[:2]] == [18, 14]
    assert header.past_orders[2].number.startswith("INV-")
    # the order starts from the last order, with its quantities as "last"
    assert {(x.sku, x.quantity, x.last_quantity) for x in header.lines} == {
        ("ATTA-5", 8, 8),
        ("DAL-1", 10, 10),
    }
    other = Identity("asha", Role.AGENT, agent_id=uuid.uuid4(), agent_code="A08")
    with pytest.raises(PermissionDenied):
        load_header(engine, other, sd.store_id, TODAY)


def test_a_cheque_collected_on_the_visit_is_saved_with_it(engine, sd):
    with session_scope(engine) as s:
        old = Invoice(
            number="INV-OLD",
            store_id=sd.store_id,
            invoice_date=TODAY - dt.timedelta(days=60),
            due_date=TODAY - dt.timedelta(days=30),
            total=Decimal("700"),
            balance=Decimal("700"),
            source="test",
        )
        new = Invoice(
            number="INV-NEW",
            store_id=sd.store_id,
            invoice_date=TODAY - dt.timedelta(days=10),
            due_date=TODAY + dt.timedelta(days=20),
            total=Decimal("900"),
            balance=Decimal("900"),
            source="test",
        )
        s.add_all([old, new])
    header = load_header(engine, None, sd.store_id, TODAY)
    assert (header.overdue_count, header.overdue_amount) == (1, Decimal("700.00"))
    allocations = [
        AllocationInput(old.id, Decimal("700.00")),
        AllocationInput(new.id, Decimal("300.00")),
    ]
    result = save_visit(
        engine,
        _agent(sd),
        VisitInput(
            sd.store_id,
            None,
            CallOutcome.ORDERED,
            [LineInput("ATTA-5", 4)],
            payment=PaymentInput(
                uuid.uuid4(),  # the visit's store is used
                Decimal("1000.00"),
                "cheque",
                reference="004512",
                cheque_date=TODAY,
                allocations=allocations,
            ),
            promise=PromiseInput(uuid.uuid4(), Decimal("600.00"), TODAY + dt.timedelta(days=14)),
        ),
        today=TODAY,
    )
    assert result.payment is not None and result.payment.number.startswith("A07-")
    with session_scope(engine) as s:
        ops = sorted(s.scalars(select(Outbox.table_name)))
    assert ops == [
        "audit_log",  # the receipt entry (payments.service)
        "call_log",
        "orders",
        "payment",
        "payment_allocation",
        "payment_allocation",
        "payment_promise",
    ]
    after = load_header(engine, None, sd.store_id, TODAY)
    assert after.outstanding == Decimal("600.00") and after.overdue_count == 0


def test_header_names_the_stores_beat(engine, sd):
    from mangalm_desktop.db.models import Beat, BeatStore

    with session_scope(engine) as s:
        beat = Beat(name="Mysuru Tuesday", agent_id=sd.agent_id, visit_days=2)
        s.add(beat)
        s.flush()
        s.add(BeatStore(store_id=sd.store_id, beat_id=beat.id, visit_order=1))
    assert load_header(engine, None, sd.store_id, TODAY).beat == "Mysuru Tuesday"
    assert load_header(engine, None, sd.tight_store_id, TODAY).beat == ""
