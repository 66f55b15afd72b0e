"""The background scheduler: offline detection, backoff, back online, "Sync now", status text."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import psycopg
import pytest

from mangalm_desktop.sync.scheduler import SyncScheduler, SyncStatus
from tests.integration.sync_support import build_world, local_db, new_order

pytestmark = pytest.mark.pg


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_offline_backoff_then_online(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    dead = f"postgresql://x@127.0.0.1:{_dead_port()}/nothing"
    target = {"connect": lambda: psycopg.connect(dead, connect_timeout=2)}
    statuses: list[SyncStatus] = []
    sched = SyncScheduler(
        eng,
        lambda: target["connect"],
        interval_minutes=5,
        on_status=statuses.append,
        backoff_start_s=10,
        backoff_max_s=300,
    )
    first = sched.run_once()
    assert first is not None and first.offline
    st = sched.status
    assert st.online is False and st.failures == 1 and "Offline" in st.text()
    gap1 = st.next_run - dt.datetime.now(dt.UTC)
    assert dt.timedelta(0) <= gap1 <= dt.timedelta(seconds=300)
    for _ in range(5):
        sched.run_once()
    assert sched.status.failures == 6
    assert sched.status.next_run - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=300)

    # The network comes back; a local order is waiting.
    target["connect"] = world.connector(world.agent_a)
    # A lookup index a bulk first sync deferred, whose build the app's closing cut short:
    from mangalm_desktop.sync.pull import missing_indexes

    with eng.begin() as c:
        c.exec_driver_sql("DROP INDEX ix_invoice_line_store_id_invoice_date")
    assert [ix.name for ix in missing_indexes(eng)] == ["ix_invoice_line_store_id_invoice_date"]
    assert sched.run_once().ok  # first pull brings the stores
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


def test_sync_now_runs_in_the_background(pg_url, tmp_path):
    world = build_world(pg_url)
    eng = local_db(tmp_path / "a.sqlite")
    done = threading.Event()
    reports = []

    def on_report(r):
        reports.append(r)
        done.set()

    sched = SyncScheduler(
        eng, lambda: world.connector(world.agent_a), interval_minutes=60, on_report=on_report
    )
    sched.start(first_run_in_s=3600)
    try:
        sched.sync_now()
        assert done.wait(60), "Sync now did not run"
        assert reports[0].ok and reports[0].pulled > 0
        assert sched.status.next_run > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)
    finally:
        sched.shutdown()


def test_standalone_without_server(tmp_path):
    eng = local_db(tmp_path / "a.sqlite")
    sched = SyncScheduler(eng, lambda: None)
    assert sched.run_once() is None
    assert sched.status.text() == "Standalone (no central server)"
