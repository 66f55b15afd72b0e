"""Today and Predictions views: call list shown, snooze hides a store, accepting suggested
lines creates a draft order with the suggested quantities and their prediction ids."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, OrderLine
from mangalm_desktop.forecasting.service import run_forecast
from tests.integration.test_forecast_service import TODAY, shop, stock_shop  # noqa: F401
from tests.support.local_db import local_database

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def forecast_shop(tmp_path_factory):
    """The shop with its forecast computed, made once a module: (file, ids). Each test opens
    its own copy (the tests snooze, accept and order)."""
    from mangalm_desktop.db.search import ensure_search_schema

    path = tmp_path_factory.mktemp("forecast_shop") / "laptop.sqlite"
    engine = local_database(path)
    ids = stock_shop(engine)
    ensure_search_schema(engine, TODAY)  # as the app opens a database (open_database)
    run_forecast(engine, today=TODAY, identity=None)
    engine.dispose()
    return path, ids


@pytest.fixture
def window(qtbot, runner, forecast_shop, tmp_path):
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.db.search import ensure_search_schema
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.main_window import MainWindow

    template, ids = forecast_shop
    path = Path(shutil.copyfile(template, tmp_path / "laptop.sqlite"))
    engine = open_local_database(path)
    ensure_search_schema(engine, TODAY)
    ctx = AppContext(engine=engine, db_path=path, runner=runner, today=lambda: TODAY)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w, engine, ids
    w.close()
    engine.dispose()


def test_today_lists_stores_and_snooze_hides_one(window, qtbot):
    w, engine, ids = window
    view = w.show_view("today")
    qtbot.waitUntil(lambda: view.model.rowCount() == 7, timeout=20_000)
    assert "7 stores to call; 1 to win back" in view.summary.text()
    assert [e.store_id for e in view.win_back_rows] == [ids["S5"]]
    row = next(i for i, e in enumerate(view.rows) if e.store_id == ids["S3"])
    view.table.selectRow(row)
    view.snooze_selected()
    qtbot.waitUntil(lambda: view.model.rowCount() == 6, timeout=20_000)
    assert ids["S3"] not in {e.store_id for e in view.rows}


def test_accept_suggestions_into_a_draft_order(window, qtbot):
    w, engine, ids = window
    view = w.show_view("predictions")
    qtbot.waitUntil(lambda: len(view.stores) == 8, timeout=20_000)
    index = next(i for i, s in enumerate(view.stores) if s.id == ids["S0"])
    view.store_box.setCurrentIndex(index)
    qtbot.waitUntil(
        lambda: (
            {s.sku for s in view.lines} == {"ATTA", "DAL"}
            and view.stores[view.store_box.currentIndex()].id == ids["S0"]
        ),
        timeout=20_000,
    )
    qtbot.waitUntil(lambda: "TEA" in view.upsell_label.text().upper(), timeout=20_000)
    assert "bought by 2 of 7 similar stores" in view.upsell_label.text()
    # the "why" is the tooltip of the reason cell
    why = view.model.index(0, 4).data(3)  # Qt.ToolTipRole
    assert "usually" in why
    view.table.selectRow(next(i for i, s in enumerate(view.lines) if s.sku == "ATTA"))
    view.accept_lines()
    qtbot.waitUntil(lambda: view.last_order is not None, timeout=20_000)
    with session_scope(engine) as s:
        order = s.get(Order, view.last_order.order_id)
        assert order.state == "draft" and order.store_id == ids["S0"]
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert [(ln.product_id, ln.quantity, ln.suggested_qty) for ln in lines] == [
            (ids["ATTA"], 8, 8)
        ]


def test_store_detail_upsell_tab(window, qtbot):
    from mangalm_desktop.gui.views.store_detail import StoreDetailWindow

    w, engine, ids = window
    detail = StoreDetailWindow(w.ctx, ids["S0"])
    qtbot.addWidget(detail)
    detail.show()
    detail.tabs.setCurrentWidget(detail.upsell_panel)
    qtbot.waitUntil(lambda: bool(detail.upsell_panel.items), timeout=20_000)
    assert [(u.product_id, u.evidence) for u in detail.upsell_panel.items] == [
        (ids["TEA"], "bought by 2 of 7 similar stores")
    ]


def test_today_leads_to_the_suggested_order_and_a_new_order(window, qtbot):
    from PySide6.QtCore import Qt

    w, engine, ids = window
    view = w.show_view("today")
    qtbot.waitUntil(lambda: view.model.rowCount() == 7, timeout=20_000)
    row = next(i for i, e in enumerate(view.rows) if e.store_id == ids["S0"])
    view.table.selectRow(row)
    qtbot.mouseClick(view.suggested_button, Qt.MouseButton.LeftButton)
    predictions = w.views["predictions"]
    assert w.current_view() is predictions
    qtbot.waitUntil(
        lambda: (
            bool(predictions.stores)
            and predictions.stores[predictions.store_box.currentIndex()].id == ids["S0"]
            and {s.sku for s in predictions.lines} == {"ATTA", "DAL"}
        ),
        timeout=20_000,
    )
    w.show_view("today")
    view.table.selectRow(next(i for i, e in enumerate(view.rows) if e.store_id == ids["S3"]))
    qtbot.mouseClick(view.order_button, Qt.MouseButton.LeftButton)
    dialog = w.views["orders"].dialogs[-1]
    qtbot.waitUntil(lambda: dialog.store is not None, timeout=20_000)
    assert dialog.store.id == ids["S3"]
    from PySide6.QtWidgets import QMessageBox

    from tests.gui.people import answer_modal, click_text

    answer_modal(QMessageBox, lambda box: click_text(box, "Discard"), timeout_s=2)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)


def test_today_says_when_it_worked_the_chances_out_itself(qtbot, runner, shop, tmp_path):  # noqa: F811
    """No forecast run has stored the activity model: Today still lists the stores, and says
    why the chances were worked out on the load; after Update forecasts the note is gone."""
    from PySide6.QtCore import Qt

    from mangalm_desktop.db.search import ensure_search_schema
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.main_window import MainWindow

    engine, _ids = shop
    ensure_search_schema(engine, TODAY)
    ctx = AppContext(
        engine=engine, db_path=tmp_path / "laptop.sqlite", runner=runner, today=lambda: TODAY
    )
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    view = w.show_view("today")
    qtbot.waitUntil(lambda: "stores to call" in view.summary.text(), timeout=20_000)
    assert "worked out now" in view.summary.text()
    assert "no forecast run has stored them yet" in view.summary.text()
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            "stores to call" in view.summary.text() and "worked out now" not in view.summary.text()
        ),
        timeout=60_000,
    )
    w.close()
