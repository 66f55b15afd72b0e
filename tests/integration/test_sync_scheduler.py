"""The background scheduler: offline detection, real backoff bounds, back online, "Sync now",
late runs after a suspend or a clock jump (pinned clocks), and the CLI loop surviving SIGSTOP."""

from __future__ import annotations

import datetime as dt
import random
import socket
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest

from mangalm_desktop.sync.connection import CentralConfig, save_config
from mangalm_desktop.sync.scheduler import Backoff, SyncScheduler, SyncStatus
from mangalm_desktop.sync.state import history
from tests.integration.sync_support import (
    as_user,
    build_world,
    local_db,
    new_order,
    sync_loop_survives_stop,
)

pytestmark = pytest.mark.pg

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


class PinnedClock:
    """A wall clock and a monotonic clock the test moves by hand (a suspend moves only the
    wall clock; setting the clock back moves the wall clock back and not the monotonic one)."""

    def __init__(self) -> None:
        self.wall = T0
        self.mono = 1000.0

    def now(self) -> dt.datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def run(self, seconds: float) -> None:  # time passes normally
        self.wall += dt.timedelta(seconds=seconds)
        self.mono += seconds

    def suspend(self, seconds: float) -> None:  # the laptop sleeps: the monotonic clock stands
        self.wall += dt.timedelta(seconds=seconds)

    def set_back(self, seconds: float) -> None:  # the user (or NTP) sets the clock back
        self.wall -= dt.timedelta(seconds=seconds)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_backoff_grows_is_capped_and_jitters_only_downwards():
    back = Backoff(10, 300, random.Random(5))
    assert [back.ceiling(n) for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    for n in range(1, 8):
        for _ in range(50):
            assert back.ceiling(n) / 2 <= back(n) <= back.ceiling(n)


def test_offline_backoff_then_online(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    clock = PinnedClock()
    dead = f"postgresql://x@127.0.0.1:{_dead_port()}/nothing"
    target = {"connect": lambda: psycopg.connect(dead, connect_timeout=2)}
    statuses: list[SyncStatus] = []
    sched = SyncScheduler(
        eng,
        lambda: target["connect"],
        interval_minutes=5,
        on_status=statuses.append,
        backoff_start_s=10,
        backoff_max_s=120,
        clock=clock.now,
        monotonic=clock.monotonic,
        rng=random.Random(1),
    )
    sched.start(first_run_in_s=0)
    assert sched.due()
    first = sched.run_once()
    assert first is not None and first.offline
    st = sched.status
    assert st.online is False and st.failures == 1 and "Offline" in st.text()
    # After the 1st failure: 5-10 s (not the 5-minute interval); then 10-20, 20-40, 40-80,
    # and from the 5th on the cap: 60-120 s.
    bounds = [(5, 10), (10, 20), (20, 40), (40, 80), (60, 120), (60, 120)]
    for n, (low, high) in enumerate(bounds, start=1):
        gap = (sched.status.next_run - clock.now()).total_seconds()
        assert low <= gap <= high, (n, gap)
        assert sched.status.failures == n
        clock.run(low - 1)
        assert not sched.due(), "ran before its backoff"
        clock.run(high - low + 1)
        assert sched.due()
        if n < len(bounds):
            sched.run_once()

    # The network comes back; a local order is waiting.
    target["connect"] = world.connector(world.agent_a)
    # A lookup index a bulk first sync deferred, whose build the app's closing cut short:
    from mangalm_desktop.sync.pull import missing_indexes

    with eng.begin() as c:
        c.exec_driver_sql("DROP INDEX ix_invoice_line_store_id_invoice_date")
    assert [ix.name for ix in missing_indexes(eng)] == ["ix_invoice_line_store_id_invoice_date"]
    assert sched.run_once().ok  # first pull brings the stores
    assert (sched.status.next_run - clock.now()) == dt.timedelta(minutes=5)  # the interval again
    assert missing_indexes(eng) == []  # built after the sync, with the status saying so
    preparing = [st for st in statuses if st.preparing]
    assert preparing and "preparing reports…" in preparing[0].text()
    assert not sched.status.preparing
    new_order(
        eng, store_id=world.stores_a[0], agent_id=world.agent_a.agent_id, products=world.products
    )
    sched.refresh_counts()
    assert sched.status.pending == 1 and "1 to send" in sched.status.text()
    report = sched.run_once()
    assert report.ok and report.pushed == 1
    st = sched.status
    assert st.online and st.failures == 0 and st.pending == 0 and st.last_success is not None
    assert st.text().startswith("Online · last sync")
    assert any(s.running for s in statuses) and not statuses[-1].running


def test_a_run_missed_in_a_suspend_or_a_clock_jump_runs_late_never_dropped(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    clock = PinnedClock()
    sched = SyncScheduler(
        eng,
        lambda: world.connector(world.agent_a),
        interval_minutes=5,
        clock=clock.now,
        monotonic=clock.monotonic,
    )
    sched.start(first_run_in_s=2)
    assert not sched.due()
    clock.run(2)
    assert sched.due() and sched.run_once().ok
    assert not sched.due()

    # The laptop sleeps for an hour: the wall clock moves on, the monotonic clock does not.
    clock.suspend(3600)
    assert sched.due(), "a run missed while asleep must run on waking"
    assert sched.run_once().ok
    assert not sched.due()  # one late run, then the interval again (missed runs coalesce)

    # The clock is set back two hours: the planned wall time is now far away, but the
    # interval still elapses on the monotonic clock.
    clock.set_back(7200)
    clock.run(299)
    assert not sched.due()
    clock.run(1)
    assert sched.due(), "setting the clock back must not hold sync back"
    assert sched.run_once().ok

    # "Sync now" is due at once, whatever the plan said.
    clock.run(10)
    assert not sched.due()
    sched.sync_now()
    assert sched.due()
    assert len(history(eng)) == 3


def test_standalone_without_server(tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    sched = SyncScheduler(eng, lambda: None)
    assert sched.run_once() is None
    assert sched.status.text() == "Standalone (no central server)"


def _save_agent_config(world, who, xdg: Path) -> None:
    parts = urlsplit(as_user(world.url, who.db_role))
    socket_dir = dict(parse_qsl(parts.query))["host"]
    save_config(
        CentralConfig(
            host=socket_dir, database=parts.path.lstrip("/"), user=who.db_role, sslmode="disable"
        )
    )


def test_cli_loop_keeps_syncing_after_the_process_was_stopped(pg_url, tmp_path, monkeypatch):
    """SIGSTOP for longer than several intervals, then SIGCONT: syncing goes on (the
    APScheduler job was dropped for good by a stop of more than a second)."""
    world = build_world(pg_url)
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    _save_agent_config(world, world.agent_a, xdg)
    db = tmp_path / "laptop.sqlite"
    local_db(db).dispose()  # a plain (unencrypted) replica, as the tests use
    sync_loop_survives_stop(db, xdg, stop_s=5, runs_first=2)
    assert all(entry["ok"] for entry in history(local_db(db)))
