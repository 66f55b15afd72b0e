"""Fault injection on a real PostgreSQL: kill the client, cut its connection, run many at once.

Trial counts come from ``MANGALM_TRIALS`` (default: the issue's full count, 100); every trial
must keep the invariant: each submitted order exists centrally exactly once (version 1: applied
once) with all its lines, and the outbox is empty after the retry.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import make_engine, session_scope, sqlite_url
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Order, Outbox, Store
from mangalm_desktop.sync.conflicts import list_conflicts, resolve
from mangalm_desktop.sync.push import push
from mangalm_desktop.sync.service import sync_once
from tests.integration.cutting_proxy import pg_proxy
from tests.integration.sync_support import (
    as_user,
    assert_same_as_central,
    build_world,
    central_rows,
    edit_order,
    local_db,
    local_rows,
    new_order,
    normalise,
    with_host,
)

pytestmark = [pytest.mark.pg, pytest.mark.slow]

TRIALS = int(os.environ.get("MANGALM_TRIALS", "100"))
# Children come from a fork server started clean (no Qt or scheduler threads of earlier tests
# are ever forked) with the heavy modules preloaded, so a child starts in milliseconds.
FORK = multiprocessing.get_context("forkserver")
FORK.set_forkserver_preload(["tests.integration.sync_support", "mangalm_desktop.sync.service"])


@pytest.fixture
def world(pg_migrated_url):
    return build_world(pg_migrated_url, products=12)


def _make_orders(world, eng, rnd, n=2) -> dict[uuid.UUID, int]:
    made = {}
    for _ in range(n):
        lines = rnd.randint(1, 8)
        oid = new_order(
            eng,
            store_id=rnd.choice(world.stores_a),
            agent_id=world.agent_a.agent_id,
            products=world.products,
            lines=lines,
        )
        made[oid] = lines
    return made


def _assert_exactly_once(world, eng, expected: dict[uuid.UUID, int]) -> None:
    ids = list(expected)
    with psycopg.connect(as_user(world.url, "postgres")) as c:
        orders = dict(
            c.execute("SELECT id, version FROM orders WHERE id = ANY(%s)", (ids,)).fetchall()
        )
        assert set(orders) == set(ids), "an order is missing centrally"
        assert set(orders.values()) == {1}, "an order was applied more than once"
        lines = dict(
            c.execute(
                "SELECT order_id, count(*) FROM order_line WHERE order_id = ANY(%s) "
                "AND NOT deleted AND version = 1 GROUP BY order_id",
                (ids,),
            ).fetchall()
        )
        assert lines == expected, "lines missing or applied twice"
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0


def _child_push(db: str, url: str, ready) -> None:
    engine = make_engine(sqlite_url(db))  # already migrated by the parent
    with psycopg.connect(url) as pg:
        ready.set()  # opened and connected: the push itself starts now
        push(engine, pg, batch_size=1)
    os._exit(0)


def _start_child(db, url):
    ready = FORK.Event()
    p = FORK.Process(target=_child_push, args=(str(db), url, ready))
    p.start()
    assert ready.wait(60), "the client process did not start"
    return p


def test_sigkill_during_push_loses_and_duplicates_nothing(world, tmp_path):
    db = tmp_path / "a.sqlite"
    eng = local_db(db)
    url = world.url_for(world.agent_a)
    assert sync_once(eng, world.connector(world.agent_a)).ok
    rnd = random.Random(1234)
    all_orders: dict[uuid.UUID, int] = {}
    # Calibrate: how long does an unkilled push of one trial's orders take?
    made = _make_orders(world, eng, rnd)
    p = _start_child(db, url)
    t0 = time.monotonic()
    p.join()
    span = (time.monotonic() - t0) * 1.2
    _assert_exactly_once(world, eng, made)
    all_orders.update(made)
    killed_mid_push = 0
    for _ in range(TRIALS):
        made = _make_orders(world, eng, rnd)
        p = _start_child(db, url)
        time.sleep(rnd.uniform(0, span))
        p.kill()  # SIGKILL
        p.join()
        if p.exitcode == -signal.SIGKILL:
            with session_scope(eng) as s:
                left = s.scalar(select(func.count()).select_from(Outbox))
            killed_mid_push += left > 0
        # The app restarts and pushes again.
        with psycopg.connect(url) as pg:
            push(eng, pg)
        _assert_exactly_once(world, eng, made)
        all_orders.update(made)
    _assert_exactly_once(world, eng, all_orders)
    # The kills really landed during pushes, not only after them.
    assert killed_mid_push >= TRIALS // 4, killed_mid_push


@pytest.fixture
def proxy(pg_server, world):
    px = pg_proxy(pg_server)
    yield px
    px.close()


def test_cut_connections_lose_and_duplicate_nothing(world, tmp_path, proxy):
    eng = local_db(tmp_path / "a.sqlite")
    url = with_host(world.url_for(world.agent_a), "127.0.0.1", proxy.port)
    assert sync_once(eng, lambda: psycopg.connect(url, connect_timeout=5)).ok
    rnd = random.Random(99)
    modes = ["time", "bytes", "commit"]
    all_orders: dict[uuid.UUID, int] = {}
    failures = 0
    for trial in range(TRIALS):
        made = _make_orders(world, eng, rnd)
        mode = modes[trial % 3]
        if mode == "time":
            proxy.plan = lambda: ("time", rnd.uniform(0.0, 0.03))
        elif mode == "bytes":
            proxy.plan = lambda: ("bytes", rnd.randint(1, 3000))
        else:
            proxy.plan = lambda: ("commit",)
        for attempt in range(10):
            if attempt >= 2:
                proxy.plan = None  # the network comes back
            try:
                with psycopg.connect(url, connect_timeout=5) as pg:
                    push(eng, pg, batch_size=1, check_schema=attempt % 2 == 0)
                break
            except psycopg.OperationalError:
                failures += 1
        _assert_exactly_once(world, eng, made)
        all_orders.update(made)
    _assert_exactly_once(world, eng, all_orders)
    assert proxy.cuts >= TRIALS // 2 and failures >= TRIALS // 2, (proxy.cuts, failures)


def test_late_commit_is_still_pulled_through_proxy_cuts(world, tmp_path, proxy):
    """Pull under cuts: an interrupted pull never advances a cursor past unapplied rows."""
    eng = local_db(tmp_path / "a.sqlite")
    url = with_host(world.url_for(world.agent_a), "127.0.0.1", proxy.port)
    rnd = random.Random(5)
    trials = max(3, TRIALS // 10)
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as owner:
        for trial in range(trials):
            owner.execute(
                "UPDATE store SET notes = %s WHERE id = %s",
                (f"n{trial}", rnd.choice(world.stores_a)),
            )
            proxy.plan = lambda: ("bytes", rnd.randint(200, 6000))
            for attempt in range(6):
                if attempt >= 2:
                    proxy.plan = None
                report = sync_once(eng, lambda: psycopg.connect(url, connect_timeout=5))
                if report.ok:
                    break
                assert report.offline, report.error
    assert_same_as_central(world, eng, world.agent_a)


# ---- 8 clients and a manager at once ---------------------------------------------------------


def _client(world, index: int, db: str, rounds: int, seed: int) -> None:
    rnd = random.Random(seed)
    agent = world.agents[index]
    eng = open_local_database(Path(db))
    conn = world.connector(agent)
    sync_once(eng, conn)
    mine: list[uuid.UUID] = []
    for _ in range(rounds):
        with session_scope(eng) as s:
            stores = list(s.scalars(select(Store.id).where(Store.agent_id == agent.agent_id)))
            live = list(s.scalars(select(Order.id).where(Order.id.in_(mine))))
        if stores:
            mine.append(
                new_order(
                    eng,
                    store_id=rnd.choice(stores),
                    agent_id=agent.agent_id,
                    products=world.products,
                    lines=rnd.randint(1, 5),
                )
            )
        if live and rnd.random() < 0.5:
            edit_order(eng, rnd.choice(live), f"edit {rnd.random():.4f}")
        sync_once(eng, conn)
        time.sleep(rnd.uniform(0, 0.05))
    os._exit(0)


def _manager(world, rounds: int, seed: int) -> None:
    rnd = random.Random(seed)
    every_store = [s for stores in world.stores.values() for s in stores]
    with psycopg.connect(world.url_for(world.manager), autocommit=True) as m:
        for i in range(rounds):
            r = rnd.random()
            if r < 0.4:
                m.execute(
                    "UPDATE store SET notes = %s WHERE id = %s", (f"m{i}", rnd.choice(every_store))
                )
            elif r < 0.8:
                m.execute(
                    "UPDATE orders SET notes = %s WHERE id = (SELECT id FROM orders "
                    "ORDER BY random() LIMIT 1)",
                    (f"manager {i}",),
                )
            else:
                m.execute(
                    "UPDATE store SET agent_id = %s WHERE id = %s",
                    (rnd.choice(world.agents).agent_id, rnd.choice(every_store)),
                )
            time.sleep(rnd.uniform(0, 0.08))
    os._exit(0)


def test_eight_clients_and_a_manager_converge_row_by_row(pg_url, tmp_path):
    world = build_world(pg_url, agents=8, stores_per_agent=3, products=10)
    rounds = int(os.environ.get("MANGALM_CLIENT_ROUNDS", "6"))
    dbs = [str(tmp_path / f"c{i}.sqlite") for i in range(8)]
    procs = [
        FORK.Process(target=_client, args=(world, i, dbs[i], rounds, 100 + i)) for i in range(8)
    ]
    procs.append(FORK.Process(target=_manager, args=(world, rounds * 4, 7)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0, f"process {p.name} ended with {p.exitcode}"
    # Quiescence: every client settles its conflicts (takes the central version) and syncs.
    total_orders = 0
    for i, agent in enumerate(world.agents):
        eng = open_local_database(Path(dbs[i]))
        conn = world.connector(agent)
        for _ in range(5):
            with conn() as pg:
                for item in list_conflicts(eng):
                    resolve(eng, pg, item.seq, "theirs")
            report = sync_once(eng, conn)
            assert report.ok, report.error
            if not list_conflicts(eng):
                break
        assert list_conflicts(eng) == []
        local = normalise(local_rows(eng))
        assert local == normalise(central_rows(world.url, agent.db_role)), agent.code
        total_orders += len(local["orders"])
        eng.dispose()
    assert total_orders > 8 * rounds // 2  # the run really pushed orders
