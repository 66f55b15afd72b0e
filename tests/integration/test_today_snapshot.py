"""Today's kept list (forecasting.today_snapshot): what the next start shows at once is the
top of the list the laptop worked out last, for the same person and scope only."""

from __future__ import annotations

import datetime as dt
import uuid

from mangalm_desktop.domain.enums import Role
from mangalm_desktop.domain.identity import Identity
from mangalm_desktop.forecasting.service import todays_calls
from mangalm_desktop.forecasting.today_snapshot import (
    KEEP,
    load_snapshot,
    save_snapshot,
    snapshot_key,
)

from .payments_support import TODAY, seed_payments


def test_kept_list_comes_back_as_it_was_and_only_for_its_owner(engine):
    sd = seed_payments(engine)
    calls = todays_calls(engine, TODAY, include_snoozed=True, identity=None)
    assert len(calls.to_call) + len(calls.win_back) >= 2
    key = snapshot_key(None, None)
    assert load_snapshot(engine, key) is None  # nothing kept yet: Today waits for the list
    save_snapshot(engine, key, calls)
    kept = load_snapshot(engine, key)
    assert kept is not None
    assert list(kept.calls.to_call) == list(calls.to_call)[:KEEP]
    assert list(kept.calls.win_back) == list(calls.win_back)[:KEEP]
    assert (kept.to_call_total, kept.win_back_total) == (len(calls.to_call), len(calls.win_back))
    assert kept.calls.falling == calls.falling
    assert abs(kept.made_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    # an agent signing in on the same laptop never sees the manager's kept list
    agent = Identity("A07", Role.AGENT, sd.base.agent_id, "A07")
    assert snapshot_key(agent, sd.base.agent_id) != key
    assert load_snapshot(engine, snapshot_key(agent, sd.base.agent_id)) is None
    assert load_snapshot(engine, snapshot_key(None, uuid.uuid4())) is None


def test_an_unreadable_kept_list_is_not_shown(engine):
    seed_payments(engine)
    key = snapshot_key(None, None)
    save_snapshot(engine, key, todays_calls(engine, TODAY, identity=None))
    with engine.begin() as conn:
        conn.exec_driver_sql('UPDATE today_snapshot SET payload = \'{"to_call": [{"x": 1}]}\'')
    assert load_snapshot(engine, key) is None
