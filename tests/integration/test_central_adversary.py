"""An agent with psql: every attack of issue 18 item 7, as the agent's own role, on real PostgreSQL.

Agent credentials live on laptops, so the central database must hold on its own: the agent
connects with raw SQL (no client rules in the way) and tries to damage another agent's work,
rewrite what Zoho owns, take another agent's order numbers, learn about rows it cannot see,
lock shared tables, and forge audit entries. Each test also shows what stays allowed, so a
blanket refusal could not pass. docs/security.md maps each attack to what stops it.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, Outbox, SyncState
from mangalm_desktop.orders.numbering import DEVICE_KEY, allocate, device_code
from mangalm_desktop.sync.central import init_central
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db, new_order

pytestmark = pytest.mark.pg

Refused = psycopg.errors.InsufficientPrivilege
# What every agent login role gets (docs/admin.md "What the central database enforces").
AGENT_ROLE_SETTINGS = {
    "lock_timeout": "10s",
    "statement_timeout": "10min",
    "idle_in_transaction_session_timeout": "5min",
}
LOCK_MODES = (
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
SHARED_TABLES = (
    "orders",
    "order_line",
    "store",
    "call_log",
    "store_stock_report",
    "prediction",
    "suggestion_feedback",
    "audit_log",
    "applied_ops",
    "product",
    "invoice",
)


@pytest.fixture
def world(pg_migrated_url):
    return build_world(pg_migrated_url, stores_per_agent=2, invoices_per_store=1, products=3)


@pytest.fixture
def owner(world):
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as conn:
        yield conn


def _connect(world, who):
    return psycopg.connect(world.url_for(who), autocommit=True)


def _number(who, n: int, device: str = "K3M") -> str:
    return f"{who.code.upper()}-{device}-{n:06d}"


ORDER_SQL = (
    "INSERT INTO orders (id, number, kind, state, store_id, agent_id, order_date, discount_pct, "
    "subtotal, discount_total, total, zoho_salesorder_id, created_at) VALUES "
    "(%s, %s, 'order', %s, %s, %s, '2024-06-01', 0, %s, 0, %s, %s, now())"
)


def _insert_order(conn, who, store, number, *, state="synced", total="25145.03", zoho=None, sql=""):
    oid = uuid.uuid4() if not sql else sql[1]
    conn.execute(
        ORDER_SQL + (sql[0] if sql else ""),
        (oid, number, state, store, who.agent_id, total, total, zoho),
    )
    return oid


def _insert_line(conn, order_id, store, product, *, line_no=1, total="25145.03"):
    lid = uuid.uuid4()
    conn.execute(
        "INSERT INTO order_line (id, order_id, line_no, store_id, product_id, quantity, "
        "unit_price, discount_pct, line_total, version, deleted, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, 1, %s, 0, %s, 1, false, now())",
        (lid, order_id, line_no, store, product, total, total),
    )
    return lid


def _refused(conn, sql, params=()):
    with pytest.raises(Refused) as err:
        conn.execute(sql, params)
    return err.value


def _lines(owner, order_id):
    return owner.execute(
        "SELECT count(*), sum(line_total), bool_or(deleted) FROM order_line WHERE order_id = %s",
        (order_id,),
    ).fetchone()


# ---- (a) parent ownership -----------------------------------------------------------------


def test_a_line_into_another_agents_order_is_refused(world, owner):
    a, b = world.agent_a, world.agent_b
    theirs = _insert_order(owner, b, world.stores_b[0], _number(b, 1))
    _insert_line(owner, theirs, world.stores_b[0], world.products[0])
    with _connect(world, a) as as_a:
        # The attack of the issue: a ₹50,000 line on B's order, filed under A's own store.
        hit = _refused(
            as_a,
            "INSERT INTO order_line (id, order_id, line_no, store_id, product_id, quantity, "
            "unit_price, discount_pct, line_total, version, deleted, updated_at) VALUES "
            "(%s, %s, 2, %s, %s, 1, 50000, 0, 50000, 1, false, now())",
            (uuid.uuid4(), theirs, world.stores_a[0], world.products[0]),
        )
        # An order id that does not exist gets the same words: nothing is learnt about B.
        miss = _refused(
            as_a,
            "INSERT INTO order_line (id, order_id, line_no, store_id, product_id, quantity, "
            "unit_price, discount_pct, line_total, version, deleted, updated_at) VALUES "
            "(%s, %s, 2, %s, %s, 1, 50000, 0, 50000, 1, false, now())",
            (uuid.uuid4(), uuid.uuid4(), world.stores_a[0], world.products[0]),
        )
        assert hit.diag.message_primary == miss.diag.message_primary
        assert _number(b, 1) not in str(hit)
        # A line of one's own order on another of one's stores is refused too.
        mine = _insert_order(as_a, a, world.stores_a[0], _number(a, 1))
        _refused(
            as_a,
            "INSERT INTO order_line (id, order_id, line_no, store_id, product_id, quantity, "
            "unit_price, discount_pct, line_total, version, deleted, updated_at) VALUES "
            "(%s, %s, 2, %s, %s, 1, 1, 0, 1, 1, false, now())",
            (uuid.uuid4(), mine, world.stores_a[1], world.products[0]),
        )
        # Its own order, its own store: allowed.
        _insert_line(as_a, mine, world.stores_a[0], world.products[1], total="10.00")
    assert _lines(owner, theirs) == (1, Decimal("25145.03"), False)
    assert _lines(owner, mine) == (1, Decimal("10.00"), False)


def test_lines_of_another_agents_order_cannot_be_changed_or_deleted(world, owner):
    a, b = world.agent_a, world.agent_b
    store = world.stores_b[0]
    theirs = _insert_order(owner, b, store, _number(b, 1))
    _insert_line(owner, theirs, store, world.products[0])
    # The store moves to A: Row-Level Security now shows A the store's history, B's order too.
    owner.execute("UPDATE store SET agent_id = %s WHERE id = %s", (a.agent_id, store))
    with _connect(world, a) as as_a:
        seen = as_a.execute("SELECT count(*) FROM order_line WHERE order_id = %s", (theirs,))
        assert seen.fetchone()[0] == 1
        _refused(
            as_a,
            "UPDATE order_line SET quantity = 0, line_total = 0 WHERE order_id = %s",
            (theirs,),
        )
        _refused(as_a, "UPDATE order_line SET deleted = true WHERE order_id = %s", (theirs,))
        _refused(as_a, "DELETE FROM order_line WHERE order_id = %s", (theirs,))
        _refused(as_a, "UPDATE orders SET notes = 'mine now' WHERE id = %s", (theirs,))
    assert _lines(owner, theirs) == (1, Decimal("25145.03"), False)


# ---- (b) Zoho-owned orders and the agent's state transitions ----------------------------


@pytest.mark.parametrize("state", ["sent_to_zoho", "invoiced"])
def test_an_order_zoho_owns_cannot_be_rewritten(world, owner, state):
    a = world.agent_a
    store = world.stores_a[0]
    oid = _insert_order(owner, a, store, _number(a, 1), state=state, zoho="SO-0001")
    lid = _insert_line(owner, oid, store, world.products[0])
    with _connect(world, a) as as_a:
        _refused(
            as_a,
            "UPDATE orders SET total = 1.00, subtotal = 1.00, state = 'synced' WHERE id = %s",
            (oid,),
        )
        _refused(as_a, "UPDATE orders SET zoho_salesorder_id = NULL WHERE id = %s", (oid,))
        _refused(as_a, "UPDATE orders SET state = 'cancelled' WHERE id = %s", (oid,))
        _refused(as_a, "UPDATE order_line SET line_total = 1, unit_price = 1 WHERE id = %s", (lid,))
        _refused(as_a, "UPDATE order_line SET deleted = true WHERE id = %s", (lid,))
        _refused(
            as_a,
            "INSERT INTO order_line (id, order_id, line_no, store_id, product_id, quantity, "
            "unit_price, discount_pct, line_total, version, deleted, updated_at) VALUES "
            "(%s, %s, 2, %s, %s, 1, 1, 0, 1, 1, false, now())",
            (uuid.uuid4(), oid, store, world.products[1]),
        )
        # The push's own statement shape (an upsert) is refused the same way.
        with pytest.raises(Refused):
            upsert = (
                " ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total, state = EXCLUDED.state"
            )
            _insert_order(as_a, a, store, _number(a, 1), total="1.00", sql=(upsert, oid))
    got = owner.execute("SELECT state, total, zoho_salesorder_id FROM orders WHERE id = %s", (oid,))
    assert got.fetchone() == (state, Decimal("25145.03"), "SO-0001")
    assert _lines(owner, oid) == (1, Decimal("25145.03"), False)


def test_agents_move_orders_only_as_the_protocol_allows(world, owner):
    a = world.agent_a
    store = world.stores_a[0]
    with _connect(world, a) as as_a:
        oid = _insert_order(as_a, a, store, _number(a, 1), state="submitted")
        for sql in (
            "UPDATE orders SET state = 'sent_to_zoho' WHERE id = %s",
            "UPDATE orders SET state = 'invoiced' WHERE id = %s",
            "UPDATE orders SET zoho_salesorder_id = 'SO-FAKE' WHERE id = %s",
            "UPDATE orders SET zoho_salesorder_number = 'SO-FAKE' WHERE id = %s",
            "UPDATE orders SET zoho_error = 'ignore me' WHERE id = %s",
            "UPDATE orders SET number = 'X-1' WHERE id = %s",
            "UPDATE orders SET store_id = '" + str(world.stores_a[1]) + "' WHERE id = %s",
            "UPDATE orders SET deleted = true WHERE id = %s",
        ):
            _refused(as_a, sql, (oid,))
        for state, zoho in (("invoiced", None), ("sent_to_zoho", None), ("synced", "SO-9")):
            with pytest.raises(Refused):
                _insert_order(as_a, a, store, _number(a, 9), state=state, zoho=zoho)
        # What the protocol lets an agent do: amend, sync, cancel (and nothing after that).
        as_a.execute("UPDATE orders SET notes = 'call back', total = 99 WHERE id = %s", (oid,))
        as_a.execute("UPDATE orders SET state = 'synced' WHERE id = %s", (oid,))
        as_a.execute(
            "UPDATE orders SET state = 'cancelled', cancelled_at = now() WHERE id = %s", (oid,)
        )
        _refused(as_a, "UPDATE orders SET state = 'synced' WHERE id = %s", (oid,))
    got = owner.execute("SELECT state, total, notes FROM orders WHERE id = %s", (oid,)).fetchone()
    assert got == ("cancelled", Decimal("99.00"), "call back")


# ---- (c) numbers, unique errors, device codes ---------------------------------------------


def test_order_numbers_carry_the_agents_own_code(world, owner):
    a, b = world.agent_a, world.agent_b
    with _connect(world, a) as as_a:
        for number in (_number(b, 1), "X-1", f"{a.code.upper()}K3M-000001", _number(b, 1)[1:]):
            with pytest.raises(Refused):
                _insert_order(as_a, a, world.stores_a[0], number)
        _insert_order(as_a, a, world.stores_a[0], _number(a, 1))
    # B's own next number is still free for B.
    with _connect(world, b) as as_b:
        _insert_order(as_b, b, world.stores_b[0], _number(b, 1))
    numbers = sorted(r[0] for r in owner.execute("SELECT number FROM orders"))
    assert numbers == sorted([_number(a, 1), _number(b, 1)])


def test_unique_errors_reveal_nothing_of_other_agents_rows(world, owner):
    a, b = world.agent_a, world.agent_b
    _insert_order(owner, b, world.stores_b[0], _number(b, 7))
    taken_store = owner.execute("SELECT code FROM store WHERE id = %s", (world.stores_b[0],))
    taken_store = taken_store.fetchone()[0]
    with _connect(world, a) as as_a:
        with pytest.raises(Refused) as used:
            _insert_order(as_a, a, world.stores_a[0], _number(b, 7))
        with pytest.raises(Refused) as free:
            _insert_order(as_a, a, world.stores_a[0], _number(b, 8))
        used, free = used.value, free.value
        assert used.diag.message_primary == free.diag.message_primary
        assert used.diag.message_detail is None and _number(b, 7) not in str(used)
        store_sql = (
            "INSERT INTO store (id, code, name, agent_id, outstanding_balance) "
            "VALUES (%s, %s, 'Probe', %s, 0)"
        )
        used = _refused(as_a, store_sql, (uuid.uuid4(), taken_store, a.agent_id))
        free = _refused(as_a, store_sql, (uuid.uuid4(), taken_store + "-nope", a.agent_id))
        assert used.diag.message_primary == free.diag.message_primary
        assert taken_store not in str(used)
        # A new shop of its own, under its own code, is fine.
        as_a.execute(store_sql, (uuid.uuid4(), f"{a.code.upper()}-NEW-1", a.agent_id))


def test_device_codes_are_claimed_per_agent_through_one_function(world):
    a, b = world.agent_a, world.agent_b
    first, second = uuid.uuid4(), uuid.uuid4()
    claim = "SELECT mangalm_claim_device_code(%s, %s)"
    with _connect(world, a) as as_a, _connect(world, b) as as_b:
        assert as_a.execute(claim, ("K3M", first)).fetchone()[0] is True
        assert as_a.execute(claim, ("K3M", first)).fetchone()[0] is True  # idempotent
        assert as_a.execute(claim, ("K3M", second)).fetchone()[0] is False  # A's other laptop
        assert as_b.execute(claim, ("K3M", uuid.uuid4())).fetchone()[0] is True  # B's own space
        _refused(as_a, "SELECT * FROM device_code")
        _refused(as_a, "DELETE FROM device_code")
        _refused(as_a, claim, ("k3m' OR true --", first))
        # Nor can an agent fill the registry: 200 codes per agent at most.
        for n in range(199):
            as_a.execute(claim, (f"Z{n:03d}", first))
        _refused(as_a, claim, ("ZZZZ", first))
        assert as_a.execute(claim, ("K3M", first)).fetchone()[0] is True  # its own still works


def _laptop(world, tmp_path, name, who):
    engine = local_db(tmp_path / f"{name}.sqlite")
    report = sync_once(engine, world.connector(who))
    assert report.ok, report.error
    return engine


def _take_orders(engine, who, store, products, n):
    numbers = []
    for _ in range(n):
        with session_scope(engine) as s:
            number = allocate(s, who.code)
        new_order(engine, store_id=store, agent_id=who.agent_id, products=products, number=number)
        numbers.append(number)
    return numbers


def test_two_laptops_of_one_agent_with_the_same_device_code(world, owner, tmp_path):
    a = world.agent_a
    one = _laptop(world, tmp_path, "one", a)
    two = _laptop(world, tmp_path, "two", a)
    # Both laptops drew K3M (1 in 32,768) and took orders offline before either synced again.
    if owner.execute("SELECT to_regclass('device_code')").fetchone()[0]:
        owner.execute("DELETE FROM device_code")  # the first syncs registered their own codes
    for engine in (one, two):
        with session_scope(engine) as s:
            device_code(s)
            s.get(SyncState, DEVICE_KEY).value = "K3M"
    old_one = _take_orders(one, a, world.stores_a[0], world.products, 2)
    old_two = _take_orders(two, a, world.stores_a[1], world.products, 3)
    assert set(old_one) <= set(old_two)  # the same numbers
    with session_scope(one) as s:  # one of laptop one's orders is still a draft
        draft_id = s.scalars(select(Order.id).where(Order.number == old_one[-1])).one()
        s.get(Order, draft_id).state = "draft"
        s.query(Outbox).filter(Outbox.row_id == draft_id).delete()
        own_ids = set(s.scalars(select(Order.id)))

    for engine in (two, one, two):
        report = sync_once(engine, world.connector(a))
        assert report.ok, report.error
        assert report.parked == 0

    central = dict(owner.execute("SELECT id, number FROM orders").fetchall())
    assert len(central) == 4 and len(set(central.values())) == 4
    assert sorted(n for n in central.values() if "-K3M-" in n) == sorted(old_two)
    with session_scope(one) as s:
        mine = {o.id: o.number for o in s.scalars(select(Order))}
        code = s.get(SyncState, DEVICE_KEY).value
        assert s.scalars(select(Outbox)).all() == []
    assert code != "K3M"
    assert mine[draft_id] == f"{a.code.upper()}-{code}-000002"  # the draft was renumbered too
    sent = {k: mine[k] for k in own_ids - {draft_id}}
    assert sent.items() <= central.items()
    assert list(sent.values()) == [f"{a.code.upper()}-{code}-000001"]
    with session_scope(two) as s:
        assert {o.id: o.number for o in s.scalars(select(Order))} == central
    lines = owner.execute("SELECT count(*) FROM order_line WHERE NOT deleted").fetchone()[0]
    assert lines == 4 * 3


# ---- (d) locks and timeouts ---------------------------------------------------------------


def test_agents_can_take_no_lock_that_blocks_another_agent(world):
    with _connect(world, world.agent_a) as as_a:
        for table in SHARED_TABLES:
            for mode in LOCK_MODES:
                with pytest.raises(Refused), as_a.transaction():
                    as_a.execute(f"LOCK TABLE {table} IN {mode} MODE NOWAIT")
            # ACCESS SHARE (what any SELECT takes) conflicts only with ACCESS EXCLUSIVE.
            with as_a.transaction():
                as_a.execute(f"LOCK TABLE {table} IN ACCESS SHARE MODE NOWAIT")


def test_agent_roles_have_lock_statement_and_idle_timeouts(world, owner):
    a = world.agent_a
    with _connect(world, a) as as_a:
        for name, value in AGENT_ROLE_SETTINGS.items():
            assert as_a.execute(f"SHOW {name}").fetchone()[0] == value
    with psycopg.connect(world.url_for(world.manager)) as m:
        assert m.execute("SHOW lock_timeout").fetchone()[0] == "0"


def test_central_init_upgrades_an_older_central_in_place(world, owner):
    """An older init gave agents table-level writes and no timeouts, and PostgreSQL 14 let
    everyone create objects in public; a re-run of init takes all of that away."""
    a = world.agent_a
    owner.execute(f'ALTER ROLE "{a.db_role}" RESET ALL')
    owner.execute("GRANT INSERT, UPDATE ON orders, order_line, store TO mangalm_agent")
    owner.execute("GRANT INSERT, DELETE ON applied_ops TO mangalm_agent")
    owner.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")  # PostgreSQL 14's default
    init_central(world.url)
    init_central(world.url)  # and again: idempotent
    with _connect(world, a) as as_a:
        for table in ("orders", "order_line", "store", "applied_ops"):
            with pytest.raises(Refused), as_a.transaction():
                as_a.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE NOWAIT")
        assert (
            as_a.execute("SHOW lock_timeout").fetchone()[0] == AGENT_ROLE_SETTINGS["lock_timeout"]
        )
        # No planting functions where the SECURITY DEFINER guards look them up.
        _refused(
            as_a,
            "CREATE FUNCTION public.upper(varchar) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$",
        )


# ---- (e) the audit log --------------------------------------------------------------------


def test_audit_entries_are_bound_to_the_session_role(world, owner):
    a, b = world.agent_a, world.agent_b
    insert = (
        "INSERT INTO audit_log (id, at, actor, action, agent_id, details, version, deleted, "
        "updated_at) VALUES (%s, now(), %s, 'order_cancel', %s, %s, 1, false, now())"
    )
    forged, plain = uuid.uuid4(), uuid.uuid4()
    with _connect(world, a) as as_a:
        as_a.execute(insert, (forged, world.manager.code, None, '{"why": "manager said so"}'))
        as_a.execute(insert, (plain, a.code, None, "not json"))
        _refused(as_a, insert, (uuid.uuid4(), b.code, b.agent_id, None))
    rows = {
        r[0]: r[1:]
        for r in owner.execute("SELECT id, actor, agent_id, details FROM audit_log").fetchall()
    }
    actor, agent, details = rows[forged]
    assert (actor, agent) == (a.code, a.agent_id)
    assert json.loads(details) == {"why": "manager said so", "claimed_actor": world.manager.code}
    assert rows[plain] == (a.code, a.agent_id, "not json")
    assert owner.execute("SELECT count(*) FROM audit_log WHERE agent_id IS NULL").fetchone()[0] == 0
