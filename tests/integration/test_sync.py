"""Pull, push, conflicts and scope changes against a real PostgreSQL (DESIGN §3)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Order, OrderLine, Outbox, Product, Store
from mangalm_desktop.domain.errors import Cancelled
from mangalm_desktop.domain.tasks import TaskContext
from mangalm_desktop.sync.pull import pull
from mangalm_desktop.sync.push import apply_batch, push, read_ops
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.sync.state import read_all
from tests.integration.sync_support import (
    assert_same_as_central,
    build_world,
    central_rows,
    edit_order,
    local_db,
    local_rows,
    new_order,
    owner,
)

pytestmark = pytest.mark.pg


def test_triggers_stamp_version_txid_and_tombstone(world):
    with owner(world) as c:
        pid = world.products[0]
        v, tx = c.execute(
            "SELECT version, txid::text FROM product WHERE id = %s", (pid,)
        ).fetchone()
        assert v == 1 and int(tx) > 0
        c.execute("UPDATE product SET name = 'Renamed' WHERE id = %s", (pid,))
        v2, tx2 = c.execute(
            "SELECT version, txid::text FROM product WHERE id = %s", (pid,)
        ).fetchone()
        assert v2 == 2 and int(tx2) > int(tx)
        c.execute(
            "DELETE FROM product WHERE id = %s AND NOT EXISTS "
            "(SELECT 1 FROM invoice_line WHERE product_id = %s)",
            (pid, pid),
        )
        row = c.execute("SELECT deleted, version FROM product WHERE id = %s", (pid,)).fetchone()
        assert row is not None, "a delete must leave a tombstone"


def test_agent_pull_gets_exactly_its_scope_and_values_survive(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    with world.connector(world.agent_a)() as pg:
        res = pull(eng, pg)
    assert res.rows > 0
    with session_scope(eng) as s:
        stores = set(s.scalars(select(Store.id)))
        assert stores == set(world.stores_a)
        assert s.scalar(select(func.count()).select_from(Product)) == len(world.products)
        assert {i.store_id for i in s.scalars(select(Invoice))} <= set(world.stores_a)
        st = s.get(Store, world.stores_a[0])
        assert st.credit_limit == Decimal("50000.00")
        assert st.outstanding_balance == Decimal("123.45")
        assert st.updated_at.tzinfo is not None
        line = s.scalars(select(InvoiceLine)).first()
        assert line.unit_price * line.quantity == line.line_total
    # The replica equals, row by row, what the agent may see centrally.
    assert_same_as_central(world, eng, world.agent_a)
    # A second pull brings nothing new; the manager's replica has everything.
    with world.connector(world.agent_a)() as pg:
        assert pull(eng, pg).rows == 0
    meng = local_db(tmp_path / "m.sqlite")
    with world.connector(world.manager)() as pg:
        pull(meng, pg)
    assert_same_as_central(world, meng)


def test_incremental_pull_after_central_change(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    with conn() as pg:
        pull(eng, pg)
    tricky = 'line1\nline2\r\n\t"quoted", comma \\ back\\slash \\N ünïcode'
    with owner(world) as c:
        c.execute("UPDATE store SET notes = 'call after 5' WHERE id = %s", (world.stores_a[1],))
        c.execute("UPDATE store SET notes = 'hidden' WHERE id = %s", (world.stores_b[1],))
        c.execute(
            "UPDATE store SET notes = %s, address = '' WHERE id = %s", (tricky, world.stores_a[2])
        )
    with conn() as pg:
        res = pull(eng, pg)
    assert res.per_table["store"] == 2
    with session_scope(eng) as s:
        assert s.get(Store, world.stores_a[2]).notes == tricky  # text survives exactly
        assert s.get(Store, world.stores_a[2]).address == ""  # empty is not NULL
        assert s.get(Store, world.stores_a[2]).phone is None
        assert s.get(Store, world.stores_a[1]).notes == "call after 5"
        assert s.get(Store, world.stores_a[1]).version == 2
        assert s.get(Store, world.stores_b[1]) is None


def test_push_order_exactly_once_and_state_comes_back(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    with conn() as pg:
        pull(eng, pg)
    oid = new_order(
        eng,
        store_id=world.stores_a[0],
        agent_id=world.agent_a.agent_id,
        products=world.products,
        lines=4,
    )
    ops = read_ops(eng, 10)
    with conn() as pg:
        # The commit happens but the ack is "lost": the client never records it, retries.
        first = apply_batch(pg, ops)
        assert [o.kind for o in first] == ["applied"]
        res = push(eng, pg)
    assert res.applied == 0 and res.duplicates == 1
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (oid,)).fetchone()[0] == 1
        assert (
            c.execute("SELECT count(*) FROM order_line WHERE order_id = %s", (oid,)).fetchone()[0]
            == 4
        )
        assert c.execute("SELECT state FROM orders WHERE id = %s", (oid,)).fetchone()[0] == "synced"
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0
    with conn() as pg:
        pull(eng, pg)
    with session_scope(eng) as s:
        assert s.get(Order, oid).state == "synced"
    assert_same_as_central(world, eng, world.agent_a)


def test_edit_pushes_with_base_version_and_removed_lines_become_tombstones(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    oid = new_order(
        eng,
        store_id=world.stores_a[0],
        agent_id=world.agent_a.agent_id,
        products=world.products,
        lines=3,
    )
    assert sync_once(eng, conn).ok
    with session_scope(eng) as s:
        line = s.scalars(
            select(OrderLine).where(OrderLine.order_id == oid, OrderLine.line_no == 3)
        ).one()
        s.delete(line)
    edit_order(eng, oid, "deliver Monday")
    report = sync_once(eng, conn)
    assert report.ok and report.pushed == 1 and report.parked == 0
    with owner(world) as c:
        notes, version = c.execute(
            "SELECT notes, version FROM orders WHERE id = %s", (oid,)
        ).fetchone()
        assert notes == "deliver Monday" and version == 2
        live = c.execute(
            "SELECT count(*) FROM order_line WHERE order_id = %s AND NOT deleted", (oid,)
        ).fetchone()[0]
        assert live == 2


def test_conflict_is_parked_with_both_versions_and_rest_of_queue_goes_on(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    oid = new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    assert sync_once(eng, conn).ok
    with owner(world) as c:  # a manager changes the order meanwhile
        c.execute("UPDATE orders SET notes = 'manager says: half' WHERE id = %s", (oid,))
    edit_order(eng, oid, "agent says: double")
    # Another op behind the conflicting one, and one that RLS rejects (B's store).
    other = new_order(
        eng, store_id=world.stores_a[1], agent_id=world.agent_a.agent_id, products=world.products
    )
    forged = new_order(
        eng,
        store_id=world.stores_a[2],
        agent_id=world.agent_a.agent_id,
        products=world.products,
        agent_field=world.agent_b.agent_id,
    )
    report = sync_once(eng, conn)
    assert report.ok and report.pushed == 1 and report.parked == 2
    with session_scope(eng) as s:
        parked = {
            o.row_id: json.loads(o.last_error)
            for o in s.scalars(select(Outbox).where(Outbox.status == "parked"))
        }
        assert set(parked) == {oid, forged}
        assert parked[oid]["kind"] == "version"
        assert parked[oid]["central"]["notes"] == "manager says: half"
        assert "row-level security" in parked[forged]["message"]
        # The local edit is kept (pull does not overwrite rows with unsent changes).
        assert s.get(Order, oid).notes == "agent says: double"
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (other,)).fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (forged,)).fetchone()[0] == 0


def test_order_sent_to_zoho_is_server_authoritative(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    oid = new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    assert sync_once(eng, conn).ok
    with owner(world) as c:
        c.execute(
            "UPDATE orders SET state = 'sent_to_zoho', zoho_salesorder_id = 'SO-1' WHERE id = %s",
            (oid,),
        )
    # The client edited on the version it had before the bridge sent it.
    with session_scope(eng) as s:
        s.get(Order, oid).version = 1
    edit_order(eng, oid, "too late")
    report = sync_once(eng, conn)
    assert report.parked == 1
    with session_scope(eng) as s:
        op = s.scalars(select(Outbox)).one()
        assert json.loads(op.last_error)["kind"] == "server_authoritative"


def test_interrupted_initial_sync_resumes_where_it_stopped(pg_url, tmp_path):
    from mangalm_desktop.sync.pull import BULK_BATCHES_PER_COMMIT

    world = build_world(pg_url, invoices_per_store=10, lines_per_invoice=5)
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.manager)
    batch = 5
    window = batch * BULK_BATCHES_PER_COMMIT  # rows per transaction of an initial load

    def progress(done, total, msg):
        if done >= 200:
            ctx.cancel()

    ctx = TaskContext(on_progress=progress)
    with conn() as pg, pytest.raises(Cancelled):
        pull(eng, pg, ctx, batch_size=batch)
    state = read_all(eng)
    assert any(k.startswith("resume:") for k in state), state
    first = sum(len(v) for v in local_rows(eng).values())
    assert first >= window
    with conn() as pg:
        res = pull(eng, pg, batch_size=batch)
    assert res.resumed, "the second run must continue, not start over"
    total = sum(len(v) for v in central_rows(world.url).values())
    assert res.rows <= total - first + window  # at most one unfinished transaction again
    assert_same_as_central(world, eng)
    assert not any(k.startswith("resume:") for k in read_all(eng))
    # The indexes dropped for the bulk load are back: the unique ones at once, the lookup ones
    # when the deferred build runs (the scheduler and `mangalm sync run` do, after each sync).
    from mangalm_desktop.sync.pull import build_deferred_indexes

    def names() -> set[str]:
        with eng.connect() as c:
            rows = c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'")
            return {r[0] for r in rows}

    assert "uq_invoice_line_invoice_id_line_no" in names()
    assert "ix_invoice_line_store_id_invoice_date" in build_deferred_indexes(eng).built
    assert "ix_invoice_line_store_id_invoice_date" in names()


def test_random_uuid_outbox_op_for_unknown_table_is_parked_not_blocking(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    assert sync_once(eng, world.connector(world.agent_a)).ok
    with session_scope(eng) as s:
        s.add(
            Outbox(
                op_id=uuid.uuid4(),
                table_name="sync_state",
                row_id=uuid.uuid4(),
                op="upsert",
                base_version=None,
                payload="{}",
            )
        )
    new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    report = sync_once(eng, world.connector(world.agent_a))
    assert report.pushed == 1 and report.parked == 1


def test_conflict_resolution_theirs_and_mine(world, tmp_path):
    from mangalm_desktop.sync.conflicts import list_conflicts, resolve

    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    o1 = new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    o2 = new_order(
        eng, store_id=world.stores_a[1], agent_id=world.agent_a.agent_id, products=world.products
    )
    assert sync_once(eng, conn).ok
    with owner(world) as c:
        c.execute("UPDATE orders SET notes = 'central' WHERE id = ANY(%s)", ([o1, o2],))
    edit_order(eng, o1, "local one")
    edit_order(eng, o2, "local two")
    assert sync_once(eng, conn).parked == 2
    items = {i.row_id: i for i in list_conflicts(eng)}
    assert ("notes", "local one", "central") in items[o1].differences()
    with conn() as pg:
        resolve(eng, pg, items[o1].seq, "theirs")
        resolve(eng, pg, items[o2].seq, "mine")
    with session_scope(eng) as s:
        assert s.get(Order, o1).notes == "central"
    report = sync_once(eng, conn)
    assert report.ok and report.pushed == 1 and report.parked == 0
    with owner(world) as c:
        assert (
            c.execute("SELECT notes FROM orders WHERE id = %s", (o2,)).fetchone()[0] == "local two"
        )
    assert list_conflicts(eng) == []
    assert_same_as_central(world, eng, world.agent_a)


def test_new_order_and_two_edits_in_one_batch_apply_in_order(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    oid = new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    edit_order(eng, oid, "first")
    edit_order(eng, oid, "second")
    report = sync_once(eng, conn)
    assert report.ok and report.pushed == 3 and report.parked == 0
    with owner(world) as c:
        notes, version = c.execute(
            "SELECT notes, version FROM orders WHERE id = %s", (oid,)
        ).fetchone()
        assert (notes, version) == ("second", 3)
    assert_same_as_central(world, eng, world.agent_a)


def test_revoked_login_is_reported_and_keeps_local_changes(world, tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    with owner(world) as c:
        c.execute(f'REVOKE mangalm_agent FROM "{world.agent_a.db_role}"')
    report = sync_once(eng, conn)
    assert not report.ok and "refused" in report.error
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 1


def test_audit_entries_and_store_edits_are_pushed(world, tmp_path):
    from mangalm_desktop.db.models import AuditLog
    from mangalm_desktop.db.outbox import OP_UPSERT, enqueue, row_payload

    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    with session_scope(eng) as s:
        for agent in (world.agent_a.agent_id, None):
            entry = AuditLog(actor="asha", action="sign_in", agent_id=agent)
            s.add(entry)
            s.flush()
            enqueue(
                s,
                table_name="audit_log",
                row_id=entry.id,
                op=OP_UPSERT,
                base_version=None,
                payload=row_payload(entry),
            )
        store = s.get(Store, world.stores_a[0])
        base = store.version
        store.notes = "shutter closes at 8"
        store.version = base + 1
        s.flush()
        enqueue(
            s,
            table_name="store",
            row_id=store.id,
            op=OP_UPSERT,
            base_version=base,
            payload=row_payload(store),
        )
    report = sync_once(eng, conn)
    with session_scope(eng) as s:
        errors = [o.last_error for o in s.scalars(select(Outbox))]
    assert report.ok and report.pushed == 3 and report.parked == 0, errors
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 2
        assert (
            c.execute("SELECT notes FROM store WHERE id = %s", (world.stores_a[0],)).fetchone()[0]
            == "shutter closes at 8"
        )
