"""SIGKILL the bridge at random moments while it pushes orders: no duplicate, no missing order.

Each trial adds a few 'synced' orders, lets a separate bridge process push them and kills it
with SIGKILL after a random delay inside the time an uninterrupted push takes; then a normal
run finishes the job. After every trial each order must exist exactly once in Zoho (counted
by the server per reference) and be 'sent_to_zoho' with that sales order's id. Trials:
MANGALM_TRIALS (default 50).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order
from mangalm_desktop.db.types import utcnow
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho import state as zoho_state
from mangalm_desktop.zoho.clock import ManualClock
from mangalm_desktop.zoho.errors import BridgeBusy
from tests.conftest import REPO_ROOT
from tests.zoho_server import ZohoServer
from tests.zoho_server.support import (
    ScaledClock,
    central_engine,
    connect,
    make_orders,
    seed_zoho,
)

pytestmark = [
    pytest.mark.pg,
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() and SIGKILL (POSIX)"),
]

TRIALS = int(os.environ.get("MANGALM_TRIALS", "50"))
ORDERS_PER_TRIAL = 4


class Zygote:
    """The forking worker process (tests/zoho_server/push_worker.py)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.zoho_server.push_worker"],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def go(self, settings: dict) -> int:
        """Fork a bridge; return its pid once it has started pushing."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("go " + json.dumps(settings) + "\n")
        self.proc.stdin.flush()
        word, _, pid = self._line().partition(" ")
        assert word == "started", (word, pid)
        return int(pid)

    def wait_exit(self) -> list[str]:
        """Lines until the child's exit line (``done`` if it finished)."""
        lines = []
        while not (line := self._line()).startswith("exit "):
            assert line, "zygote died"
            lines.append(line)
        return lines

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _recover(engine, client) -> None:
    for _ in range(100):  # the killed session's lock goes when PostgreSQL notices the death
        try:
            report = bridge.run_once(engine, client, ["orders"])
            assert report.stopped is None and report.results[0].error is None, report.as_dict()
            return
        except BridgeBusy:
            time.sleep(0.05)
    raise AssertionError("the killed bridge's advisory lock was never released")


def _check(engine, server: ZohoServer, numbers: list[str]) -> None:
    counts = server.by_reference()
    dupes = {n: c for n, c in counts.items() if c > 1}
    missing = [n for n in numbers if counts[n] == 0]
    assert not dupes and not missing, (dupes, missing)
    by_ref = {so["reference_number"]: so["salesorder_id"] for so in server.salesorders}
    with session_scope(engine) as s:
        rows = s.execute(select(Order.number, Order.state, Order.zoho_salesorder_id)).all()
    assert len(rows) == len(numbers)
    for number, state, so_id in rows:
        assert state == "sent_to_zoho" and so_id == by_ref[number], number


def _check_budget(engine, server: ZohoServer, kills: int) -> None:
    """The day's count covers every API request Zoho saw, killed runs included: a slot is
    counted before its request is sent, so the count may be one over per kill, never under."""
    served = len(server.api_log("/books/")) + len(server.api_log("/crm/"))
    with session_scope(engine) as s:
        counted = zoho_state.budget_used(s, utcnow().date())
    assert served <= counted <= served + kills, (served, counted, kills)


def test_sigkill_leaves_the_daily_budget_right(pg_url):
    """A few kills, quickly (the long trial below checks the same after each of its kills)."""
    rng = random.Random(3)
    engine = central_engine(pg_url)
    with ZohoServer(latency=0.005, per_minute=1_000_000) as server:
        seed_zoho(server, stores=2, items=3, invoices=0)
        client = connect(server, ManualClock())
        bridge.run_once(engine, client, ["accounts", "contacts", "items"])
        zygote = Zygote()
        for kills in range(1, 5):
            make_orders(engine, ORDERS_PER_TRIAL)
            base = len(server.log)
            pid = zygote.go(_settings(pg_url, server))
            while len(server.log) < base + rng.randint(2, 6):
                time.sleep(0.0005)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            zygote.wait_exit()
            _check_budget(engine, server, kills)
            _recover(engine, client)
            _check_budget(engine, server, kills)
        zygote.close()
    engine.dispose()


def _settings(pg_url: str, server: ZohoServer) -> dict:
    return {
        "pg_url": pg_url,
        "server_url": server.url,
        "org_id": server.org_id,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "refresh_token": server.new_refresh_token(),
    }


def test_sigkill_during_push_never_duplicates_or_loses_orders(pg_url):
    rng = random.Random(int(os.environ.get("MANGALM_SEED", "8")))
    engine = central_engine(pg_url)
    with ZohoServer(latency=0.005, per_minute=1_000_000) as server:
        seed_zoho(server, stores=3, items=5, invoices=0)
        client = connect(server, ManualClock())
        bridge.run_once(engine, client, ["accounts", "contacts", "items"])

        def settings() -> dict:
            return _settings(pg_url, server)

        zygote = Zygote()
        numbers: list[str] = []
        # One uninterrupted push: how many requests a push of this size makes.
        numbers += make_orders(engine, ORDERS_PER_TRIAL)
        base = len(server.log)
        zygote.go(settings())
        assert zygote.wait_exit()[0].startswith("done")
        per_push = len(server.log) - base  # token + lookup and create per order
        _check(engine, server, numbers)

        interrupted = lost_responses = 0
        for _trial in range(TRIALS):
            batch = make_orders(engine, ORDERS_PER_TRIAL)
            numbers += batch
            # Kill after a random number of Zoho answers plus a random few milliseconds, so
            # kills land before, inside and just after requests and database commits.
            after = rng.randint(0, per_push)
            base = len(server.log)
            pid = zygote.go(settings())
            deadline = time.monotonic() + 10
            while len(server.log) < base + after and time.monotonic() < deadline:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0.0, 0.015))
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(pid, signal.SIGKILL)
            zygote.wait_exit()
            _check_budget(engine, server, _trial + 1)
            with session_scope(engine) as s:
                states = dict(
                    s.execute(
                        select(Order.number, Order.state).where(Order.number.in_(batch))
                    ).all()
                )
            counts = server.by_reference()
            if any(st == "synced" for st in states.values()):
                interrupted += 1
            lost_responses += sum(1 for n in batch if states[n] == "synced" and counts[n] == 1)
            _recover(engine, client)
            _check(engine, server, numbers)
        zygote.close()
    engine.dispose()
    print(
        f"\n{TRIALS} kills: {interrupted} mid-push, {lost_responses} orders created in Zoho "
        f"whose answer died with the process ({per_push} requests per push)"
    )
    assert interrupted >= max(1, TRIALS // 2)  # the kills did land mid-push


def test_two_processes_in_one_minute_stay_under_the_limit_together(pg_url):
    """Two bridge processes, one after the other in the same minute, on a clock shared with the
    server (30x real time): together they stay within Zoho's limit (10 a minute here) on the
    server's arrival times. The bridges keep to 9, the margin the default 90 keeps under 100:
    a slot is stamped just before sending, and the network's jitter (30x here) moves the
    arrival a little."""
    engine = central_engine(pg_url)
    scaled = ScaledClock(time.time(), 30.0)
    with ZohoServer(clock=scaled.now, per_minute=1_000_000) as server:
        seed_zoho(server, stores=2, items=3, invoices=0)
        bridge.run_once(engine, connect(server, ManualClock()), ["accounts", "contacts", "items"])
        zygote = Zygote()
        start = len(server.log)
        sent = []
        for _ in range(2):
            make_orders(engine, 6)
            zygote.go(
                {**_settings(pg_url, server), "per_minute": 9, "scaled": [scaled.origin, 30.0]}
            )
            lines = zygote.wait_exit()
            assert lines[0].startswith("done"), lines
            sent.append(int(lines[0].split()[1]))
        zygote.close()
        arrivals = sorted(e.at for e in server.log[start:] if e.path.startswith("/books/"))
    engine.dispose()
    assert sent == [12, 12] and len(arrivals) == 24
    busiest = max(sum(1 for t in arrivals if a <= t < a + 60.0) for a in arrivals)
    assert busiest <= 10, busiest
