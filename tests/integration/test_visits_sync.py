"""Visits and the no-order reasons through the real sync and a real PostgreSQL.

A manager adds a reason on their laptop; it reaches central and every agent's laptop; an
agent's visits (no order with that reason + shelf stock + next call; an order) reach central
with their rows; an agent may not write the reason list — refused by the service on the
laptop and by the central grants when the agent goes around the app with psql.
"""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from mangalm_desktop.domain.enums import CallOutcome, Role
from mangalm_desktop.orders.model import LineInput
from mangalm_desktop.security.roles import Identity, PermissionDenied
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.visits import reasons
from mangalm_desktop.visits.model import VisitInput
from mangalm_desktop.visits.service import save_visit
from tests.integration.sync_support import build_world, central_query, local_db, local_skus

pytestmark = pytest.mark.pg
TODAY = dt.date.today()


def test_reasons_and_visits_round_trip_and_agents_cannot_write_reasons(pg_url, tmp_path):
    world = build_world(pg_url, stores_per_agent=2, invoices_per_store=1, products=4)
    boss = Identity("meera", Role.MANAGER, agent_id=world.manager.agent_id)
    ravi = Identity("ravi", Role.AGENT, agent_id=world.agent_a.agent_id, agent_code="A")

    manager_db = local_db(tmp_path / "m.sqlite")
    assert sync_once(manager_db, world.connector(world.manager)).ok
    reason = reasons.add_reason(manager_db, boss, "Enough stock on the shelf")
    assert sync_once(manager_db, world.connector(world.manager)).ok
    assert central_query(world.url, "SELECT code, label, active FROM no_order_reason") == [
        ("enough_stock_on_the_shelf", "Enough stock on the shelf", True)
    ]

    agent_db = local_db(tmp_path / "a.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(agent_db, conn).ok
    assert [r.id for r in reasons.reasons(agent_db, ravi)] == [reason.id]
    with pytest.raises(PermissionDenied):
        reasons.add_reason(agent_db, ravi, "My own reason")

    sku = local_skus(agent_db)
    first, second = world.stores_a
    no_order = save_visit(
        agent_db,
        ravi,
        VisitInput(
            first,
            None,
            CallOutcome.NO_ORDER,
            reason_id=reason.id,
            stock={sku[0]: 5, sku[1]: 0},
            next_call_date=TODAY + dt.timedelta(days=3),
        ),
        today=TODAY,
    )
    ordered = save_visit(
        agent_db,
        ravi,
        VisitInput(second, None, CallOutcome.ORDERED, [LineInput(sku[2], 6)], stock={sku[2]: 1}),
        today=TODAY,
    )
    report = sync_once(agent_db, conn)
    assert report.ok and report.parked == 0
    calls = central_query(
        world.url,
        "SELECT id, outcome, reason_id, order_id, agent_id, next_call_date FROM call_log "
        "ORDER BY outcome",
    )
    assert calls == [
        (
            no_order.call_id,
            "no_order",
            reason.id,
            None,
            world.agent_a.agent_id,
            TODAY + dt.timedelta(days=3),
        ),
        (ordered.call_id, "ordered", None, ordered.order.order_id, world.agent_a.agent_id, None),
    ]
    assert central_query(
        world.url, "SELECT state FROM orders WHERE id = %s", ordered.order.order_id
    ) == [("synced",)]
    assert sorted(
        central_query(world.url, "SELECT store_id, quantity FROM store_stock_report")
    ) == sorted([(first, 5), (first, 0), (second, 1)])

    # the agent goes around the app: the reason list is read-only to agents centrally
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as psql:
        assert psql.execute("SELECT count(*) FROM no_order_reason").fetchone() == (1,)
        for sql, args in (
            (
                "INSERT INTO no_order_reason (id, code, label, sort_order, active, version, "
                "deleted, updated_at) VALUES (%s, 'mine', 'Mine', 0, true, 1, false, now())",
                (uuid.uuid4(),),
            ),
            ("UPDATE no_order_reason SET label = 'changed' WHERE id = %s", (reason.id,)),
            ("DELETE FROM no_order_reason WHERE id = %s", (reason.id,)),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                psql.execute(sql, args)
    assert central_query(world.url, "SELECT label, deleted FROM no_order_reason") == [
        ("Enough stock on the shelf", False)
    ]
