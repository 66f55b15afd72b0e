"""Today's lists read store ids as their stored text and turn only the distinct ones into UUIDs
(issue 21: a UUID per order row was most of the load); the text differs by back end (hex on
SQLite, dashed on PostgreSQL), so the same shop must give the same lists on both."""

from __future__ import annotations

from sqlalchemy import insert, select

from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import make_engine
from mangalm_desktop.db.models import Base
from mangalm_desktop.forecasting.service import run_forecast, todays_calls
from tests.integration.test_forecast_service import TODAY, shop  # noqa: F401 - fixture


def test_todays_lists_are_the_same_on_postgresql(shop, pg_url):  # noqa: F811
    local, ids = shop
    run_forecast(local, today=TODAY, identity=None)  # predictions and the stored model
    central = make_engine(pg_url)
    try:
        migrate.upgrade(central)
        with local.connect() as src, central.begin() as dst:
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in src.execute(select(table))]
                if rows:
                    dst.execute(insert(table), rows)
        here = todays_calls(local, today=TODAY, identity=None)
        there = todays_calls(central, today=TODAY, identity=None)
    finally:
        central.dispose()
    assert [e.store_id for e in here.win_back] == [ids["S5"]]
    assert len(here.to_call) == 7 and any(e.expected_value > 0 for e in here.to_call)
    assert there == here
