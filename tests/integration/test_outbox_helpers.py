"""The one way to queue a synced row (``db.outbox.enqueue_row`` / ``edit_row``) and to run bulk
SQL in one raw transaction (``db.engine.raw_transaction``), on a real SQLite replica."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mangalm_desktop.db import outbox
from mangalm_desktop.db.engine import raw_transaction, session_scope
from mangalm_desktop.db.models import NoOrderReason, Outbox


def _ops(engine) -> list[Outbox]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.seq)))


def _new_reason(engine) -> NoOrderReason:
    with session_scope(engine) as s:
        row = NoOrderReason(code="SHUT", label="Shop shut", sort_order=10)
        s.add(row)
        outbox.enqueue_row(s, row)
        return row


def test_a_new_row_is_queued_whole_with_its_table_and_no_base(engine) -> None:
    row = _new_reason(engine)
    (op,) = _ops(engine)
    assert (op.table_name, op.row_id, op.op, op.base_version) == (
        "no_order_reason",
        row.id,
        outbox.OP_UPSERT,
        None,
    )
    payload = json.loads(op.payload)
    assert payload["label"] == "Shop shut" and payload["version"] == 1  # flushed: defaults in
    assert outbox.BASE_FIELD not in payload


def test_an_edit_bumps_the_version_and_queues_the_old_values_of_what_changed(engine) -> None:
    row = _new_reason(engine)
    with session_scope(engine) as s:
        same = s.get(NoOrderReason, row.id)
        assert outbox.edit_row(s, same, label="Shop shut", active=True) == {}  # nothing new
    assert len(_ops(engine)) == 1
    with session_scope(engine) as s:
        edited = s.get(NoOrderReason, row.id)
        before = outbox.edit_row(s, edited, label="Shutter down", active=True)
    assert before == {"label": "Shop shut"}
    with session_scope(engine) as s:
        assert s.get(NoOrderReason, row.id).version == 2
    op = _ops(engine)[-1]
    payload = json.loads(op.payload)
    assert op.base_version == 1
    assert payload["label"] == "Shutter down" and payload[outbox.BASE_FIELD] == before


def test_raw_transaction_commits_or_takes_everything_back(engine) -> None:
    insert = "INSERT INTO sync_state (key, value, updated_at) VALUES (?, ?, '2026-12-06')"
    with pytest.raises(KeyboardInterrupt), raw_transaction(engine) as raw:
        raw.cursor().execute(insert, ("kept?", "no"))
        raise KeyboardInterrupt  # a cancel, not only an error, takes the work back
    with raw_transaction(engine) as raw:
        raw.cursor().execute(insert, ("kept", "yes"))
    with engine.connect() as conn:
        keys = [r[0] for r in conn.exec_driver_sql("SELECT key FROM sync_state").all()]
    assert keys == ["kept"]
