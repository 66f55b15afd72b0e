"""Fixtures the Zoho bridge tests share: a manual clock, the strict local Zoho server on that
clock, and a central database; and the sync tests' ``world`` (a central database with two
agents and a manager, ``sync_support.build_world``). A module that needs another ``server``,
``clock`` or ``world`` defines its own, which wins over these."""

from __future__ import annotations

import pytest

from mangalm_desktop.zoho.clock import ManualClock
from tests.integration.sync_support import World, build_world
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
def world(pg_url) -> World:
    return build_world(pg_url)


@pytest.fixture
def central(pg_url):
    engine = central_engine(pg_url)
    yield engine
    engine.dispose()
