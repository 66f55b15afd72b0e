"""Scope changes, late-committing transactions and schema versions (DESIGN §3, issue 7 d/e)."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest
from sqlalchemy import func, select

from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import make_engine, session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Order, Outbox, Store
from mangalm_desktop.sync.connection import sqlalchemy_url
from mangalm_desktop.sync.pull import pull
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import (
    as_user,
    assert_same_as_central,
    local_db,
    move_store,
    new_order,
    owner,
)

pytestmark = pytest.mark.pg


def _store_rows(eng, store_id):
    with session_scope(eng) as s:
        return (
            s.scalar(select(func.count()).select_from(Store).where(Store.id == store_id)),
            s.scalar(select(func.count()).select_from(Invoice).where(Invoice.store_id == store_id)),
            s.scalar(
                select(func.count())
                .select_from(InvoiceLine)
                .where(InvoiceLine.store_id == store_id)
            ),
        )


def test_store_moves_a_to_b_and_back(world, tmp_path):
    ea, eb = local_db(tmp_path / "a.sqlite"), local_db(tmp_path / "b.sqlite")
    ca, cb = world.connector(world.agent_a), world.connector(world.agent_b)
    assert sync_once(ea, ca).ok and sync_once(eb, cb).ok
    moved = world.stores_a[0]
    before = _store_rows(ea, moved)
    assert before[0] == 1 and before[2] > 0

    move_store(world, moved, world.agent_b.agent_id)
    ra, rb = sync_once(ea, ca), sync_once(eb, cb)
    assert ra.pull.lost_stores == [moved] and rb.pull.gained_stores == [moved]
    assert _store_rows(ea, moved) == (0, 0, 0)
    assert _store_rows(eb, moved) == before  # B got the history its cursor had passed
    assert_same_as_central(world, ea, world.agent_a)
    assert_same_as_central(world, eb, world.agent_b)

    move_store(world, moved, world.agent_a.agent_id)
    assert sync_once(eb, cb).ok and sync_once(ea, ca).ok
    assert _store_rows(eb, moved) == (0, 0, 0)
    assert _store_rows(ea, moved) == before
    assert_same_as_central(world, ea, world.agent_a)
    assert_same_as_central(world, eb, world.agent_b)


def test_move_while_a_is_offline_keeps_unsent_order_as_conflict(world, tmp_path):
    ea, eb = local_db(tmp_path / "a.sqlite"), local_db(tmp_path / "b.sqlite")
    ca, cb = world.connector(world.agent_a), world.connector(world.agent_b)
    assert sync_once(ea, ca).ok and sync_once(eb, cb).ok
    moved = world.stores_a[1]
    # A takes an order offline; meanwhile the store is moved to B, twice over (A→B→A→B).
    oid = new_order(ea, store_id=moved, agent_id=world.agent_a.agent_id, products=world.products)
    move_store(world, moved, world.agent_b.agent_id)
    move_store(world, moved, world.agent_a.agent_id)
    move_store(world, moved, world.agent_b.agent_id)
    assert sync_once(eb, cb).ok
    report = sync_once(ea, ca)  # A comes back online
    assert report.ok and report.parked == 1
    assert moved in report.pull.lost_stores
    assert _store_rows(ea, moved) == (0, 0, 0)
    with session_scope(ea) as s:
        op = s.scalars(select(Outbox)).one()
        assert op.row_id == oid and op.status == "parked"
        assert json.loads(op.payload)["order"]["store_id"] in (moved.hex, str(moved))
        assert s.get(Order, oid) is None
    assert_same_as_central(world, ea, world.agent_a)
    assert_same_as_central(world, eb, world.agent_b)


def test_long_transaction_committing_after_a_later_one_is_not_skipped(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    with conn() as pg:
        pull(eng, pg)
    s0, s1 = world.stores_a[0], world.stores_a[1]
    with owner(world) as short, psycopg.connect(as_user(world.url, "postgres")) as long_tx:
        long_tx.execute("UPDATE store SET notes = 'long' WHERE id = %s", (s0,))  # older xid
        short.execute("UPDATE store SET notes = 'short' WHERE id = %s", (s1,))  # newer, commits
        with conn() as pg:
            first = pull(eng, pg)
        assert first.per_table["store"] == 1
        long_tx.commit()  # the older transaction commits last
    with conn() as pg:
        pull(eng, pg)
    with session_scope(eng) as s:
        assert s.get(Store, s1).notes == "short"
        assert s.get(Store, s0).notes == "long"


EXTRA_REVISION = '''"""a later migration (test only)"""
import sqlalchemy as sa
from alembic import op

revision = "0002_test_later"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("store", sa.Column("test_extra", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("store", "test_extra")
'''


@pytest.fixture
def newer_app(tmp_path, monkeypatch):
    """Makes this process an app built with one more migration than the shipped history."""
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations)
    (migrations / "versions" / "0002_test_later.py").write_text(
        EXTRA_REVISION.format(down=migrate.head_revision())
    )

    def activate():
        monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)

    return activate


def test_client_one_migration_behind_is_told_to_update(world, tmp_path, newer_app, monkeypatch):
    eng = local_db(tmp_path / "a.sqlite")
    new_order_ok = sync_once(eng, world.connector(world.agent_a)).ok
    assert new_order_ok
    oid = new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    shipped = migrate.MIGRATIONS_DIR
    newer_app()  # the administrator upgrades central with a newer app ...
    central = make_engine(sqlalchemy_url(world.url))
    migrate.upgrade(central)
    central.dispose()
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", shipped)  # ... this laptop is still old
    report = sync_once(eng, world.connector(world.agent_a))
    assert not report.ok
    assert "newer schema (0002_test_later)" in report.error
    assert "Update Mangalm Sales" in report.error
    with session_scope(eng) as s:  # nothing lost, nothing sent
        assert s.scalars(select(Outbox)).one().row_id == oid


def test_newer_client_refuses_older_central(world, tmp_path, newer_app):
    eng = local_db(tmp_path / "a.sqlite")
    newer_app()
    report = sync_once(eng, world.connector(world.agent_a))
    assert not report.ok
    assert "newer than the central database" in report.error
    assert "mangalm central init" in report.error


def test_order_for_a_moved_store_is_kept_and_sent_when_the_store_comes_back(world, tmp_path):
    from mangalm_desktop.sync.conflicts import list_conflicts

    ea = local_db(tmp_path / "a.sqlite")
    ca = world.connector(world.agent_a)
    assert sync_once(ea, ca).ok
    moved = world.stores_a[1]
    oid = new_order(ea, store_id=moved, agent_id=world.agent_a.agent_id, products=world.products)
    move_store(world, moved, world.agent_b.agent_id)
    report = sync_once(ea, ca)
    assert report.ok and report.parked == 1
    [item] = list_conflicts(ea)
    assert item.kind == "store_moved" and item.can_keep_mine
    assert "no longer yours" in item.message
    assert sync_once(ea, ca).parked == 0  # stays parked quietly, nothing re-sent in vain
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (oid,)).fetchone()[0] == 0

    move_store(world, moved, world.agent_a.agent_id)  # the store comes back
    report = sync_once(ea, ca)
    assert report.ok and report.pushed == 1 and report.parked == 0
    with owner(world) as c:
        got = c.execute("SELECT version, store_id FROM orders WHERE id = %s", (oid,)).fetchall()
    assert got == [(1, moved)]
    assert sync_once(ea, ca).ok
    with session_scope(ea) as s:
        assert s.scalars(select(Outbox)).all() == []
        assert s.get(Order, oid).state == "synced"
    assert_same_as_central(world, ea, world.agent_a)
