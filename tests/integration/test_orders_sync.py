"""Orders taken with the order services, pushed by the real sync to a real PostgreSQL.

Proves the version rules of docs/orders.md against the central trigger: a submit creates
version 1, each amend/cancel is applied against the version the laptop predicted (also when
several are queued before a sync), a manager's edit in between parks the change, and an order
already sent to Zoho refuses local changes centrally too.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, Outbox
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import build_world, central_query, local_db, local_skus

pytestmark = pytest.mark.pg


def _central(world, sql: str, *args):
    return central_query(world.url, sql, *args)


def test_submit_amend_cancel_round_trip_through_central(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok  # agents, stores, products arrive
    sku = local_skus(eng)
    store, agent = world.stores_a[0], world.agent_a.agent_id

    def draft(*lines):
        return OrderDraft(store=store, agent_id=agent, lines=list(lines))

    res = service.submit(
        eng, draft(LineInput(sku[0], 6), LineInput(sku[1], 12), LineInput(sku[2], 6)), identity=None
    )
    assert res.number.startswith(f"{world.agent_a.code.upper()}-")
    assert sync_once(eng, conn).ok
    [(state, version, number, total)] = _central(
        world, "SELECT state, version, number, total FROM orders WHERE id = %s", res.order_id
    )
    assert (state, version, number, total) == ("synced", 1, res.number, res.total)
    with session_scope(eng) as s:
        assert s.get(Order, res.order_id).state == "synced"  # pulled back

    # two amends queued offline, then one sync: both apply, against versions 1 and 2
    service.amend(
        eng, res.order_id, draft(LineInput(sku[1], 24), LineInput(sku[3], 6)), identity=None
    )
    am = service.amend(
        eng,
        res.order_id,
        draft(LineInput(sku[1], 36), LineInput(sku[3], 6), LineInput(sku[4], 6)),
        identity=None,
    )
    assert am.version == 3
    report = sync_once(eng, conn)
    assert report.ok and report.parked == 0
    rows = _central(
        world,
        "SELECT l.line_no, l.quantity, l.deleted FROM order_line l "
        "WHERE order_id = %s ORDER BY line_no",
        res.order_id,
    )
    # lines 1 and 3 removed (tombstones), 2 kept and changed, 4 and 5 added — never renumbered
    assert rows == [(1, 6, True), (2, 36, False), (3, 6, True), (4, 6, False), (5, 6, False)]
    [(version, total)] = _central(
        world, "SELECT version, total FROM orders WHERE id = %s", res.order_id
    )
    assert version == 3 and total == am.total

    service.cancel(eng, res.order_id, reason="shop closed", identity=None)
    assert sync_once(eng, conn).ok
    assert _central(world, "SELECT state, version FROM orders WHERE id = %s", res.order_id) == [
        ("cancelled", 4)
    ]
    with session_scope(eng) as s:
        assert s.scalars(select(Outbox)).all() == []


def test_manager_edit_parks_the_agents_amend_and_zoho_orders_stay_central(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok
    sku = local_skus(eng)
    store, agent = world.stores_a[0], world.agent_a.agent_id

    def draft(*lines):
        return OrderDraft(store=store, agent_id=agent, lines=list(lines))

    a = service.submit(eng, draft(LineInput(sku[0], 6)), identity=None)
    z = service.submit(eng, draft(LineInput(sku[1], 6)), identity=None)
    assert sync_once(eng, conn).ok
    _central(
        world, "UPDATE orders SET notes = 'office: deliver Monday' WHERE id = %s", a.order_id
    )  # version 2 centrally
    service.amend(eng, a.order_id, draft(LineInput(sku[0], 12)), identity=None)  # made on version 1
    _central(
        world,
        "UPDATE orders SET state = 'sent_to_zoho', zoho_salesorder_number = 'SO-7' WHERE id = %s",
        z.order_id,
    )
    service.cancel(eng, z.order_id, identity=None)  # the laptop still thinks it is synced
    report = sync_once(eng, conn)
    assert report.parked == 2
    with session_scope(eng) as s:
        parked = {o.row_id: json.loads(o.last_error) for o in s.scalars(select(Outbox))}
    assert parked[a.order_id]["kind"] == "version"
    assert parked[z.order_id]["kind"] == "server_authoritative"
    assert _central(world, "SELECT state FROM orders WHERE id = %s", z.order_id) == [
        ("sent_to_zoho",)
    ]
