"""Products view, the latest-only query rule, and the packaged self-test."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from sqlalchemy import text

from mangalm_desktop.gui.latest import LatestOnly
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.gui


def test_search_and_filters_narrow_the_catalogue(make_window, demo_db, qtbot):
    engine, path = demo_db
    window = make_window(engine, path)
    view = window.show_view("products")
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and view.sales is not None, timeout=10_000)
    total = view.model.rowCount()
    with engine.connect() as conn:
        assert total == conn.execute(text("SELECT count(*) FROM product")).scalar()
        brand = conn.execute(
            text("SELECT brand FROM product GROUP BY brand ORDER BY count(*) DESC")
        ).scalar()
        brand_count = conn.execute(
            text("SELECT count(*) FROM product WHERE brand = :b"), {"b": brand}
        ).scalar()
    qtbot.keyClicks(view.search, brand.split()[0])
    qtbot.waitUntil(lambda: view.idle and view.model.rowCount() < total, timeout=10_000)
    assert all(
        brand.split()[0].lower() in f"{r.name} {r.brand} {r.sku} {r.category}".lower()
        for r in view.model.rows
    )
    view.search.clear()
    view.brand.setCurrentIndex(view.brand.findData(brand))
    qtbot.waitUntil(lambda: view.idle and view.model.rowCount() == brand_count, timeout=10_000)
    assert {r.brand for r in view.model.rows} == {brand}


def test_selected_product_shows_its_sales_across_stores(make_window, demo_db, qtbot):
    engine, path = demo_db
    window = make_window(engine, path)
    view = window.show_view("products")
    qtbot.waitUntil(lambda: view.model.rowCount() > 1 and view.sales is not None, timeout=10_000)
    view.table.selectRow(1)
    product = view.model.rows[1]
    qtbot.waitUntil(lambda: view.product_id_shown() == product.id and view.idle, timeout=10_000)
    with engine.connect() as conn:
        total = conn.execute(
            text("SELECT coalesce(sum(line_total), 0) FROM invoice_line WHERE product_id = :p"),
            {"p": product.id.hex},
        ).scalar()
    chart_total = sum((w.value for w in view.chart.all_weeks), Decimal("0"))
    assert chart_total == (Decimal(total) / 100).quantize(Decimal("0.01"))
    values = [s.value for s in view.sales.top_stores]
    assert values == sorted(values, reverse=True)


def test_only_the_latest_answer_is_shown(runner, qtbot):
    """Five requests while the first is still running: the first and the last run, only the
    last is applied — an older answer never replaces a newer one."""
    latest = LatestOnly(runner)
    gate = threading.Event()
    ran: list[int] = []
    shown: list[int] = []

    def job(n):
        def fn(_ctx):
            if n == 1:
                gate.wait(5)
            ran.append(n)
            return n

        return fn

    for n in range(1, 6):
        latest.request(job(n), shown.append)
    gate.set()
    qtbot.waitUntil(lambda: latest.idle, timeout=5_000)
    assert ran == [1, 5]
    assert shown == [5]


def test_self_test_command_passes():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "mangalm_desktop", "--self-test"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from mangalm_desktop.gui.views import VIEW_CLASSES

    for entry in VIEW_CLASSES:
        assert f"ok   view {entry.title}" in proc.stdout
    assert "ok   store detail" in proc.stdout


def test_windowed_model_fetches_pages_on_demand_and_drops_stale_pages(runner, qtbot):
    """Rows are fetched only for the pages looked at; a page answer for an old result is
    ignored; memory stays bounded when a person scrolls through everything."""
    import numpy as np

    from mangalm_desktop.gui import tablemodels
    from mangalm_desktop.gui.tablemodels import PAGE, Column, WindowedModel

    fetched: list[list[int]] = []

    def fetch(ids):
        fetched.append(ids)
        return [(i, f"row {i}") for i in ids]

    model = WindowedModel(
        [Column("name", "Name", lambda r: r[1])], fetch, runner.submit, row_id=lambda r: r[0]
    )
    model.set_result(np.arange(10 * PAGE, dtype=np.int64))
    assert model.data(model.index(5, 0)) == "…"  # asks for page 0
    model.data(model.index(3 * PAGE + 1, 0))  # and page 3, nothing in between
    assert runner.wait_idle(5_000)
    assert sorted(ids[0] for ids in fetched) == [0, 3 * PAGE]  # pool threads: any order
    assert model.data(model.index(3 * PAGE + 1, 0)) == f"row {3 * PAGE + 1}"
    # a new result while a page of the old one is in flight: the old page is dropped
    model.data(model.index(7 * PAGE, 0))
    model.set_result(np.arange(5, dtype=np.int64) + 50_000)
    assert runner.wait_idle(5_000)
    assert [ids[0] for ids in fetched][-1] == 7 * PAGE  # it was fetched...
    assert 7 * PAGE not in model._cache  # ...but its answer was not applied
    assert model.rowCount() == 5
    # bounded cache
    old_limit = tablemodels.CACHE_LIMIT
    tablemodels.CACHE_LIMIT = 2 * PAGE
    try:
        model.set_result(np.arange(10 * PAGE, dtype=np.int64))
        for page in range(10):
            model.data(model.index(page * PAGE, 0))
            assert runner.wait_idle(5_000)
        assert len(model._cache) <= 3 * PAGE
        assert model.data(model.index(9 * PAGE, 0)) == f"row {9 * PAGE}"
    finally:
        tablemodels.CACHE_LIMIT = old_limit
