"""Reports as a manager meets them (issue 17, finding 10 and journey d), on the small demo:
the view opens on a report with its result; forecast accuracy with no rows says why and does
not keep the last chart; the current month is labelled partial; Enter on a row drills down;
the drill-down exported to XLSX holds the figures the database holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import func, or_, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Store
from mangalm_desktop.reports.filters import EXCLUDED_INVOICE_STATUSES
from tests.gui.conftest import AS_OF
from tests.gui.people import click

pytestmark = pytest.mark.gui
WAIT = 30_000


def choose_report(view, qtbot, title: str) -> None:
    """Click the report in the list, then Show, and wait for its result."""
    item = next(
        view.report_list.item(i)
        for i in range(view.report_list.count())
        if view.report_list.item(i).text() == title
    )
    rect = view.report_list.visualItemRect(item)
    QTest.mouseClick(view.report_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(view.show_button)
    qtbot.waitUntil(
        lambda: view.panel.result is not None and view.panel.result.title == title, timeout=WAIT
    )


def test_reports_open_on_a_result_explain_no_rows_and_label_the_partial_month(demo_window, qtbot):
    window, engine = demo_window
    view = window.show_view("reports")
    # no Show needed: the first report is computed as the view opens
    qtbot.waitUntil(lambda: view.panel.result is not None, timeout=WAIT)
    assert view.panel.model.rowCount() > 0 and view.panel.chart.items
    periods = list(view.panel.result.frame["period"])
    assert periods[-1] == f"{AS_OF:%Y-%m} (partial, to {AS_OF:%d %b})"
    assert all("partial" not in p for p in periods[:-1])
    # the cut period is compared with the same first days of last year, and not charted
    chart = view.panel.chart
    assert chart.categories == periods[:-1] and "not charted" in chart.hover_label.text()

    choose_report(view, qtbot, "Forecast accuracy by agent")
    assert view.panel.model.rowCount() == 0
    summary = view.panel.summary.text()
    assert "No rows" in summary and "horizon" in summary
    # the last report's chart is gone: no items, no category labels left on the axis
    assert not view.panel.chart.items and not view.panel.chart.categories
    assert view.panel.chart.plot.getAxis("bottom")._tickLevels is None


def test_manager_drills_down_with_enter_and_exports_xlsx(demo_window, qtbot, tmp_path, monkeypatch):
    window, engine = demo_window
    view = window.show_view("reports")
    qtbot.waitUntil(lambda: view.panel.result is not None, timeout=WAIT)
    choose_report(view, qtbot, "Sales by store")
    table = view.panel.table
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_Down)  # the first store
    row = table.currentIndex().row()
    code = view.panel.result.frame["store_code"].iloc[row]
    QTest.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(view.windows) == 1, timeout=WAIT)
    drill = view.windows[0].panel
    qtbot.waitUntil(lambda: drill.result is not None, timeout=WAIT)
    assert drill.result.spec.name == "sales-by-product" and drill.filters.store == code

    out = tmp_path / "drill.xlsx"
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), "")
    )
    xlsx = next(a for a in drill.export_button.menu().actions() if a.text().startswith("XLSX"))
    xlsx.trigger()  # the Export button's menu item, as a click on it does
    qtbot.waitUntil(lambda: out.exists(), timeout=WAIT)
    window.ctx.runner.wait_idle()

    ws = openpyxl.load_workbook(out).active
    header = next(
        r for r in ws.iter_rows(min_row=1, max_row=10) if any(c.value == "SKU" for c in r)
    )
    cols = {c.value: c.column for c in header}
    sales_col = next(col for label, col in cols.items() if str(label).startswith("Sales"))
    by_sku = {
        ws.cell(row=r, column=cols["SKU"]).value: Decimal(
            str(ws.cell(row=r, column=sales_col).value)
        )
        for r in range(header[0].row + 1, ws.max_row + 1)
        if ws.cell(row=r, column=cols["SKU"]).value is not None
    }
    from mangalm_desktop.db.models import Product

    start = AS_OF - dt.timedelta(days=364)
    with session_scope(engine) as s:
        sql = dict(
            s.execute(
                select(Product.sku, func.sum(InvoiceLine.line_total))
                .join(InvoiceLine, InvoiceLine.product_id == Product.id)
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .join(Store, Store.id == InvoiceLine.store_id)
                .where(
                    Store.code == code,
                    InvoiceLine.deleted.is_(False),
                    Invoice.deleted.is_(False),
                    or_(Invoice.status.is_(None), Invoice.status.not_in(EXCLUDED_INVOICE_STATUSES)),
                    InvoiceLine.invoice_date.between(start, AS_OF),
                )
                .group_by(Product.sku)
            ).all()
        )
    assert by_sku and by_sku == {
        k: Decimal(str(v)).quantize(Decimal("0.01")) for k, v in sql.items()
    }
