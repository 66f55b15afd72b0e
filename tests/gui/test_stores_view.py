"""The Stores view and store detail, driven the way a person uses them (pytest-qt, offscreen)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from sqlalchemy import text

from mangalm_desktop.gui.charts import EPOCH, WEEK_SECONDS
from mangalm_desktop.gui.screenshots import is_blank, shoot_all
from tests.gui.conftest import AS_OF
from tests.gui.people import answer_modal, click_text

pytestmark = pytest.mark.gui


@pytest.fixture
def window(make_window, demo_db):
    engine, path = demo_db
    return make_window(engine, path)


def open_stores(window, qtbot):
    view = window.show_view("stores")
    qtbot.waitUntil(
        lambda: view.index is not None and view.model.row_at(0) is not None, timeout=10_000
    )
    return view


def settle(view, qtbot):
    qtbot.waitUntil(lambda: view.idle and view.ctx.runner.running == 0, timeout=10_000)


def shown_rows(view, qtbot):
    """All rows of the current result, scrolling the model page by page as a person would."""
    rows = []
    for row in range(view.model.rowCount()):
        view.model.data(view.model.index(row, 0))  # asks for the page if missing
        qtbot.waitUntil(lambda r=row: view.model.row_at(r) is not None, timeout=5_000)
        rows.append(view.model.row_at(row))
    return rows


def test_typing_narrows_the_list(window, qtbot, demo_db):
    engine, _ = demo_db
    view = open_stores(window, qtbot)
    total = view.model.rowCount()
    with engine.connect() as conn:
        assert total == conn.execute(text("SELECT count(*) FROM store")).scalar()
        city = conn.execute(
            text("SELECT city FROM store GROUP BY city ORDER BY count(*) DESC")
        ).scalar()
        expected = set(
            conn.execute(
                text("SELECT name FROM store WHERE city = :c OR name LIKE :p OR name LIKE :q"),
                {"c": city, "p": f"{city}%", "q": f"% {city}%"},
            ).scalars()
        )
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search.hasFocus()
    qtbot.keyClicks(view.search, city)
    settle(view, qtbot)
    rows = shown_rows(view, qtbot)
    assert 0 < len(rows) < total
    assert {r.name for r in rows} == expected
    assert view.count_label.text() == f"{len(rows)} of {total} stores"
    view.search.clear()
    settle(view, qtbot)
    assert view.model.rowCount() == total


def test_search_by_customer_code_prefix(window, qtbot, demo_db):
    engine, _ = demo_db
    view = open_stores(window, qtbot)
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM store ORDER BY code LIMIT 1")).scalar()
    qtbot.keyClicks(view.search, code[:-1])  # "MUM-000" finds MUM-0001..MUM-0009
    settle(view, qtbot)
    codes = [r.code for r in shown_rows(view, qtbot)]
    assert code in codes and all(c.startswith(code[:-1]) for c in codes)


def test_sort_by_clicking_a_header(window, qtbot):
    view = open_stores(window, qtbot)
    header = view.table.horizontalHeader()
    column = [c.key for c in view.model.columns].index("sales_12m")
    header.setSortIndicator(column, Qt.SortOrder.DescendingOrder)
    settle(view, qtbot)
    sales = [r.sales_12m for r in shown_rows(view, qtbot)]
    assert sales == sorted(sales, reverse=True) and sales[0] > sales[-1]
    header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    settle(view, qtbot)
    names = [r.name.lower() for r in shown_rows(view, qtbot)]
    assert names == sorted(names)


def test_region_agent_and_dormant_filters(window, qtbot):
    view = open_stores(window, qtbot)
    total = view.model.rowCount()
    region = view.region.itemText(1)
    view.region.setCurrentIndex(1)
    settle(view, qtbot)
    rows = shown_rows(view, qtbot)
    assert rows and len(rows) < total and {r.region for r in rows} == {region}
    view.region.setCurrentIndex(0)
    view.agent.setCurrentIndex(1)
    settle(view, qtbot)
    agent_rows = shown_rows(view, qtbot)
    assert agent_rows and {r.agent for r in agent_rows} == {view.agent.itemText(1)}
    view.agent.setCurrentIndex(0)
    view.dormant_weeks.setValue(4)
    view.dormant.setChecked(True)
    settle(view, qtbot)
    dormant = shown_rows(view, qtbot)
    assert len(dormant) < total
    assert all(r.days_since is None or r.days_since > 28 for r in dormant)
    view.dormant.setChecked(False)
    settle(view, qtbot)
    active = [r for r in shown_rows(view, qtbot) if r.days_since is not None and r.days_since <= 28]
    assert len(active) + len(dormant) == total


def test_enter_opens_the_store_with_its_sales_in_the_chart(window, qtbot, demo_db):
    engine, _ = demo_db
    view = open_stores(window, qtbot)
    view.table.setFocus()
    view.table.selectRow(2)
    store = view.model.row_at(2)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    detail = view.details[store.id]
    qtbot.addWidget(detail)
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10_000)
    assert detail.windowTitle() == f"{store.name} — {store.code}"
    with engine.connect() as conn:
        total_lines, weeks = conn.execute(
            text(
                "SELECT sum(line_total), count(DISTINCT date(invoice_date, '-6 days', 'weekday 1'))"
                " FROM invoice_line WHERE store_id = :s"
            ),
            {"s": store.id.hex},
        ).one()
    chart_total = sum((w.value for w in detail.chart.all_weeks), Decimal("0"))
    assert chart_total == (Decimal(total_lines) / 100).quantize(Decimal("0.01"))
    assert sum(1 for w in detail.chart.all_weeks if w.quantity) == weeks
    detail.chart.range_combo.setCurrentIndex(0)  # last 13 weeks
    assert len(detail.chart.shown) == 13
    # point at the busiest bar of the shown weeks: the label names its week and value
    week = max(detail.chart.shown, key=lambda w: w.value)
    x = (week.week - EPOCH).days * 86400 + WEEK_SECONDS / 2
    qtbot.waitUntil(lambda: detail.chart.plot.isVisible(), timeout=5_000)
    detail.tabs.setCurrentIndex(0)
    qtbot.wait(100)  # pyqtgraph applies the new x range on its next layout pass
    plot = detail.chart.plot
    # the amount axis reads in rupees, lakh and crore (one formatter for every chart)
    assert plot.getAxis("left").tickStrings([0.0, 150000.0, 2.5e7], 1.0, 50000.0) == [
        "₹0",
        "₹1.5 L",
        "₹2.5 Cr",
    ]
    scene_pos = plot.getPlotItem().vb.mapViewToScene(QPointF(x, float(week.value) / 2))
    local = QPointF(plot.mapFromScene(scene_pos))
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        local,
        QPointF(plot.viewport().mapToGlobal(local.toPoint())),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(plot.viewport(), move)  # the mouse moves over the bar
    qtbot.waitUntil(lambda: "Week of" in detail.chart.hover_label.text(), timeout=5_000)
    assert detail.chart.hover_label.text() == detail.chart.hover_text(week)
    assert detail.chart.cursor_line.isVisible()
    assert detail.invoice_model.rowCount() > 0
    detail.tabs.setCurrentIndex(1)  # Invoices: the newest is selected and its lines shown
    qtbot.waitUntil(lambda: detail.line_model.rowCount() > 0, timeout=5_000)
    newest = detail.invoice_model.rows[0]
    assert detail.invoice_table.currentIndex().row() == 0
    assert len(detail.line_model.rows) == newest.lines
    assert detail.top_model.rowCount() > 0
    assert detail.kpi["sales"].text() == view.model.columns[6].text(store)


def test_edit_and_save_a_profile_field(window, qtbot, demo_db):
    engine, _ = demo_db
    view = open_stores(window, qtbot)
    store = view.model.row_at(0)
    detail = view.open_row(0)
    qtbot.addWidget(detail)
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10_000)
    version = detail.version
    detail.tabs.setCurrentIndex(2)
    phone = detail.fields["phone"]
    phone.clear()
    qtbot.keyClicks(phone, "+91 98200 12345")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.last_save is not None, timeout=10_000)
    assert "Saved" in detail.form_message.text()
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT phone, version FROM store WHERE id = :i"), {"i": store.id.hex}
        ).one()
        op = conn.execute(
            text("SELECT op, base_version, payload FROM outbox WHERE row_id = :i"),
            {"i": store.id.hex},
        ).one()
    assert row == ("+91 98200 12345", version + 1)
    assert op[0] == "upsert" and op[1] == version and "98200 12345" in op[2]
    # a bad value is refused in words, the field is marked, nothing is written
    detail.fields["email"].setText("not-an-email")
    detail.fields["call_cadence_days"].setText("0")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not saved" in detail.form_message.text(), timeout=10_000)
    assert "e-mail" in detail.form_message.text() and "cadence" in detail.form_message.text()
    assert "d32f2f" in detail.fields["email"].styleSheet()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1


def test_a_background_reload_keeps_what_the_person_typed(window, qtbot, demo_db):
    view = open_stores(window, qtbot)
    detail = view.open_row(0)
    qtbot.addWidget(detail)
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10_000)
    detail.tabs.setCurrentIndex(2)
    stored = detail.fields["phone"].text()
    phone = detail.fields["phone"]
    phone.clear()
    qtbot.keyClicks(phone, "+91 90000 00001")
    assert detail.form_dirty
    shown = detail.detail
    detail.reload()  # e.g. a sync brought new invoices for this store
    qtbot.waitUntil(lambda: detail.detail is not shown, timeout=10_000)
    assert phone.text() == "+91 90000 00001"  # not put back to the stored value
    qtbot.mouseClick(detail.revert_button, Qt.MouseButton.LeftButton)
    assert phone.text() == stored and not detail.form_dirty
    shown = detail.detail
    detail.reload()
    qtbot.waitUntil(lambda: detail.detail is not shown, timeout=10_000)
    assert phone.text() == stored


def test_stores_loading_when_the_window_closes_is_dropped_quietly(window, qtbot):
    """A reload started by a write (a payment, a sync) that answers after the window closed
    used to raise 'Internal C++ object already deleted' from the filter boxes."""
    from mangalm_desktop.gui.main_window import MainWindow

    other = MainWindow(window.ctx)  # one the test may delete (make_window closes its own)
    other.show()
    view = open_stores(other, qtbot)
    runner = view.ctx.runner
    view.reload_index()
    other.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(view), timeout=10_000)
    assert runner.wait_idle(10_000)


def test_layout_columns_and_last_view_restored_after_restart(make_window, demo_db, qtbot):
    engine, path = demo_db
    first = make_window(engine, path)
    view = open_stores(first, qtbot)
    header = view.table.horizontalHeader()
    header.resizeSection(0, 333)
    header.moveSection(header.visualIndex(3), 0)  # agent first
    header.setSortIndicator(6, Qt.SortOrder.DescendingOrder)
    settle(view, qtbot)
    first.resize(760, 560)
    total = sum(first.splitter.sizes())
    first.splitter.setSizes([180, total - 180])
    qtbot.wait(50)  # let the layout settle, as it has by the time a person quits
    first.close()
    splitter = [180, total - 180]

    second = make_window(engine, path)
    assert second.current_view().view_id == "stores"
    view2 = open_stores(second, qtbot)
    header2 = view2.table.horizontalHeader()
    assert header2.sectionSize(0) == 333
    assert header2.logicalIndex(0) == 3
    assert (header2.sortIndicatorSection(), header2.sortIndicatorOrder()) == (
        6,
        Qt.SortOrder.DescendingOrder,
    )
    assert view2.current_filter().sort == "sales_12m"
    assert second.splitter.sizes() == splitter


def test_screenshots_of_every_view_are_not_blank(window, qtbot, tmp_path):
    paths = shoot_all(window, tmp_path / "shots")
    assert (
        len(paths) == len(window.view_classes) + 9
    )  # + store detail tabs, import and order dialogs, sales by store, beats, plan vs actual,
    # the call screen
    from PySide6.QtGui import QImage

    for name, path in paths.items():
        image = QImage(str(path))
        assert not is_blank(image), f"{name} screenshot is blank"
    assert window.last_error is None


def test_blank_detector_catches_a_flat_picture():
    from PySide6.QtGui import QColor, QImage

    image = QImage(200, 100, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    assert is_blank(image)


def test_unknown_store_shows_words_not_a_crash(window, qtbot):
    view = open_stores(window, qtbot)
    detail = view.open_store(uuid.uuid4())
    qtbot.addWidget(detail)
    qtbot.waitUntil(lambda: "no longer exists" in detail.name_label.text(), timeout=5_000)
    assert window.last_error is None


def test_as_of_date_drives_days_since(window, qtbot):
    view = open_stores(window, qtbot)
    row = next(r for r in shown_rows(view, qtbot) if r.last_order is not None)
    assert row.days_since == (AS_OF - row.last_order).days


def test_new_order_button_in_store_detail_opens_an_order_for_that_store(window, qtbot):
    view = open_stores(window, qtbot)
    store = view.model.row_at(1)
    detail = view.open_store(store.id)
    qtbot.addWidget(detail)
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10_000)
    qtbot.mouseClick(detail.new_order_button, Qt.MouseButton.LeftButton)
    orders = window.views["orders"]
    dialog = next(d for d in orders.findChildren(QWidget) if type(d).__name__ == "OrderDialog")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: getattr(dialog, "store", None) is not None, timeout=10_000)
    assert dialog.store.id == store.id
    assert window.current_view() is orders
    answer_modal(QMessageBox, lambda box: click_text(box, "Discard"), timeout_s=3)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)  # pre-filled: it asks
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
