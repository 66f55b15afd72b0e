"""Fixtures the Zoho bridge tests share: a manual clock, the strict local Zoho server on that
clock, and a central database; the sync tests' ``world`` (a central database with two agents
and a manager, ``sync_support.build_world``). A module that needs another ``server``, ``clock``
or ``world`` defines its own, which wins over these. And ``report_db``, the two back ends
reports run on."""

from __future__ import annotations

import pytest

from mangalm_desktop.db.engine import make_engine
from mangalm_desktop.zoho.clock import ManualClock
from tests.integration.sync_support import World, build_world
from tests.support.local_db import local_database
from tests.zoho_server import ZohoServer
from tests.zoho_server.support import central_engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock):
    with ZohoServer(clock=clock.now) as srv:
        yield srv


@pytest.fixture
def world(pg_migrated_url) -> World:
    return build_world(pg_migrated_url)


@pytest.fixture
def central(pg_migrated_url):
    engine = central_engine(pg_migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def report_db(request, tmp_path):
    """An empty, migrated database on each back end that runs reports: the laptop's SQLite and
    a manager's central PostgreSQL."""
    if request.param == "sqlite":
        eng = local_database(tmp_path / "r.sqlite")
    else:
        eng = make_engine(request.getfixturevalue("pg_migrated_url"))
    yield eng
    eng.dispose()
