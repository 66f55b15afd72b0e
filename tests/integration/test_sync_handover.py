"""Handing an order kept for a moved store over to the store's new agent (issue 18, finding 5).

On real PostgreSQL, the adversarial cases as agent A's own role: the central function must hold
whatever A's laptop sends it.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, OrderLine, Outbox
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.sync.conflicts import list_conflicts
from mangalm_desktop.sync.handover import hand_over
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


def _parked_order(world, tmp_path):
    """A's order for a store moved to B before A could send it: parked as store_moved."""
    ea, eb = local_db(tmp_path / "a.sqlite"), local_db(tmp_path / "b.sqlite")
    ca, cb = world.connector(world.agent_a), world.connector(world.agent_b)
    assert sync_once(ea, ca).ok and sync_once(eb, cb).ok
    moved = world.stores_a[1]
    oid = new_order(ea, store_id=moved, agent_id=world.agent_a.agent_id, products=world.products)
    move_store(world, moved, world.agent_b.agent_id)
    report = sync_once(ea, ca)
    assert report.ok and report.parked == 1
    [item] = list_conflicts(ea)
    assert item.kind == "store_moved"
    return ea, eb, ca, cb, oid, item.seq


def _op(engine, seq):
    with session_scope(engine) as s:
        op = s.get(Outbox, seq)
        return op.op_id, json.loads(op.payload)


def _call(conn, op_id, order, lines):
    return conn.execute(
        "SELECT mangalm_hand_over_order(%s, %s, %s)", (op_id, Jsonb(order), Jsonb(lines))
    ).fetchone()[0]


def test_handed_over_order_reaches_the_new_agent_once_and_leaves_a(world, tmp_path):
    ea, eb, ca, cb, oid, seq = _parked_order(world, tmp_path)
    with session_scope(ea) as s:
        old_number = json.loads(s.get(Outbox, seq).payload)["order"]["number"]

    with ca() as pg:
        done = hand_over(ea, pg, seq)
    assert done.number == f"{world.agent_b.code.upper()}-HO-000001"
    assert done.old_number == old_number
    with session_scope(ea) as s:  # no longer A's: neither the op nor the order is left
        assert s.scalars(select(Outbox)).all() == []
        assert s.get(Order, oid) is None

    assert sync_once(eb, cb).ok
    assert sync_once(eb, cb).ok  # a second pull changes nothing
    with session_scope(eb) as s:
        got = s.scalars(select(Order).where(Order.id == oid)).all()
        assert len(got) == 1
        order = got[0]
        assert (order.number, order.agent_id) == (done.number, world.agent_b.agent_id)
        assert old_number in (order.notes or "")
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == oid)).all()
        assert len(lines) == 3
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (oid,)).fetchone()[0] == 1
        audit = c.execute(
            "SELECT actor, agent_id FROM audit_log WHERE action = 'order.hand_over' "
            "AND entity_id = %s",
            (str(oid),),
        ).fetchall()
    assert audit == [(world.agent_a.code, world.agent_a.agent_id)]
    assert sync_once(ea, ca).ok and sync_once(ea, ca).parked == 0
    assert_same_as_central(world, ea, world.agent_a)
    assert_same_as_central(world, eb, world.agent_b)


def test_hand_over_retried_after_a_cut_does_not_duplicate(world, tmp_path):
    ea, eb, ca, cb, oid, seq = _parked_order(world, tmp_path)
    op_id, payload = _op(ea, seq)
    order = dict(payload["order"], id=str(oid))
    # The server committed the first attempt, but the answer was lost: the op is still here.
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a:
        first = _call(a, op_id, order, payload["lines"])
    with ca() as pg:
        done = hand_over(ea, pg, seq)  # the retry
    assert done.number == first
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (oid,)).fetchone()[0] == 1
        lines = c.execute("SELECT count(*) FROM order_line WHERE order_id = %s", (oid,))
        assert lines.fetchone()[0] == 3
        assert c.execute("SELECT count(*) FROM order_handover").fetchone()[0] == 1
    with session_scope(ea) as s:
        assert s.scalars(select(Outbox)).all() == []
    assert sync_once(eb, cb).ok
    assert_same_as_central(world, eb, world.agent_b)


def test_agent_cannot_use_hand_over_beyond_the_protocol(world, tmp_path):
    ea, eb, ca, cb, oid, seq = _parked_order(world, tmp_path)
    op_id, payload = _op(ea, seq)
    order = dict(payload["order"], id=str(oid))
    lines = payload["lines"]

    def refused(order, op=None):
        with (
            psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            _call(a, op or uuid.uuid4(), order, lines)

    never_mine = world.stores_b[0]  # a store that was never A's
    refused(dict(order, id=str(uuid.uuid4()), store_id=str(never_mine)))
    still_mine = world.stores_a[0]  # a store A still has: send the order normally
    refused(dict(order, id=str(uuid.uuid4()), store_id=str(still_mine)))
    # An order "taken" after the store was moved away.
    refused(dict(order, id=str(uuid.uuid4()), created_at="2999-01-01T00:00:00+00:00"))
    # An order in another agent's name or with another agent's number.
    refused(dict(order, id=str(uuid.uuid4()), agent_id=str(world.agent_b.agent_id)))
    refused(dict(order, id=str(uuid.uuid4()), number=f"{world.agent_b.code}-X-000001"))
    # An order the server already has (not parked: sent before the move) cannot be taken over.
    sent = new_order(
        ea, store_id=still_mine, agent_id=world.agent_a.agent_id, products=world.products
    )
    assert sync_once(ea, ca).pushed == 1
    move_store(world, still_mine, world.agent_b.agent_id)
    refused(dict(order, id=str(sent), store_id=str(still_mine)))
    # The guard's bypass cannot be forged, and the function's table cannot be read.
    with (
        psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        a.execute(
            "INSERT INTO order_handover (op_id, order_id, from_agent, to_agent, "
            "old_number, number) VALUES (%s, %s, %s, %s, 'x', 'y')",
            (uuid.uuid4(), uuid.uuid4(), world.agent_a.agent_id, world.agent_b.agent_id),
        )
    # B cannot replay A's op id to learn or take anything.
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a:
        _call(a, op_id, order, lines)
    with (
        psycopg.connect(world.url_for(world.agent_b), autocommit=True) as b,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        _call(b, op_id, order, lines)
    with owner(world) as c:
        assert c.execute("SELECT count(*) FROM order_handover").fetchone()[0] == 1
        assert (
            c.execute("SELECT count(*) FROM orders WHERE number LIKE %s", ("%-HO-%",)).fetchone()[0]
            == 1
        )


def test_only_an_order_parked_as_store_moved_is_handed_over(world, tmp_path):
    ea = local_db(tmp_path / "a.sqlite")
    ca = world.connector(world.agent_a)
    assert sync_once(ea, ca).ok
    new_order(
        ea, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    with session_scope(ea) as s:
        seq = s.scalars(select(Outbox.seq)).one()
    with ca() as pg, pytest.raises(UserError, match="cannot be handed over"):
        hand_over(ea, pg, seq)
    with session_scope(ea) as s:  # nothing changed: the order still waits to be sent
        assert s.get(Outbox, seq).status == "pending"
    assert sync_once(ea, ca).pushed == 1


def test_cli_offers_and_does_the_hand_over(world, tmp_path, capsys, monkeypatch):
    from urllib.parse import parse_qsl, urlsplit

    from mangalm_desktop.cli.main import main
    from mangalm_desktop.sync.connection import CentralConfig, save_config

    ea, eb, ca, cb, oid, seq = _parked_order(world, tmp_path)
    parts = urlsplit(as_user(world.url, world.agent_a.db_role))
    save_config(
        CentralConfig(
            host=dict(parse_qsl(parts.query))["host"],
            database=parts.path.lstrip("/"),
            user=world.agent_a.db_role,
            sslmode="disable",
        )
    )
    db = str(ea.url.database)
    capsys.readouterr()
    monkeypatch.setenv("MANGALM_PASSWORD", world.agent_a.password)  # `sync conflicts` signs in
    assert main(["sync", "conflicts", "--db", db]) == 0
    assert f"mangalm sync hand-over {seq}" in capsys.readouterr().out
    assert main(["sync", "hand-over", str(seq), "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"handed over to the store's agent as {world.agent_b.code.upper()}-HO-000001" in out
    assert main(["sync", "hand-over", str(seq), "--db", db]) != 0  # settled: said in words
    captured = capsys.readouterr()
    assert f"There is no parked change #{seq}" in captured.err + captured.out
    assert "Traceback" not in captured.err
    assert sync_once(eb, cb).ok
    with session_scope(eb) as s:
        assert s.get(Order, oid).agent_id == world.agent_b.agent_id
