"""Beats through the central PostgreSQL: a manager's beats reach their agent and nobody else;
an agent with psql can neither make a beat nor move a store between beats (issue 19 item 2).

Real PostgreSQL (``pg_url``), real sync between two laptops' SQLite databases, raw SQL as the
agent's own role for the attacks. Each attack test also shows what stays allowed.
"""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from sqlalchemy import select

from mangalm_desktop.beats import service
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Beat, BeatStore
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db

pytestmark = pytest.mark.pg

Refused = psycopg.errors.InsufficientPrivilege
MONDAY = dt.date(2026, 11, 2)


@pytest.fixture
def laptops(pg_migrated_url, tmp_path):
    world = build_world(pg_migrated_url, stores_per_agent=3, invoices_per_store=1, products=3)
    a_db, b_db, boss_db = (local_db(tmp_path / f"{n}.sqlite") for n in ("a", "b", "boss"))
    conns = {
        "a": world.connector(world.agent_a),
        "b": world.connector(world.agent_b),
        "boss": world.connector(world.manager),
    }
    for db, who in ((a_db, "a"), (b_db, "b"), (boss_db, "boss")):
        assert sync_once(db, conns[who]).ok
    boss = Identity(world.manager.code, Role.MANAGER, world.manager.agent_id, world.manager.code)
    return world, a_db, b_db, boss_db, conns, boss


def _code(world, store_id: uuid.UUID) -> str:
    with psycopg.connect(as_user(world.url, "postgres")) as c:
        return c.execute("SELECT code FROM store WHERE id = %s", (store_id,)).fetchone()[0]


def _local(engine) -> tuple[list[str], list[tuple[uuid.UUID, uuid.UUID | None, int, bool]]]:
    with session_scope(engine) as s:
        beats = sorted(b.name for b in s.scalars(select(Beat).where(Beat.deleted.is_(False))))
        members = [
            (m.store_id, m.beat_id, m.visit_order, m.deleted)
            for m in s.scalars(select(BeatStore).order_by(BeatStore.visit_order))
        ]
    return beats, members


def _agent_identity(who) -> Identity:
    return Identity(who.code, Role.AGENT, who.agent_id, who.code)


def _manager_sets_up(world, boss_db, boss) -> None:
    a, b = world.agent_a, world.agent_b
    service.create_beat(boss_db, boss, name="A Mon", agent=a.code, days="Mon,Thu")
    service.create_beat(boss_db, boss, name="B Mon", agent=b.code, days="Mon")
    stores_a = [_code(world, s) for s in world.stores_a]
    service.assign_stores(boss_db, boss, "A Mon", [stores_a[2], stores_a[0]])
    service.assign_stores(boss_db, boss, "B Mon", [_code(world, world.stores_b[0])])


def test_managers_beats_reach_their_agent_and_nobody_else(laptops, tmp_path):
    world, a_db, b_db, boss_db, conns, boss = laptops
    _manager_sets_up(world, boss_db, boss)
    report = sync_once(boss_db, conns["boss"])
    assert report.ok and report.pushed == 5 and report.parked == 0
    assert sync_once(a_db, conns["a"]).ok and sync_once(b_db, conns["b"]).ok

    beats, members = _local(a_db)
    assert beats == ["A Mon"]
    assert [(m[0], m[2]) for m in members] == [(world.stores_a[2], 1), (world.stores_a[0], 2)]
    today = service.todays_beat(a_db, _agent_identity(world.agent_a), MONDAY)
    assert [s.store_id for s in today.stops] == [world.stores_a[2], world.stores_a[0]]
    assert _local(b_db)[0] == ["B Mon"]
    assert [m[0] for m in _local(b_db)[1]] == [world.stores_b[0]]
    # a laptop's first sync (the bulk path) brings the same; a manager's brings every beat
    fresh_a, fresh_boss = (
        local_db(tmp_path / "fresh-a.sqlite"),
        local_db(tmp_path / "fresh-m.sqlite"),
    )
    assert sync_once(fresh_a, conns["a"]).ok and sync_once(fresh_boss, conns["boss"]).ok
    assert _local(fresh_a) == _local(a_db)
    assert _local(fresh_boss)[0] == ["A Mon", "B Mon"] and len(_local(fresh_boss)[1]) == 3

    # The manager reorders, renames and changes the days: the agent's next sync has it.
    stores_a = [_code(world, s) for s in world.stores_a]
    service.assign_stores(boss_db, boss, "A Mon", [stores_a[0], stores_a[1]], replace=True)
    service.update_beat(boss_db, boss, "A Mon", name="A Tue", days="Tue")
    assert sync_once(boss_db, conns["boss"]).ok
    assert sync_once(a_db, conns["a"]).ok
    beats, members = _local(a_db)
    assert beats == ["A Tue"]
    live = [(m[0], m[2]) for m in members if not m[3]]
    assert live == [(world.stores_a[0], 1), (world.stores_a[1], 2)]
    assert service.todays_beat(a_db, _agent_identity(world.agent_a), MONDAY).stops == []
    tuesday = service.todays_beat(a_db, _agent_identity(world.agent_a), MONDAY.replace(day=3))
    assert [s.store_id for s in tuesday.stops] == [world.stores_a[0], world.stores_a[1]]

    # Deleted: the agent's laptop loses it too (a tombstone reaches it).
    service.delete_beat(boss_db, boss, "A Tue")
    assert sync_once(boss_db, conns["boss"]).ok and sync_once(a_db, conns["a"]).ok
    beats, members = _local(a_db)
    assert beats == [] and all(m[3] for m in members)


def test_a_store_moved_to_another_agent_leaves_its_beat_on_every_laptop(laptops):
    world, a_db, b_db, boss_db, conns, boss = laptops
    _manager_sets_up(world, boss_db, boss)
    assert sync_once(boss_db, conns["boss"]).ok
    assert sync_once(a_db, conns["a"]).ok and sync_once(b_db, conns["b"]).ok
    moved = world.stores_a[2]
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as owner:
        owner.execute(
            "UPDATE store SET agent_id = %s WHERE id = %s", (world.agent_b.agent_id, moved)
        )
        row = owner.execute(
            "SELECT beat_id, deleted FROM beat_store WHERE store_id = %s", (moved,)
        ).fetchone()
    assert row == (None, True)  # a tombstone that points at no beat
    report_a, report_b = sync_once(a_db, conns["a"]), sync_once(b_db, conns["b"])
    assert report_a.ok and report_b.ok  # B's replica takes the row: no foreign key to A's beat
    assert [m[0] for m in _local(a_db)[1]] == [world.stores_a[0]]
    b_members = {m[0]: m for m in _local(b_db)[1]}
    assert b_members[moved][1:] == (None, 1, True)
    today = service.todays_beat(a_db, _agent_identity(world.agent_a), MONDAY)
    assert [s.store_id for s in today.stops] == [world.stores_a[0]]
    # Now B's; the manager puts it on B's beat, and B's Monday has it.
    assert sync_once(boss_db, conns["boss"]).ok
    service.assign_stores(boss_db, boss, "B Mon", [_code(world, moved)])
    assert sync_once(boss_db, conns["boss"]).ok and sync_once(b_db, conns["b"]).ok
    today = service.todays_beat(b_db, _agent_identity(world.agent_b), MONDAY)
    assert [s.store_id for s in today.stops] == [world.stores_b[0], moved]


@pytest.fixture
def central_beats(laptops):
    world, a_db, b_db, boss_db, conns, boss = laptops
    _manager_sets_up(world, boss_db, boss)
    assert sync_once(boss_db, conns["boss"]).ok
    with psycopg.connect(as_user(world.url, "postgres")) as c:
        ids = dict(c.execute("SELECT name, id FROM beat").fetchall())
    return world, ids


def test_agent_with_psql_cannot_make_change_or_delete_beats(central_beats):
    world, ids = central_beats
    a = world.agent_a
    with psycopg.connect(world.url_for(a), autocommit=True) as conn:
        # what stays allowed: reading its own beat and its stores
        assert conn.execute("SELECT name FROM beat").fetchall() == [("A Mon",)]
        assert {r[0] for r in conn.execute("SELECT store_id FROM beat_store")} == {
            world.stores_a[2],
            world.stores_a[0],
        }
        attacks = [
            (
                "INSERT INTO beat (id, name, agent_id, visit_days, created_at, updated_at) "
                "VALUES (%s, 'Mine', %s, 127, now(), now())",
                (uuid.uuid4(), a.agent_id),
            ),
            ("UPDATE beat SET visit_days = 0 WHERE id = %s", (ids["A Mon"],)),
            ("UPDATE beat SET deleted = true WHERE id = %s", (ids["A Mon"],)),
            ("DELETE FROM beat WHERE id = %s", (ids["A Mon"],)),
            ("UPDATE beat_store SET visit_order = 9 WHERE store_id = %s", (world.stores_a[0],)),
            ("DELETE FROM beat_store WHERE store_id = %s", (world.stores_a[0],)),
            (
                # its own third store onto its own beat
                "INSERT INTO beat_store (id, store_id, beat_id, visit_order, updated_at) "
                "VALUES (%s, %s, %s, 3, now())",
                (uuid.uuid4(), world.stores_a[1], ids["A Mon"]),
            ),
            ("LOCK TABLE beat IN ROW EXCLUSIVE MODE", ()),
            ("LOCK TABLE beat_store IN SHARE MODE", ()),
        ]
        for sql, params in attacks:
            with pytest.raises(Refused), conn.transaction():
                conn.execute(sql, params)
        # another agent's beat and memberships are invisible, not merely read-only
        assert conn.execute(
            "SELECT count(*) FROM beat WHERE id = %s", (ids["B Mon"],)
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM beat_store WHERE store_id = %s", (world.stores_b[0],)
        ).fetchone() == (0,)
    with psycopg.connect(as_user(world.url, "postgres")) as c:
        rows = c.execute(
            "SELECT b.name, b.visit_days, b.deleted, count(m.id) FROM beat b "
            "LEFT JOIN beat_store m ON m.beat_id = b.id AND NOT m.deleted "
            "GROUP BY b.name, b.visit_days, b.deleted ORDER BY b.name"
        ).fetchall()
    assert rows == [("A Mon", 1 | 8, False, 2), ("B Mon", 1, False, 1)]


def test_central_keeps_beats_consistent_even_for_managers(central_beats):
    world, ids = central_beats
    with psycopg.connect(world.url_for(world.manager), autocommit=True) as conn:
        # another agent's store onto A's beat, and a beat handed to another agent: refused
        with pytest.raises(Refused, match="live beat of its own agent"):
            conn.execute(
                "UPDATE beat_store SET beat_id = %s WHERE store_id = %s",
                (ids["A Mon"], world.stores_b[0]),
            )
        with pytest.raises(Refused, match="agent cannot change"):
            conn.execute(
                "UPDATE beat SET agent_id = %s WHERE id = %s",
                (world.agent_b.agent_id, ids["A Mon"]),
            )
        # what managers may do: reorder, rename, move a store within its agent's beats
        conn.execute("UPDATE beat SET name = 'A Monday' WHERE id = %s", (ids["A Mon"],))
        conn.execute(
            "INSERT INTO beat_store (id, store_id, beat_id, visit_order, updated_at) "
            "VALUES (%s, %s, %s, 3, now())",
            (uuid.uuid4(), world.stores_a[1], ids["A Mon"]),
        )
    with psycopg.connect(as_user(world.url, "postgres")) as c:
        rows = c.execute(
            "SELECT b.name, b.agent_id, m.store_id, m.visit_order FROM beat_store m "
            "JOIN beat b ON b.id = m.beat_id WHERE NOT m.deleted ORDER BY b.name, m.visit_order"
        ).fetchall()
    a, b = world.agent_a.agent_id, world.agent_b.agent_id
    assert rows == [
        ("A Monday", a, world.stores_a[2], 1),
        ("A Monday", a, world.stores_a[0], 2),
        ("A Monday", a, world.stores_a[1], 3),
        ("B Mon", b, world.stores_b[0], 1),
    ]
