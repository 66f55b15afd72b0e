"""Approved payments → Books customer payments on the strict local Zoho server, exactly once
(docs/zoho.md "Payments"): lookup by reference before create, lost answers, 429, rejections,
and the balances that follow without counting a collection twice."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Invoice, Payment, PaymentAllocation, Store
from mangalm_desktop.db.queries.balances import store_balance
from mangalm_desktop.zoho import bridge
from tests.zoho_server import Fault
from tests.zoho_server.support import T0, connect, seed_zoho

pytestmark = pytest.mark.pg
TODAY = dt.date(2026, 11, 25)
_seq = iter(range(1, 10_000))


def _pulled(server, central, clock, invoices=4):
    seeded = seed_zoho(server, stores=2, items=3, invoices=invoices, lines=2)
    client = connect(server, clock)
    report = bridge.run_once(central, client, ["accounts", "contacts", "items", "invoices"])
    assert report.stopped is None, report.as_dict()
    return seeded, client


def _payment(central, invoice_numbers, amount, *, status="approved", mode="cheque", applied=None):
    """A payment as it arrives centrally from a laptop (and a manager's approval)."""
    with session_scope(central) as s:
        agent = s.scalar(select(Agent).where(Agent.code == "A01"))
        if agent is None:
            agent = Agent(id=uuid.uuid4(), code="A01", name="Asha")
            s.add(agent)
            s.flush()
        invs = [s.scalar(select(Invoice).where(Invoice.number == n)) for n in invoice_numbers]
        store_id = invs[0].store_id if invs else s.scalars(select(Store.id)).first()
        p = Payment(
            id=uuid.uuid4(),
            number=f"A01-K3M-R-{next(_seq):06d}",
            store_id=store_id,
            agent_id=agent.id,
            received_on=TODAY,
            amount=D(amount),
            mode=mode,
            reference="004512" if mode == "cheque" else "UTR-1",
            cheque_date=TODAY if mode == "cheque" else None,
            status=status,
        )
        s.add(p)
        s.flush()
        for inv, part in zip(invs, applied or [], strict=False):
            s.add(
                PaymentAllocation(
                    payment_id=p.id, store_id=store_id, invoice_id=inv.id, amount=D(part)
                )
            )
        return p.id, p.number, store_id


def _row(central, pid) -> Payment:
    with session_scope(central) as s:
        return s.get(Payment, pid)


def _balance(central, number) -> D:
    with session_scope(central) as s:
        return s.scalar(select(Invoice.balance).where(Invoice.number == number))


def test_approved_payments_reach_books_once_applied_to_their_invoices(server, central, clock):
    seeded, client = _pulled(server, central, clock)
    inv0, inv2 = seeded["invoices"][0], seeded["invoices"][2]  # both of the first store
    part0 = round(inv0["balance"] - 1, 2)
    pid, number, store_id = _payment(
        central,
        [inv0["invoice_number"], inv2["invoice_number"]],
        "500.00",
        applied=[f"{part0:.2f}", "1.00"],
    )
    waiting, _, _ = _payment(central, [], "10.00", status="collected", mode="cash")
    refused, _, _ = _payment(central, [], "10.00", status="rejected", mode="cash")
    with session_scope(central) as s:
        before = store_balance(s, store_id, TODAY)

    report = bridge.run_once(central, client, ["payments"])
    res = report.results[0]
    assert (res.sent, res.parked, res.waiting) == (1, 0, 0), report.as_dict()
    assert server.payments_by_reference() == {number: 1}
    rec = server.customerpayments[0]
    assert rec["payment_mode"] == "check" and rec["amount"] == 500.0
    assert rec["date"] == TODAY.isoformat() and "cheque 004512" in rec["description"]
    assert {(r["invoice_id"], r["amount_applied"]) for r in rec["invoices"]} == {
        (inv0["invoice_id"], part0),
        (inv2["invoice_id"], 1.0),
    }
    assert rec["unused_amount"] == round(500 - part0 - 1, 2)
    p = _row(central, pid)
    assert p.zoho_payment_id == rec["payment_id"] and p.zoho_error is None and p.version == 2
    assert _row(central, waiting).zoho_payment_id is None
    assert _row(central, refused).zoho_payment_id is None
    # The central invoices carry the payment now, exactly as Books does.
    assert _balance(central, inv0["invoice_number"]) == D("1.00")
    assert float(_balance(central, inv2["invoice_number"])) == inv2["balance"]
    # ... and the store owes the same as just before the push: counted once, not twice.
    with session_scope(central) as s:
        after = store_balance(s, store_id, TODAY)
    assert after.outstanding == before.outstanding
    # Re-pulling the invoices from Books changes nothing either.
    clock.advance(60)
    assert bridge.run_once(central, client, ["invoices"]).stopped is None
    assert _balance(central, inv0["invoice_number"]) == D("1.00")
    with session_scope(central) as s:
        assert store_balance(s, store_id, TODAY).outstanding == before.outstanding

    counts = bridge.status(central).counts
    assert (counts["payments_sent"], counts["payments_waiting"], counts["payments_parked"]) == (
        1,
        0,
        0,
    )
    # Nothing left: a second run sends nothing and asks Zoho nothing.
    n = len(server.api_log())
    assert bridge.run_once(central, client, ["payments"]).results[0].sent == 0
    assert len(server.api_log()) == n
    assert len(server.customerpayments) == 1


def test_lost_answers_and_429_never_make_a_second_payment(server, central, clock):
    seeded, client = _pulled(server, central, clock, invoices=6)
    owed = {inv["invoice_number"]: D(f"{inv['balance']:.2f}") for inv in seeded["invoices"]}
    made = [
        _payment(central, [inv["invoice_number"]], "5.00", mode="upi", applied=["5.00"])
        for inv in seeded["invoices"][:4]
    ]
    server.inject(
        Fault("drop_after", path="/books/v3/customerpayments", method="POST", count=2),
        Fault("429", path="/books/v3/customerpayments", method="POST", count=1, retry_after=1),
    )
    report = bridge.run_once(central, client, ["payments"])
    res = report.results[0]
    assert (res.sent, res.waiting, res.parked) == (4, 0, 0), report.as_dict()
    counts = server.payments_by_reference()
    assert [counts[number] for _, number, _ in made] == [1, 1, 1, 1]
    assert len(server.customerpayments) == 4
    assert {r["payment_mode"] for r in server.customerpayments} == {"UPI"}
    for pid, number, _ in made:
        rec = next(r for r in server.customerpayments if r["reference_number"] == number)
        assert _row(central, pid).zoho_payment_id == rec["payment_id"]
    # Each invoice was lowered once, not once per attempt.
    for inv in seeded["invoices"][:4]:
        assert _balance(central, inv["invoice_number"]) == owed[inv["invoice_number"]] - D("5")
        assert D(f"{inv['balance']:.2f}") == owed[inv["invoice_number"]] - D("5")  # in Books


def test_a_create_answered_with_500_waits_as_maybe_created(server, central, clock):
    seeded, client = _pulled(server, central, clock)
    pid, number, _ = _payment(central, [], "75.00", mode="cash")
    server.inject(Fault("500", path="/books/v3/customerpayments", method="POST", count=1))
    res = bridge.run_once(central, client, ["payments"]).results[0]
    assert (res.sent, res.waiting) == (0, 1)
    assert server.payments_by_reference()[number] == 0
    clock.advance(client.config.maybe_created_window_minutes * 60 - 60)
    assert bridge.run_once(central, client, ["payments"]).results[0].waiting == 1
    clock.advance(120)
    res = bridge.run_once(central, client, ["payments"]).results[0]
    assert (res.sent, res.waiting) == (1, 0)
    assert server.payments_by_reference()[number] == 1
    assert server.customerpayments[0]["payment_mode"] == "cash"
    assert server.customerpayments[0]["invoices"] == []  # all on account


def test_refusals_are_parked_with_words(server, central, clock):
    seeded, client = _pulled(server, central, clock)
    server.payment_modes.discard("UPI")  # this organization has no UPI mode
    upi, _, _ = _payment(central, [], "5.00", mode="upi")
    with session_scope(central) as s:  # an invoice imported from a file: not in Books
        store = s.scalars(select(Store).order_by(Store.code)).first()
        s.add(
            Invoice(
                number="CSV-1",
                store_id=store.id,
                invoice_date=T0.date(),
                total=D("9"),
                balance=D("9"),
                source="csv",
            )
        )
    csv_pay, _, _ = _payment(central, ["CSV-1"], "9.00", mode="cash", applied=["9.00"])
    res = bridge.run_once(central, client, ["payments"]).results[0]
    assert (res.sent, res.parked) == (0, 2)
    assert "Invalid value passed for payment_mode" in _row(central, upi).zoho_error
    assert (
        "Invoices not in Zoho Books (imported from a file?): CSV-1"
        in _row(central, csv_pay).zoho_error
    )
    assert server.customerpayments == []
    assert bridge.status(central).counts["payments_parked"] == 2
    assert bridge.run_once(central, client, ["payments"]).results[0].fetched == 0  # parked
    # Fixed in Books (the organization adds a UPI mode): released, sent on the next run.
    server.payment_modes.add("UPI")
    assert bridge.retry_parked(central, [_row(central, upi).number]) == 1
    res = bridge.run_once(central, client, ["payments"]).results[0]
    assert (res.sent, res.parked) == (1, 0)
    assert _row(central, upi).zoho_payment_id == server.customerpayments[0]["payment_id"]
