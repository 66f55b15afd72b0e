"""Collections through the central PostgreSQL: the sync round trip, and an agent with psql.

Payments are append-only for agents (docs/collections.md): an agent inserts its own stores'
payments in its own name with its own receipt numbers and never changes, deletes or approves
one; a manager approves. Every attack runs as the agent's own role on real PostgreSQL, and each
test also shows what stays allowed, so a blanket refusal could not pass.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D

import psycopg
import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Outbox, Payment
from mangalm_desktop.db.queries.balances import store_balance
from mangalm_desktop.domain.enums import PaymentMode, Role
from mangalm_desktop.payments import service
from mangalm_desktop.payments.model import AllocationInput, PaymentInput, PromiseInput
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.sync.push import push
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db

pytestmark = pytest.mark.pg

Refused = psycopg.errors.InsufficientPrivilege
TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def world(pg_migrated_url):
    w = build_world(pg_migrated_url, stores_per_agent=2, invoices_per_store=2, products=3)
    with psycopg.connect(as_user(w.url, "postgres"), autocommit=True) as c:
        c.execute("UPDATE invoice SET balance = total, due_date = invoice_date")
    return w


@pytest.fixture
def owner(world):
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as conn:
        yield conn


def _connect(world, who):
    return psycopg.connect(world.url_for(who), autocommit=True)


def _ident(who, role=Role.AGENT) -> Identity:
    return Identity(who.code, role, who.agent_id if role is Role.AGENT else None, who.code)


def _invoices(owner, store) -> list[tuple[uuid.UUID, D]]:
    return owner.execute(
        "SELECT id, balance FROM invoice WHERE store_id = %s ORDER BY number", (store,)
    ).fetchall()


PAY_SQL = (
    "INSERT INTO payment (id, number, store_id, agent_id, received_on, amount, mode, status, "
    "decided_by, zoho_payment_id, created_at) VALUES "
    "(%s, %s, %s, %s, '2026-11-20', %s, 'cash', %s, %s, %s, now())"
)


def _pay(
    conn, who, store, number, *, amount="500.00", status="collected", by=None, zoho=None, agent=None
):
    pid = uuid.uuid4()
    conn.execute(PAY_SQL, (pid, number, store, agent or who.agent_id, amount, status, by, zoho))
    return pid


def _alloc(conn, payment, store, invoice, amount):
    conn.execute(
        "INSERT INTO payment_allocation (id, payment_id, store_id, invoice_id, amount) "
        "VALUES (%s, %s, %s, %s, %s)",
        (uuid.uuid4(), payment, store, invoice, amount),
    )


def _refused(conn, sql, params=()):
    with pytest.raises(Refused) as err:
        conn.execute(sql, params)
    return err.value


def test_collected_offline_pushed_once_approved_centrally_and_back(world, owner, tmp_path):
    a, store = world.agent_a, world.stores_a[0]
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(a)
    assert sync_once(eng, conn).ok
    (inv1, bal1), (inv2, bal2) = _invoices(owner, store)
    res = service.record_payment_now(
        eng,
        _ident(a),
        PaymentInput(
            store,
            D("100.00"),
            PaymentMode.CHEQUE,
            reference="004512",
            cheque_date=TODAY,
            received_on=TODAY,
            allocations=[AllocationInput(inv1, D("60.00"))],
        ),
        today=TODAY,
    )
    with session_scope(eng) as s:
        local_after = store_balance(s, store, TODAY).outstanding
    assert local_after == bal1 + bal2 - D("100.00")
    report = sync_once(eng, conn)
    assert report.ok and report.parked == 0, report
    got = owner.execute(
        "SELECT number, agent_id, status, amount, version FROM payment WHERE id = %s",
        (res.payment_id,),
    ).fetchone()
    assert got == (res.number, a.agent_id, "collected", D("100.00"), 1)
    assert owner.execute(
        "SELECT amount FROM payment_allocation WHERE payment_id = %s", (res.payment_id,)
    ).fetchall() == [(D("60.00"),)]
    # Nothing left to push; a second run changes nothing.
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0
    assert sync_once(eng, conn).ok
    assert owner.execute("SELECT count(*) FROM payment").fetchone()[0] == 1

    # The manager's laptop approves; the agent's laptop receives the decision.
    meng = local_db(tmp_path / "m.sqlite")
    mconn = world.connector(world.manager)
    assert sync_once(meng, mconn).ok
    service.approve(meng, _ident(world.manager, Role.MANAGER), res.number, note="banked")
    with mconn() as pg:  # push alone: the version it records is the central row's
        assert push(meng, pg).parked == 0
    with session_scope(meng) as s:
        assert s.get(Payment, res.payment_id).version == 2
    assert owner.execute(
        "SELECT status, decided_by, version FROM payment WHERE id = %s", (res.payment_id,)
    ).fetchone() == ("approved", world.manager.code, 2)
    assert sync_once(eng, conn).ok
    with session_scope(eng) as s:
        p = s.get(Payment, res.payment_id)
        assert (p.status, p.decision_note, p.version) == ("approved", "banked", 2)


def test_an_agent_cannot_change_delete_or_approve_a_payment(world, owner):
    a = world.agent_a
    store = world.stores_a[0]
    with _connect(world, a) as as_a:
        mine = _pay(as_a, a, store, f"{a.code}-K3M-R-000001")  # allowed: own store, own name
        for sql in (
            "UPDATE payment SET status = 'approved' WHERE id = %s",
            "UPDATE payment SET amount = 1 WHERE id = %s",
            "UPDATE payment SET zoho_payment_id = 'X' WHERE id = %s",
            "DELETE FROM payment WHERE id = %s",
        ):
            _refused(as_a, sql, (mine,))
        # The one column push may lock with: Row-Level Security lets no row be updated.
        assert (
            as_a.execute("UPDATE payment SET deleted = true WHERE id = %s", (mine,)).rowcount == 0
        )
        _refused(as_a, "TRUNCATE payment")
        with pytest.raises(Refused), as_a.transaction():
            as_a.execute("LOCK TABLE payment IN EXCLUSIVE MODE")
    assert owner.execute(
        "SELECT status, amount, deleted FROM payment WHERE id = %s", (mine,)
    ).fetchone() == ("collected", D("500.00"), False)
    # A manager decides.
    with _connect(world, world.manager) as as_m:
        as_m.execute(
            "UPDATE payment SET status = 'approved', decided_by = 'M' WHERE id = %s", (mine,)
        )
    assert owner.execute("SELECT status FROM payment WHERE id = %s", (mine,)).fetchone() == (
        "approved",
    )


def test_an_agent_inserts_only_its_own_collected_payments(world, owner):
    a, b = world.agent_a, world.agent_b
    mine, theirs = world.stores_a[0], world.stores_b[0]
    with _connect(world, a) as as_a:
        # Another agent's store, or one's own store in another agent's name: RLS.
        _refused(
            as_a,
            PAY_SQL,
            (uuid.uuid4(), f"{a.code}-K3M-R-1", theirs, a.agent_id, "5", "collected", None, None),
        )
        _refused(
            as_a,
            PAY_SQL,
            (uuid.uuid4(), f"{a.code}-K3M-R-2", mine, b.agent_id, "5", "collected", None, None),
        )
        # Already approved, or already in Zoho, or numbered as another agent's receipt.
        hit = _refused(
            as_a,
            PAY_SQL,
            (uuid.uuid4(), f"{a.code}-K3M-R-3", mine, a.agent_id, "5", "approved", None, None),
        )
        assert "approved or rejected by a manager" in hit.diag.message_primary
        _refused(
            as_a,
            PAY_SQL,
            (uuid.uuid4(), f"{a.code}-K3M-R-4", mine, a.agent_id, "5", "collected", a.code, None),
        )
        hit = _refused(
            as_a,
            PAY_SQL,
            (uuid.uuid4(), f"{a.code}-K3M-R-5", mine, a.agent_id, "5", "collected", None, "ZP-1"),
        )
        assert "Zoho bridge" in hit.diag.message_primary
        hit = _refused(
            as_a,
            PAY_SQL,
            (uuid.uuid4(), f"{b.code}-K3M-R-6", mine, a.agent_id, "5", "collected", None, None),
        )
        assert "receipt numbers you create must start with" in hit.diag.message_primary
        # B's payments are invisible.
        _pay(owner, b, theirs, f"{b.code}-K3M-R-000001")
        assert as_a.execute("SELECT count(*) FROM payment").fetchone()[0] == 0
        # Its own, collected, numbered with its own code: allowed.
        _pay(as_a, a, mine, f"{a.code}-K3M-R-000007")
    assert owner.execute("SELECT count(*) FROM payment").fetchone()[0] == 2


def test_allocations_hang_from_own_payments_and_never_exceed_them(world, owner):
    a, b = world.agent_a, world.agent_b
    store, other_own = world.stores_a
    (inv, _), _ = _invoices(owner, store)
    (other_inv, _), _ = _invoices(owner, other_own)
    (b_inv, _), _ = _invoices(owner, world.stores_b[0])
    b_pay = _pay(owner, b, world.stores_b[0], f"{b.code}-K3M-R-000001")
    with _connect(world, a) as as_a:
        mine = _pay(as_a, a, store, f"{a.code}-K3M-R-000001", amount="100.00")
        hit = _refused(
            as_a,
            "INSERT INTO payment_allocation (id, payment_id, store_id, "
            "invoice_id, amount) VALUES (%s, %s, %s, %s, 1)",
            (uuid.uuid4(), b_pay, store, inv),
        )
        miss = _refused(
            as_a,
            "INSERT INTO payment_allocation (id, payment_id, store_id, "
            "invoice_id, amount) VALUES (%s, %s, %s, %s, 1)",
            (uuid.uuid4(), uuid.uuid4(), store, inv),
        )
        assert hit.diag.message_primary == miss.diag.message_primary  # nothing learnt about B
        # An invoice of another store (its own or B's) cannot be settled by this payment.
        for other in (other_inv, b_inv):
            hit = _refused(
                as_a,
                "INSERT INTO payment_allocation (id, payment_id, store_id, "
                "invoice_id, amount) VALUES (%s, %s, %s, %s, 1)",
                (uuid.uuid4(), mine, store, other),
            )
            assert "only invoices of its own store" in hit.diag.message_primary
        _alloc(as_a, mine, store, inv, "70.00")  # allowed
        hit = _refused(
            as_a,
            "INSERT INTO payment_allocation (id, payment_id, store_id, "
            "invoice_id, amount) VALUES (%s, %s, %s, %s, 30.01)",
            (uuid.uuid4(), mine, store, _invoices(owner, store)[1][0]),
        )
        assert "more than its amount" in hit.diag.message_primary
        _refused(as_a, "UPDATE payment_allocation SET amount = 1 WHERE payment_id = %s", (mine,))
        _refused(as_a, "DELETE FROM payment_allocation WHERE payment_id = %s", (mine,))
    # Once a manager decided, the agent can no longer add to it.
    owner.execute("UPDATE payment SET status = 'approved' WHERE id = %s", (mine,))
    with _connect(world, a) as as_a:
        hit = _refused(
            as_a,
            "INSERT INTO payment_allocation (id, payment_id, store_id, "
            "invoice_id, amount) VALUES (%s, %s, %s, %s, 1)",
            (uuid.uuid4(), mine, store, _invoices(owner, store)[1][0]),
        )
        assert "already decided" in hit.diag.message_primary
    assert owner.execute(
        "SELECT sum(amount) FROM payment_allocation WHERE payment_id = %s", (mine,)
    ).fetchone() == (D("70.00"),)


def test_promises_are_append_only_for_agents(world, owner, tmp_path):
    a, store = world.agent_a, world.stores_a[0]
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(a)
    assert sync_once(eng, conn).ok
    got = service.record_promise_now(
        eng, _ident(a), PromiseInput(store, D("750"), TODAY + dt.timedelta(days=3)), today=TODAY
    )
    assert sync_once(eng, conn).ok
    with _connect(world, a) as as_a:
        _refused(as_a, "UPDATE payment_promise SET amount = 1 WHERE id = %s", (got.promise_id,))
        _refused(as_a, "DELETE FROM payment_promise WHERE id = %s", (got.promise_id,))
        _refused(
            as_a,
            "INSERT INTO payment_promise (id, store_id, agent_id, promised_on, due_on, amount, "
            "created_at) VALUES (%s, %s, %s, current_date, current_date, 5, now())",
            (uuid.uuid4(), world.stores_b[0], a.agent_id),
        )
    assert owner.execute(
        "SELECT amount, agent_id FROM payment_promise WHERE id = %s", (got.promise_id,)
    ).fetchone() == (D("750.00"), a.agent_id)
