"""One Alembic history, run up and down on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import make_engine, session_scope, sqlite_url
from mangalm_desktop.db.models import SYNCED_TABLES, Base, Product, Store
from mangalm_desktop.domain.errors import SchemaTooNewError, UserError


def _roundtrip(engine) -> None:
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    # Money survives exactly on both back ends.
    with session_scope(engine) as s:
        s.add(Store(code="C1", name="Shree Ganesh Kirana", credit_limit=Decimal("12345.67")))
        s.add(Product(sku="P1", name="Toor Dal 1kg", price=Decimal("112.3456")))
    with session_scope(engine) as s:
        store = s.scalars(select(Store)).one()
        assert store.credit_limit == Decimal("12345.67")
        assert store.outstanding_balance == Decimal("0.00")
        assert store.updated_at.tzinfo is dt.UTC
        assert s.scalars(select(Product.price)).one() == Decimal("112.3456")
    migrate.downgrade(engine, "base")
    left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_history_up_and_down_on_sqlite(tmp_path):
    engine = make_engine(sqlite_url(tmp_path / "m.sqlite"))
    _roundtrip(engine)


@pytest.mark.pg
def test_history_up_and_down_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    try:
        _roundtrip(engine)
    finally:
        engine.dispose()


def test_synced_tables_have_version_and_tombstone():
    for name in SYNCED_TABLES:
        cols = Base.metadata.tables[name].c
        assert {"id", "version", "deleted"} <= set(cols.keys()), name


def test_local_db_is_wal_and_created_at_head(db_path):
    engine = migrate.open_local_database(db_path)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_older_schema_is_backed_up_then_upgraded(db_path, monkeypatch):
    engine = make_engine(sqlite_url(db_path))
    migrate.upgrade(engine)
    with session_scope(engine) as s:
        s.add(Store(code="C9", name="Old Store"))
    engine.dispose()
    # Pretend the file predates the newest migration: the app must back it up and upgrade.
    monkeypatch.setattr(migrate, "head_revision", lambda: "ffff-next")
    upgraded = []
    monkeypatch.setattr(migrate, "upgrade", lambda eng, rev="head": upgraded.append(rev))
    monkeypatch.setattr(migrate, "known_revisions", lambda: {"0001", "ffff-next"})
    eng = migrate.open_local_database(db_path)
    eng.dispose()
    assert upgraded == ["head"]
    backups = list(db_path.parent.glob("mangalm.backup-0001-*.sqlite"))
    assert len(backups) == 1
    con = sqlite3.connect(backups[0])
    assert con.execute("select name from store").fetchall() == [("Old Store",)]
    con.close()


def test_newer_schema_is_refused_untouched(db_path):
    engine = make_engine(sqlite_url(db_path))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num='9999_from_the_future'")
    engine.dispose()
    before = db_path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer version"):
        migrate.open_local_database(db_path)
    assert db_path.read_bytes() == before


def test_not_a_database_is_a_user_error(tmp_path):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("shopping list")
    with pytest.raises(UserError, match="not a Mangalm database"):
        migrate.open_local_database(bogus)
