"""Row-Level Security: agent A, connected with raw SQL, cannot read or change agent B's rows."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from tests.integration.sync_support import as_user

pytestmark = pytest.mark.pg


@pytest.fixture
def as_a(world):
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as conn:
        yield conn


def _count(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()[0]


def test_agent_reads_only_its_stores_and_their_rows(world, as_a):
    b = world.stores_b
    assert _count(as_a, "SELECT count(*) FROM store") == len(world.stores_a)
    assert _count(as_a, "SELECT count(*) FROM store WHERE id = ANY(%s)", (b,)) == 0
    for table in ("invoice", "invoice_line", "orders", "order_line", "call_log"):
        assert _count(as_a, f"SELECT count(*) FROM {table} WHERE store_id = ANY(%s)", (b,)) == 0
    assert _count(as_a, "SELECT count(*) FROM invoice") > 0
    # All products and the agent directory are visible.
    assert _count(as_a, "SELECT count(*) FROM product") == len(world.products)
    with psycopg.connect(world.url_for(world.manager)) as m:
        assert _count(m, "SELECT count(*) FROM store") == len(world.stores_a) + len(b)
        assert _count(m, "SELECT count(*) FROM invoice WHERE store_id = ANY(%s)", (b,)) > 0


def test_agent_cannot_update_other_agents_rows_or_take_a_store(world, as_a):
    cur = as_a.execute("UPDATE store SET notes = 'mine now' WHERE id = ANY(%s)", (world.stores_b,))
    assert cur.rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_a.execute(
            "UPDATE store SET agent_id = %s WHERE id = %s",
            (world.agent_b.agent_id, world.stores_a[0]),
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_a.execute("UPDATE invoice SET total = 0")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_a.execute("UPDATE agent SET role = 'manager'")
    with psycopg.connect(as_user(world.url, "postgres")) as owner:
        assert _count(owner, "SELECT count(*) FROM store WHERE notes = 'mine now'") == 0


def _insert_order(conn, store_id, agent_id, code="X"):
    conn.execute(
        "INSERT INTO orders (id, number, kind, state, store_id, agent_id, order_date, "
        "discount_pct, subtotal, discount_total, total, version, deleted, updated_at, created_at)"
        " VALUES (%s, %s, 'order', 'submitted', %s, %s, %s, 0, 0, 0, 0, 1, false, now(), now())",
        (uuid.uuid4(), f"{code}-{uuid.uuid4().hex[:8]}", store_id, agent_id, dt.date(2024, 1, 1)),
    )


def test_agent_cannot_insert_into_other_stores_or_forge_agent_id(world, as_a):
    a, b = world.agent_a.agent_id, world.agent_b.agent_id
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _insert_order(as_a, world.stores_b[0], a)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _insert_order(as_a, world.stores_a[0], b)  # forged agent_id
    _insert_order(as_a, world.stores_a[0], a, world.agent_a.code)  # its own: allowed
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_a.execute(
            "INSERT INTO invoice (id, number, store_id, invoice_date, total, source, version,"
            " deleted, updated_at) VALUES (%s, 'FAKE', %s, '2024-01-01', 1, 'x', 1, false, now())",
            (uuid.uuid4(), world.stores_a[0]),
        )


def test_bookkeeping_tables_are_private(world, as_a):
    for table in ("outbox", "sync_state", "number_sequence", "mail_queue", "activity_model"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_a.execute(f"SELECT * FROM {table}")
    with psycopg.connect(world.url_for(world.agent_b), autocommit=True) as b:
        b.execute("INSERT INTO applied_ops (op_id) VALUES (%s)", (uuid.uuid4(),))
        # A cannot see B's applied ops, and cannot write one in B's name.
    assert _count(as_a, "SELECT count(*) FROM applied_ops") == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_a.execute(
            "INSERT INTO applied_ops (op_id, db_user) VALUES (%s, %s)",
            (uuid.uuid4(), world.agent_b.db_role),
        )
