"""One demo company for both faces, and "today" on the command line (issue 17, finding 11).

``mangalm demo`` writes the file ``mangalm-desktop --demo`` opens; the demo remembers the day it
was made for, and every CLI command that depends on "today" takes ``--today`` and, on a demo
database, defaults to that day (the demo's history ends the day before it).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from mangalm_desktop.cli.main import main as cli_main
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Order, Prediction
from mangalm_desktop.db.paths import default_db_path, demo_db_path
from mangalm_desktop.demo import DEFAULT_TODAY, demo_today

DEMO_DAY = DEFAULT_TODAY  # Monday 2 November 2026


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """A user data folder of our own (platformdirs follows XDG_DATA_HOME on Linux)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("MANGALM_DB", raising=False)
    return tmp_path / "data"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("democli") / "demo.sqlite"
    assert cli_main(["demo", "--small", "--db", str(path), "-q"]) == 0
    return path


def _scalar(path, stmt):  # noqa: ANN202 - what the statement selects
    engine = open_local_database(path)
    try:
        with engine.connect() as conn:
            return conn.execute(stmt).scalar_one()
    finally:
        engine.dispose()


def _store_and_agent(path) -> tuple[str, str, str]:
    """A store's code, its agent's code and a product it can order."""
    from mangalm_desktop.db.models import Agent, Product, Store

    engine = open_local_database(path)
    try:
        with engine.connect() as conn:
            store, agent = conn.execute(
                select(Store.code, Agent.code)
                .join(Agent, Agent.id == Store.agent_id)
                .where(Store.active.is_(True))
                .order_by(Store.code)
            ).first()
            sku = (
                conn.execute(
                    select(Product.sku)
                    .where(Product.active.is_(True), Product.price.is_not(None))
                    .order_by(Product.sku)
                )
                .scalars()
                .first()
            )
    finally:
        engine.dispose()
    return store, agent, sku


def test_cli_demo_writes_the_file_the_app_opens(data_home, capsys) -> None:
    from mangalm_desktop.gui.app import build_parser, database_path

    assert cli_main(["demo", "--small", "-q"]) == 0
    written = demo_db_path()
    assert str(written).startswith(str(data_home))
    assert written.exists() and not default_db_path().exists()  # the real database is untouched
    assert f"written to {written}" in capsys.readouterr().out
    assert database_path(build_parser().parse_args(["--demo"])) == written
    # Any command reaches it with --demo: an order taken on the CLI is in the app's demo file.
    store, agent, sku = _store_and_agent(written)
    args = ["orders", "--demo", "create", "--store", store, "--agent", agent, "--draft"]
    before = _scalar(written, select(func.count()).select_from(Order))
    assert cli_main([*args, "--line", f"{sku}=1"]) == 0
    assert _scalar(written, select(func.count()).select_from(Order)) == before + 1


def test_the_demo_remembers_its_today(demo_db) -> None:
    engine = open_local_database(demo_db)
    try:
        assert demo_today(engine) == DEMO_DAY
    finally:
        engine.dispose()


def test_forecast_on_a_demo_defaults_to_the_demos_today(demo_db, capsys) -> None:
    assert cli_main(["forecast", "--db", str(demo_db), "-q"]) == 0
    written = int(re.search(r"(\d+) suggested lines written", capsys.readouterr().out)[1])
    assert written > 0
    # As of the demo's today, not the real date (which is weeks after the history ends).
    starts = select(func.min(Prediction.horizon_start))
    first = _scalar(demo_db, starts.where(Prediction.deleted.is_(False)))
    assert DEMO_DAY <= first <= DEMO_DAY + dt.timedelta(days=7)


def test_forecast_takes_today(demo_db, capsys) -> None:
    day = DEMO_DAY - dt.timedelta(weeks=8)
    code = cli_main(["forecast", "--db", str(demo_db), "--all", "--today", str(day), "-q"])
    assert code == 0
    assert int(re.search(r"(\d+) suggested lines", capsys.readouterr().out)[1]) > 0
    starts = select(func.max(Prediction.horizon_start)).where(Prediction.deleted.is_(False))
    assert day <= _scalar(demo_db, starts) <= day + dt.timedelta(days=7)
    with pytest.raises(SystemExit) as bad:
        cli_main(["forecast", "--db", str(demo_db), "--today", "2026-13-01"])
    assert bad.value.code == 2
    assert "not a date (use YYYY-MM-DD): '2026-13-01'" in capsys.readouterr().err


def test_orders_date_from_the_demo_or_today(demo_db, capsys) -> None:
    store, agent, sku = _store_and_agent(demo_db)
    base = ["orders", "--db", str(demo_db)]
    create = ["create", "--store", store, "--agent", agent, "--line", f"{sku}=1", "--draft"]
    assert cli_main([*base, *create]) == 0
    number = re.search(r"(A\d\d-\w{3}-\d{6})  draft", capsys.readouterr().out)[1]
    assert cli_main([*base, "show", number]) == 0
    assert "date 02 Nov 2026;" in capsys.readouterr().out
    assert cli_main([*base, "--today", "2026-10-15", *create]) == 0
    number = re.search(r"(A\d\d-\w{3}-\d{6})  draft", capsys.readouterr().out)[1]
    assert cli_main([*base, "show", number]) == 0
    assert "date 15 Oct 2026;" in capsys.readouterr().out


def test_reports_are_as_of_the_demos_today(demo_db, capsys) -> None:
    base = ["report", "ageing", "--db", str(demo_db)]
    assert cli_main(base) == 0
    default = capsys.readouterr().out
    assert cli_main([*base, "--to", str(DEMO_DAY)]) == 0
    assert capsys.readouterr().out == default  # the demo's today, not the real date
    assert cli_main([*base, "--today", "2026-06-30"]) == 0
    assert capsys.readouterr().out != default
