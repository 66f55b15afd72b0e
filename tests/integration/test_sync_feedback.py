"""Suggestion feedback reaches the central database even though its prediction never does.

Predictions are computed on the laptop and stay there; the feedback row (suggested vs ordered)
is what the office analyses. It carries the suggestion's model and generation time itself, and
``prediction_id`` is only a loose reference, so the central insert must not need the
prediction row (it used to be parked on a foreign-key error).
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Outbox, Prediction
from mangalm_desktop.orders import service as orders
from mangalm_desktop.orders.model import LineInput, OrderDraft, Suggestion
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db

pytestmark = pytest.mark.pg

GENERATED = dt.datetime(2024, 5, 31, 18, 30, 15, 123456, tzinfo=dt.UTC)


def test_submitted_orders_feedback_arrives_centrally_and_is_not_parked(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    assert sync_once(eng, world.connector(world.agent_a)).ok
    store, (taken, dropped) = world.stores_a[0], world.products[:2]
    with session_scope(eng) as s:  # computed on this laptop only: never in the outbox
        preds = [
            Prediction(
                store_id=store,
                product_id=p,
                horizon_start=dt.date(2024, 6, 3),
                horizon_weeks=2,
                point=7.6,
                low=5.0,
                high=10.0,
                suggested_qty=q,
                model="ets-weekly",
                generated_at=GENERATED,
            )
            for p, q in ((taken, 8), (dropped, 5))
        ]
        s.add_all(preds)
        s.flush()
        pid_taken, pid_dropped = (p.id for p in preds)
    draft = OrderDraft(
        store=store,
        agent_id=world.agent_a.agent_id,
        lines=[LineInput(taken, 12, suggested_qty=8, prediction_id=pid_taken)],
        suggestions=[Suggestion(taken, 8, pid_taken), Suggestion(dropped, 5, pid_dropped)],
    )
    res = orders.submit(eng, draft, identity=None)

    report = sync_once(eng, world.connector(world.agent_a))
    assert report.ok, report.error
    assert report.parked == 0
    with session_scope(eng) as s:
        assert s.scalars(select(Outbox)).all() == []

    with psycopg.connect(as_user(world.url, "postgres")) as c:
        rows = c.execute(
            "SELECT prediction_id, suggested_qty, ordered_qty, model, generated_at "
            "FROM suggestion_feedback WHERE order_id = %s ORDER BY suggested_qty",
            (res.order_id,),
        ).fetchall()
        assert c.execute("SELECT count(*) FROM prediction").fetchone()[0] == 0
    assert rows == [
        (pid_dropped, 5, 0, "ets-weekly", GENERATED),
        (pid_taken, 8, 12, "ets-weekly", GENERATED),
    ]
