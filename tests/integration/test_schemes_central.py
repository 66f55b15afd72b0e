"""Schemes on the central database, on real PostgreSQL: a manager creates them, each agent
reads only those meant for its stores and can write none (attacks as the agent's own role),
and the sync carries them to the laptop, where orders apply them and push their effect."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D

import psycopg
import pytest

from mangalm_desktop.db.engine import make_engine
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.schemes.service import RuleInput, SchemeInput, create_scheme, end_scheme
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.sync.admin import move_store
from mangalm_desktop.sync.connection import sqlalchemy_url
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db

pytestmark = pytest.mark.pg

Refused = psycopg.errors.InsufficientPrivilege
DAY = dt.date(2026, 12, 6)


@pytest.fixture
def world(pg_migrated_url):
    w = build_world(pg_migrated_url, stores_per_agent=2, invoices_per_store=1, products=3)
    with psycopg.connect(as_user(w.url, "postgres"), autocommit=True) as owner:
        owner.execute(
            "UPDATE store SET region = 'Pune', size_class = 'A' WHERE id = ANY(%s)", (w.stores_a,)
        )
        owner.execute(
            "UPDATE store SET region = 'Delhi', size_class = 'B' WHERE id = ANY(%s)", (w.stores_b,)
        )
        sku = owner.execute("SELECT sku FROM product WHERE id = %s", (w.products[0],)).fetchone()
    manager = Identity(w.manager.db_role, Role.MANAGER, w.manager.agent_id, w.manager.code)
    engine = make_engine(sqlalchemy_url(w.url_for(w.manager)))
    try:
        for code, regions, classes, rule in (
            ("ALL-2", [], [], RuleInput(1, D("2"))),
            ("PUNE-5", ["pune"], [], RuleInput(1, D("5"))),
            ("DELHI-7", ["Delhi"], [], RuleInput(1, D("7"))),
            ("PUNE-C", ["Pune"], ["C"], RuleInput(1, D("9"))),  # no class-C store anywhere
        ):
            create_scheme(
                engine,
                manager,
                SchemeInput(
                    code,
                    code,
                    "percent",
                    dt.date(2026, 12, 1),
                    dt.date(2026, 12, 31),
                    product=sku[0],
                    regions=regions,
                    store_classes=classes,
                    rules=[rule],
                    stackable=True,
                ),
            )
    finally:
        engine.dispose()
    return w


def _codes(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT code FROM scheme")}


def _rule_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM scheme_rule").fetchone()[0]


def test_each_agent_reads_only_the_schemes_meant_for_its_stores(world) -> None:
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a:
        assert _codes(a) == {"ALL-2", "PUNE-5"}
        assert _rule_count(a) == 2
    with psycopg.connect(world.url_for(world.agent_b), autocommit=True) as b:
        assert _codes(b) == {"ALL-2", "DELHI-7"}
    with psycopg.connect(world.url_for(world.manager), autocommit=True) as m:
        assert _codes(m) == {"ALL-2", "PUNE-5", "DELHI-7", "PUNE-C"} and _rule_count(m) == 4


def test_an_agent_can_write_no_scheme_nor_rule(world) -> None:
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a:
        sid = a.execute("SELECT id FROM scheme WHERE code = 'PUNE-5'").fetchone()[0]
        attacks = [
            (
                "INSERT INTO scheme (id, code, name, kind, valid_from, stackable, created_at, "
                "updated_at) VALUES (%s, 'MINE-90', 'x', 'percent', '2026-12-01', true, now(), "
                "now())",
                (uuid.uuid4(),),
            ),
            ("UPDATE scheme SET valid_to = '2030-01-01' WHERE id = %s", (sid,)),
            ("UPDATE scheme SET regions = NULL WHERE code = 'DELHI-7'", ()),
            ("DELETE FROM scheme WHERE id = %s", (sid,)),
            ("UPDATE scheme_rule SET discount_pct = 90 WHERE scheme_id = %s", (sid,)),
            (
                "INSERT INTO scheme_rule (id, scheme_id, min_qty, discount_pct, free_qty, "
                "updated_at) VALUES (%s, %s, 1, 50, 0, now())",
                (uuid.uuid4(), sid),
            ),
            ("DELETE FROM scheme_rule WHERE scheme_id = %s", (sid,)),
            ("TRUNCATE scheme_rule", ()),
        ]
        for sql, params in attacks:
            with pytest.raises(Refused):
                a.execute(sql, params)
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as owner:
        rows = owner.execute(
            "SELECT s.code, s.valid_to, r.discount_pct FROM scheme s JOIN scheme_rule r "
            "ON r.scheme_id = s.id WHERE s.code IN ('PUNE-5', 'DELHI-7') ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("DELHI-7", dt.date(2026, 12, 31), D("7")),
        ("PUNE-5", dt.date(2026, 12, 31), D("5")),
    ]


def test_sync_brings_the_schemes_orders_apply_them_and_the_push_keeps_their_effect(
    world, tmp_path
) -> None:
    a = world.agent_a
    engine = local_db(tmp_path / "a.sqlite")
    assert sync_once(engine, world.connector(a)).ok
    with engine.connect() as c:
        assert {r[0] for r in c.exec_driver_sql("SELECT code FROM scheme")} == {"ALL-2", "PUNE-5"}
    draft = OrderDraft(
        store=world.stores_a[0], agent_id=a.agent_id, lines=[LineInput(world.products[0], 10)]
    )
    res = service.submit(engine, draft, identity=None, today=DAY)
    # 10 × 10.50 = 105.00; ALL-2 + PUNE-5 stacked = 7% → 7.35; total 97.65
    assert res.total == D("97.65")
    report = sync_once(engine, world.connector(a))
    assert report.ok, report
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as owner:
        row = owner.execute(
            "SELECT l.discount_pct, l.scheme_pct, l.scheme_value, l.line_total, s.code, "
            "l.scheme_reason, l.scheme_split IS NOT NULL FROM order_line l "
            "JOIN scheme s ON s.id = l.scheme_id WHERE l.order_id = %s",
            (res.order_id,),
        ).fetchone()
    # the shares: PUNE-5 5% of 105.00 = 5.25, ALL-2 takes the rest 7.35 − 5.25 = 2.10
    assert row == (
        D("7"),
        D("7"),
        D("7.35"),
        D("97.65"),
        "PUNE-5",
        "PUNE-5: 5% off Product 0; ALL-2: 2% off Product 0",
        True,
    )

    # A line naming a scheme not meant for the agent's stores is refused centrally.
    with psycopg.connect(world.url_for(a), autocommit=True) as conn:
        with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as owner:
            delhi = owner.execute("SELECT id FROM scheme WHERE code = 'DELHI-7'").fetchone()[0]
        with pytest.raises(Refused, match="scheme meant for your stores"):
            conn.execute(
                "UPDATE order_line SET scheme_id = %s WHERE order_id = %s", (delhi, res.order_id)
            )

    # A manager ends a scheme: the laptop follows at its next sync.
    manager = Identity(world.manager.db_role, Role.MANAGER, world.manager.agent_id)
    central = make_engine(sqlalchemy_url(world.url_for(world.manager)))
    try:
        end_scheme(central, manager, "PUNE-5", last_day=DAY)
    finally:
        central.dispose()
    # The agent gains a Delhi store: the Delhi scheme arrives with it although it is older
    # than the laptop's cursor.
    b_store_code = f"S-{world.agent_b.code}-0"
    move_store(world.url, b_store_code, a.code, identity=None)
    assert sync_once(engine, world.connector(a)).ok
    with engine.connect() as c:
        got = dict(c.exec_driver_sql("SELECT code, valid_to FROM scheme").fetchall())
    assert got == {"ALL-2": "2026-12-31", "PUNE-5": "2026-12-06", "DELHI-7": "2026-12-31"}


def test_cli_creates_centrally_as_a_manager_and_refuses_an_agent(world, capsys) -> None:
    from mangalm_desktop.cli.main import main

    args = [
        "schemes",
        "create",
        "CLI-3",
        "--name",
        "Three off",
        "--kind",
        "percent",
        "--from",
        "2026-12-01",
        "--rule",
        "1:3",
        "--region",
        "Pune",
    ]
    assert main([*args, "--url", world.url_for(world.agent_a)]) == 2
    assert "may not manage schemes" in capsys.readouterr().err
    assert main([*args, "--url", world.url_for(world.manager)]) == 0
    assert "created scheme CLI-3 on the central database" in capsys.readouterr().out
    with psycopg.connect(world.url_for(world.agent_a), autocommit=True) as a:
        assert "CLI-3" in _codes(a)  # a Pune scheme: agent A sees it
    with psycopg.connect(world.url_for(world.agent_b), autocommit=True) as b:
        assert "CLI-3" not in _codes(b)
    assert (
        main(
            ["schemes", "end", "CLI-3", "--on", "2026-12-05", "--url", world.url_for(world.manager)]
        )
        == 0
    )
