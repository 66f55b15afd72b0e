"""A cheque's whole way (issue 19 item 4): Zoho invoices → central → the agent's laptop; the
agent collects a cheque offline against two invoices; sync; the manager approves on his laptop;
sync; the Zoho bridge sends it as one Books customer payment applied to those invoices (and
not again on the next run); the agent's laptop receives the Zoho id and the lowered invoice
balances — and the store owes the same amount at every step after the collection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import psycopg
import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, Payment, Store
from mangalm_desktop.db.queries.balances import store_balance
from mangalm_desktop.domain.enums import PaymentMode, Role
from mangalm_desktop.payments import service
from mangalm_desktop.payments.model import AllocationInput, PaymentInput
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.zoho import bridge
from tests.integration.sync_support import as_user, build_world, local_db
from tests.zoho_server.support import connect, seed_zoho

pytestmark = pytest.mark.pg
TODAY = dt.date(2026, 11, 25)


def test_a_cheque_from_the_laptop_to_books_exactly_once(pg_url, server, clock, tmp_path):
    world = build_world(pg_url, stores_per_agent=0, invoices_per_store=0, products=1)
    a, m = world.agent_a, world.manager
    seed_zoho(server, stores=1, items=2, invoices=3, lines=1)
    client = connect(server, clock)
    owner = world.owner_engine()
    try:
        report = bridge.run_once(owner, client, ["accounts", "contacts", "items", "invoices"])
        assert report.stopped is None, report.as_dict()
        with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as c:
            c.execute("UPDATE store SET agent_id = %s", (a.agent_id,))  # the office assigns it

        laptop = local_db(tmp_path / "agent.sqlite")
        assert sync_once(laptop, world.connector(a)).ok
        with session_scope(laptop) as s:
            store_id = s.scalars(select(Store.id)).one()
            invoices = {
                n: (i, b)
                for n, i, b in s.execute(
                    select(Invoice.number, Invoice.id, Invoice.balance).order_by(Invoice.number)
                )
            }
            owed = store_balance(s, store_id, TODAY).outstanding
        (n0, (i0, b0)), (n1, (i1, _)) = list(invoices.items())[:2]
        agent = Identity(a.code, Role.AGENT, a.agent_id, a.code)
        paid = service.record_payment_now(
            laptop,
            agent,
            PaymentInput(
                store_id,
                b0 + D("10.00"),
                PaymentMode.CHEQUE,
                reference="004512",
                cheque_date=TODAY,
                received_on=TODAY,
                allocations=[AllocationInput(i0, b0), AllocationInput(i1, D("10.00"))],
            ),
            today=TODAY,
        )
        after = owed - b0 - D("10.00")
        with session_scope(laptop) as s:
            assert store_balance(s, store_id, TODAY).outstanding == after
        assert sync_once(laptop, world.connector(a)).ok

        # Collected, not approved: the bridge leaves it alone.
        assert bridge.run_once(owner, client, ["payments"]).results[0].fetched == 0
        office = local_db(tmp_path / "manager.sqlite")
        assert sync_once(office, world.connector(m)).ok
        service.approve(office, Identity(m.code, Role.MANAGER), paid.number)
        assert sync_once(office, world.connector(m)).ok

        res = bridge.run_once(owner, client, ["payments"]).results[0]
        assert (res.sent, res.parked) == (1, 0), res
        assert bridge.run_once(owner, client, ["payments"]).results[0].sent == 0
        assert server.payments_by_reference() == {paid.number: 1}
        [rec] = server.customerpayments
        assert rec["amount"] == float(b0 + D("10.00")) and rec["payment_mode"] == "check"
        assert len(rec["invoices"]) == 2

        # Books re-pulled, the agent synced: Zoho's id and balances are on the laptop, and the
        # store owes exactly what it owed right after the collection.
        clock.advance(60)
        assert bridge.run_once(owner, client, ["invoices"]).stopped is None
        assert sync_once(laptop, world.connector(a)).ok
        with session_scope(laptop) as s:
            p = s.get(Payment, paid.payment_id)
            assert (p.status, p.zoho_payment_id) == ("approved", rec["payment_id"])
            assert s.scalar(select(Invoice.balance).where(Invoice.number == n0)) == D("0.00")
            assert store_balance(s, store_id, TODAY).outstanding == after
            assert n1 in invoices
    finally:
        owner.dispose()
