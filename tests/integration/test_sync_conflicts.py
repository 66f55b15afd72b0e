"""Conflicts as a person meets them: an order amended on two devices, shown with its lines and
settled either way by the CLI (never a traceback), and edits of one row by two people merged
field by field against the version both started from."""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import OrderLine, Outbox, Product, Store
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.sync.conflicts import list_conflicts, resolve
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.sync.state import history
from tests.integration.sync_support import (
    as_user,
    build_world,
    central_query,
    edit_store_profile,
    local_db,
    local_skus,
)

pytestmark = pytest.mark.pg


def _central(world, sql: str, *args):
    return central_query(world.url, sql, *args)


def _live_lines(eng, order_id) -> list[tuple[str, int]]:
    with session_scope(eng) as s:
        rows = s.execute(
            select(Product.sku, OrderLine.quantity)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order_id, OrderLine.deleted.is_(False))
            .order_by(Product.sku)
        ).all()
    return [tuple(r) for r in rows]


def _central_lines(world, order_id) -> list[tuple[str, int]]:
    return [
        tuple(r)
        for r in _central(
            world,
            "SELECT p.sku, l.quantity FROM order_line l JOIN product p ON p.id = l.product_id "
            "WHERE l.order_id = %s AND NOT l.deleted ORDER BY p.sku",
            order_id,
        )
    ]


@pytest.fixture
def two_laptops(pg_migrated_url, tmp_path, monkeypatch):
    """Agent A's two laptops, both synced, sharing one synced order of three lines."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    world = build_world(pg_migrated_url)
    one, two = local_db(tmp_path / "one.sqlite"), local_db(tmp_path / "two.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(one, conn).ok and sync_once(two, conn).ok
    sku = local_skus(one)
    draft = OrderDraft(
        store=world.stores_a[0],
        agent_id=world.agent_a.agent_id,
        lines=[LineInput(sku[0], 6), LineInput(sku[1], 12), LineInput(sku[2], 6)],
    )
    order = service.submit(one, draft, identity=None)
    assert sync_once(one, conn).ok and sync_once(two, conn).ok
    return world, one, two, conn, sku, order.order_id


def _amend(eng, world, order_id, *lines):
    draft = OrderDraft(store=world.stores_a[0], agent_id=world.agent_a.agent_id, lines=list(lines))
    return service.amend(eng, order_id, draft, identity=None)


def test_order_amended_on_two_devices_is_a_conflict_with_lines_never_a_crash(two_laptops):
    world, one, two, conn, sku, oid = two_laptops
    # Laptop two adds product 4; laptop one, offline, adds product 5 instead (both as line 4).
    _amend(two, world, oid, LineInput(sku[0], 6), LineInput(sku[1], 12), LineInput(sku[3], 24))
    assert sync_once(two, conn).ok
    _amend(one, world, oid, LineInput(sku[0], 6), LineInput(sku[1], 12), LineInput(sku[4], 36))
    for _ in range(2):  # every later run too: no crash, the conflict stays parked
        report = sync_once(one, conn)
        assert report.ok, report.error
        assert report.parked <= 1
    [item] = list_conflicts(one)
    assert item.kind == "version" and item.can_keep_mine
    mine = {(x.product, x.mine_qty, x.theirs_qty) for x in item.line_differences()}
    assert (sku[3], None, 24) in mine and (sku[4], 36, None) in mine
    assert (sku[2], None, None) not in mine  # removed on both: not a difference
    # The local order is still the agent's own version until they choose.
    assert _live_lines(one, oid) == [(sku[0], 6), (sku[1], 12), (sku[4], 36)]

    with psycopg.connect(as_user(world.url, world.agent_a.db_role)) as pg:
        resolve(one, pg, item.seq, "mine")
    report = sync_once(one, conn)
    assert report.ok and report.pushed == 1 and report.parked == 0
    assert _central_lines(world, oid) == [(sku[0], 6), (sku[1], 12), (sku[4], 36)]
    assert _live_lines(one, oid) == [(sku[0], 6), (sku[1], 12), (sku[4], 36)]
    # The other laptop receives the result: its own line 4 is replaced without a clash.
    report = sync_once(two, conn)
    assert report.ok, report.error
    assert _live_lines(two, oid) == [(sku[0], 6), (sku[1], 12), (sku[4], 36)]


def test_cli_shows_order_lines_keeps_mine_and_lists_failed_runs(two_laptops, capsys, monkeypatch):
    world, one, two, conn, sku, oid = two_laptops
    _amend(two, world, oid, LineInput(sku[0], 6), LineInput(sku[3], 24))
    assert sync_once(two, conn).ok
    _amend(one, world, oid, LineInput(sku[0], 6), LineInput(sku[4], 36))
    from urllib.parse import parse_qsl, urlsplit

    from mangalm_desktop.sync.connection import CentralConfig, save_config

    parts = urlsplit(as_user(world.url, world.agent_a.db_role))
    save_config(
        CentralConfig(
            host=dict(parse_qsl(parts.query))["host"],
            database=parts.path.lstrip("/"),
            user=world.agent_a.db_role,
            sslmode="disable",
        )
    )
    db = str(one.url.database)
    assert main(["sync", "run", "--db", db, "-q"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("MANGALM_PASSWORD", world.agent_a.password)  # `sync conflicts` signs in
    assert main(["sync", "conflicts", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "lines:" in out
    assert f"{sku[3]}: yours=- central=24" in out and f"{sku[4]}: yours=36 central=-" in out
    seq = list_conflicts(one)[0].seq
    assert main(["sync", "resolve", str(seq), "--keep", "mine", "--db", db]) == 0
    assert main(["sync", "run", "--db", db, "-q"]) == 0
    assert _central_lines(world, oid) == [(sku[0], 6), (sku[4], 36)]

    # A failed run (here: the laptop's database refuses the write) is in `sync status`.
    with one.begin() as c:
        c.exec_driver_sql(
            "CREATE TRIGGER no_history BEFORE UPDATE ON sync_state WHEN NEW.key LIKE 'pull:%' "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    _central(world, "UPDATE store SET notes = 'x' WHERE id = %s", world.stores_a[0])
    assert main(["sync", "run", "--db", db, "-q"]) != 0
    err = capsys.readouterr().err
    assert "disk says no" in err and "Traceback" not in err
    assert not history(one)[-1]["ok"]
    assert main(["sync", "status", "--db", db]) == 0
    assert "ERR" in capsys.readouterr().out


def _store(eng, store_id) -> Store:
    with session_scope(eng) as s:
        st = s.get(Store, store_id)
        s.expunge(st)
        return st


@pytest.fixture
def agent_and_manager(pg_migrated_url, tmp_path):
    world = build_world(pg_migrated_url)
    agent, boss = local_db(tmp_path / "agent.sqlite"), local_db(tmp_path / "boss.sqlite")
    a_conn, m_conn = world.connector(world.agent_a), world.connector(world.manager)
    assert sync_once(agent, a_conn).ok and sync_once(boss, m_conn).ok
    return world, agent, boss, a_conn, m_conn, world.stores_a[0]


def test_agents_phone_edit_and_managers_credit_limit_edit_both_stay(agent_and_manager):
    world, agent, boss, a_conn, m_conn, store = agent_and_manager
    edit_store_profile(agent, store, phone="+91 98200 11111")  # offline
    edit_store_profile(boss, store, credit_limit="75000")
    assert sync_once(boss, m_conn).ok
    report = sync_once(agent, a_conn)
    assert report.ok and report.parked == 0 and report.pushed == 1
    [(phone, limit)] = _central(world, "SELECT phone, credit_limit FROM store WHERE id = %s", store)
    assert (phone, limit) == ("+91 98200 11111", Decimal("75000.00"))
    st = _store(agent, store)
    assert (st.phone, st.credit_limit) == ("+91 98200 11111", Decimal("75000.00"))
    assert sync_once(boss, m_conn).ok
    assert _store(boss, store).phone == "+91 98200 11111"


def test_only_fields_changed_on_both_sides_are_parked_and_either_choice_keeps_the_rest(
    agent_and_manager,
):
    world, agent, boss, a_conn, m_conn, store = agent_and_manager
    edit_store_profile(agent, store, phone="+91 98200 22222", email="asha@example.com")
    edit_store_profile(boss, store, phone="+91 98200 33333", credit_limit="60000")
    assert sync_once(boss, m_conn).ok
    report = sync_once(agent, a_conn)
    assert report.ok and report.parked == 1
    [item] = list_conflicts(agent)
    assert item.differences() == [("phone", "+91 98200 22222", "+91 98200 33333")]
    assert "phone was changed centrally too" in item.message

    # "Take central" for the phone: the agent's e-mail still goes out, the limit stays.
    with psycopg.connect(as_user(world.url, world.agent_a.db_role)) as pg:
        resolve(agent, pg, item.seq, "theirs")
    st = _store(agent, store)
    assert (st.phone, st.email) == ("+91 98200 33333", "asha@example.com")
    report = sync_once(agent, a_conn)
    assert report.ok and report.pushed == 1 and report.parked == 0
    [row] = _central(world, "SELECT phone, email, credit_limit FROM store WHERE id = %s", store)
    assert row == ("+91 98200 33333", "asha@example.com", Decimal("60000.00"))

    # Again, now "keep mine": the agent's phone wins, the manager's new limit stays.
    assert sync_once(boss, m_conn).ok
    edit_store_profile(agent, store, phone="+91 98200 44444")
    edit_store_profile(boss, store, phone="+91 98200 55555", credit_limit="65000")
    assert sync_once(boss, m_conn).ok
    assert sync_once(agent, a_conn).parked == 1
    [item] = list_conflicts(agent)
    with psycopg.connect(as_user(world.url, world.agent_a.db_role)) as pg:
        resolve(agent, pg, item.seq, "mine")
    assert sync_once(agent, a_conn).pushed == 1
    [row] = _central(world, "SELECT phone, email, credit_limit FROM store WHERE id = %s", store)
    assert row == ("+91 98200 44444", "asha@example.com", Decimal("65000.00"))
    st = _store(agent, store)
    assert (st.phone, st.credit_limit) == ("+91 98200 44444", Decimal("65000.00"))
    with session_scope(agent) as s:
        assert s.scalars(select(Outbox)).all() == []


def test_pull_settles_a_line_number_central_gave_to_another_line(two_laptops):
    """Central moved line 2 to number 9 and put a new line (ordered first by id) at number 2:
    the laptop receives both without a clash on (order, line number)."""
    world, one, two, conn, sku, oid = two_laptops
    [(old_id,)] = _central(
        world, "SELECT id FROM order_line WHERE order_id = %s AND line_no = 2", oid
    )
    [(product,)] = _central(world, "SELECT id FROM product WHERE sku = %s", sku[5])
    first = uuid.UUID(int=1)  # sorts before every random id: pulled before the moved line
    _central(world, "UPDATE order_line SET line_no = 9 WHERE id = %s", old_id)
    _central(
        world,
        "INSERT INTO order_line (id, order_id, line_no, store_id, product_id, quantity, "
        "unit_price, discount_pct, line_total) SELECT %s, order_id, 2, store_id, %s, 7, "
        "unit_price, 0, unit_price * 7 FROM order_line WHERE id = %s",
        first,
        product,
        old_id,
    )
    report = sync_once(two, conn)
    assert report.ok, report.error
    assert (sku[5], 7) in _live_lines(two, oid)
    with session_scope(two) as s:
        numbers = dict(
            s.execute(
                select(OrderLine.id, OrderLine.line_no).where(OrderLine.order_id == oid)
            ).all()
        )
    assert numbers[first] == 2 and numbers[old_id] == 9


def test_cli_shows_a_field_conflict_with_both_values_and_takes_central(
    agent_and_manager, tmp_path, monkeypatch, capsys
):
    from urllib.parse import parse_qsl, urlsplit

    from mangalm_desktop.sync.connection import CentralConfig, save_config

    world, agent, boss, a_conn, m_conn, store = agent_and_manager
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    parts = urlsplit(as_user(world.url, world.agent_a.db_role))
    save_config(
        CentralConfig(
            host=dict(parse_qsl(parts.query))["host"],
            database=parts.path.lstrip("/"),
            user=world.agent_a.db_role,
            sslmode="disable",
        )
    )
    edit_store_profile(agent, store, phone="+91 98200 66666", email="a@example.com")
    edit_store_profile(boss, store, phone="+91 98200 77777")
    assert sync_once(boss, m_conn).ok
    db = str(agent.url.database)
    assert main(["sync", "run", "--db", db, "-q"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("MANGALM_PASSWORD", world.agent_a.password)  # `sync conflicts` signs in
    assert main(["sync", "conflicts", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "phone: yours='+91 98200 66666' central='+91 98200 77777' (before both: None)" in out
    assert "email" not in out  # merged, not a conflict
    seq = list_conflicts(agent)[0].seq
    assert main(["sync", "resolve", str(seq), "--keep", "theirs", "--db", db]) == 0
    assert main(["sync", "run", "--db", db, "-q"]) == 0
    [row] = _central(world, "SELECT phone, email FROM store WHERE id = %s", store)
    assert row == ("+91 98200 77777", "a@example.com")
