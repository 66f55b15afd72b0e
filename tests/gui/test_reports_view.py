"""Reports view: filter → chart → drill-down → export, on the hand-made company of
tests/integration/reports_data.py (figures worked out there by hand)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtCore import QPointF, Qt
from PySide6.QtPrintSupport import QPrinter

from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.gui.context import AppContext
from mangalm_desktop.gui.reporting import printing
from mangalm_desktop.gui.views.reports import ReportsView
from tests.integration import reports_data

pytestmark = pytest.mark.gui


@pytest.fixture
def view(qtbot, runner, engine, db_path):
    reports_data.build(engine)
    ensure_search_schema(engine)  # the store card reads the store search/stats tables
    ctx = AppContext(
        engine=engine, db_path=db_path, runner=runner, today=lambda: dt.date(2024, 4, 30)
    )
    v = ReportsView(ctx)
    qtbot.addWidget(v)
    v.resize(1300, 800)
    v.show()
    qtbot.waitExposed(v)
    v.activated()
    assert runner.wait_idle(10_000)
    yield v
    for w in [*v.windows, *v.store_windows]:
        w.close()


def _wait_loaded(qtbot, panel, runner):
    assert runner.wait_idle(20_000)
    qtbot.waitUntil(lambda: panel.result is not None and "Computing" not in panel.summary.text())


def test_filter_chart_drilldown_export(view, qtbot, runner, tmp_path):
    # Filter: sales by region for Q1 2024.
    view.select_report("sales-by-region")
    view.set_dates(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert view.combos["region"].findData("North") > 0  # choices came from the database
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    panel = view.panel
    _wait_loaded(qtbot, panel, runner)
    model = panel.model
    assert model.rowCount() == 2
    shown = [[model.index(r, c).data() for c in range(3)] for r in range(2)]
    assert shown == [["North", "₹2,860.50", "22"], ["South", "₹950.25", "11"]]

    # Chart: one bar per region, heights are the sales; hovering shows the values.
    assert panel.chart.categories == ["North", "South"]
    assert panel.chart.series["sales"] == pytest.approx([2860.50, 950.25])
    vb = panel.chart.plot.getPlotItem().vb
    scene_pos = vb.mapViewToScene(QPointF(1.0, 100.0))
    panel.chart._mouse_moved(scene_pos)
    assert panel.chart.hover_label.text() == "South: Sales ₹950.25"

    # Drill-down: region North → its stores, in a new window, filter carried over.
    with qtbot.waitSignal(view.panel.drill_requested, timeout=5000):
        rect = panel.table.visualRect(model.index(0, 0))
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(view.windows) == 1
    stores = view.windows[0].panel
    _wait_loaded(qtbot, stores, runner)
    assert stores.filters.region == "North"
    assert [stores.model.index(r, 0).data() for r in range(stores.model.rowCount())] == ["S2", "S1"]

    # … then store S2 → its products (store detail), in a second window.
    target = stores.drill_target(0)
    assert target is not None and target[0] == "sales-by-product"
    stores.drill_requested.emit(*target)
    assert len(view.windows) == 2
    detail = view.windows[1].panel
    _wait_loaded(qtbot, detail, runner)
    assert (detail.filters.store, detail.filters.region) == ("S2", "North")
    rows = detail.result.frame[["sku", "sales"]].values.tolist()
    assert rows == [["P2", D("1500.50")], ["P3", D("60.00")]]

    # Export the store-detail window to XLSX in a worker; read it back.
    out = tmp_path / "s2.xlsx"
    with qtbot.waitSignal(detail.exported, timeout=20_000):
        detail.export_to(out, "xlsx")
    ws = load_workbook(out).active
    assert [ws.cell(row=r, column=1).value for r in (5, 6)] == ["P2", "P3"]
    assert [ws.cell(row=r, column=5).value for r in (5, 6)] == [1500.5, 60.0]
    assert view.windows[0].isVisible() and view.windows[1].isVisible()  # side by side

    # … and the store card itself (the Stores view's detail window) from the stores window.
    assert stores.store_code_at(0) == "S2"
    stores.store_requested.emit("S2")
    assert runner.wait_idle(10_000)
    qtbot.waitUntil(lambda: len(view.store_windows) == 1)
    card = view.store_windows[0]
    assert card.store_id is not None and card.isVisible()
    assert runner.wait_idle(10_000)
    qtbot.waitUntil(lambda: "Kirana Two" in card.name_label.text())


def test_filters_change_the_report_and_print(view, qtbot, runner, tmp_path):
    view.select_report("sales-by-store")
    view.set_dates(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    view.set_filter("agent", "A02")
    assert view.combos["agent"].currentText() != "All"
    view.show_report()
    _wait_loaded(qtbot, view.panel, runner)
    frame = view.panel.result.frame
    assert frame[["store_code", "sales"]].values.tolist() == [
        ["S3", D("950.25")],
        ["S2", D("60.00")],
    ]
    # Sorting by a number column sorts numerically.
    view.panel.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    assert view.panel.model.index(0, 0).data() == "S2"
    # Print (to a PDF printer, as the preview dialog would) carries the figures.
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(target))
    printing.configure_printer(printer, view.panel.result)
    printing.print_to(printer, view.panel.result, view.panel.chart_image())
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(target)).pages).split())
    assert "Sales by store" in text and "950.25" in text and "Kirana Three" in text


def test_bad_filter_is_shown_in_words(view, qtbot, runner, monkeypatch):
    shown = []
    monkeypatch.setattr(
        "mangalm_desktop.gui.reporting.panel.show_error",
        lambda parent, exc, doing="": shown.append(str(exc)),
    )
    view.select_report("sales-by-store")
    view.combos["store"].setEditText("No Such Store")
    view.show_report()
    assert runner.wait_idle(10_000)
    assert shown and "no store called 'No Such Store'" in shown[0]
    assert "Could not compute" in view.panel.summary.text()


def test_note_on_left_out_lines_is_shown(view, qtbot, runner, engine):
    """An invoice dated 1900-01-01 (inserted straight into the tables, as an old import left
    it) is left out of the report; the panel says so next to the summary, as the CLI does."""
    from tests.integration.test_implausible_dates import _add_bad_invoices

    panel = view.panel
    # first without bad rows: no note
    item = next(
        view.report_list.item(i)
        for i in range(view.report_list.count())
        if view.report_list.item(i).data(Qt.ItemDataRole.UserRole) == "sales-by-store"
    )
    rect = view.report_list.visualItemRect(item)
    qtbot.mouseClick(view.report_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.current_name() == "sales-by-store"
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    _wait_loaded(qtbot, panel, runner)
    assert not panel.note.isVisible()

    _add_bad_invoices(engine)  # 0001-01-01, 1900-01-01, 2099-12-31, 9999-12-31
    qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Computing" not in panel.summary.text())
    _wait_loaded(qtbot, panel, runner)
    assert panel.result.ignored_lines == 4
    assert panel.note.isVisible()
    assert "4 invoice lines dated outside" in panel.note.text()
    assert "left out" in panel.note.text()
