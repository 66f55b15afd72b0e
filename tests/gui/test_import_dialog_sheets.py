"""File → Import sales history with a workbook exported a year per sheet: the dialog imports
both years and its result names every sheet read and every sheet skipped."""

from __future__ import annotations

import csv

import pytest

from tests.gui.test_import_dialog import click_import, counts, laptop, open_dialog  # noqa: F401
from tests.integration.test_import_workbook_sheets import (
    RETAIL,
    Y1,
    Y2,
    two_years,
    year_rows,
)

pytestmark = pytest.mark.gui


def test_both_year_sheets_are_imported_and_the_skipped_ones_named(
    laptop,  # noqa: F811
    qtbot,
    monkeypatch,
    tmp_path,
):
    window, engine = laptop
    y2 = year_rows(2011, 3)
    y2[2][RETAIL.index("Quantity")] = "lots"  # sheet 2, spreadsheet row 4
    path = two_years(tmp_path, year_rows(2010, 4), y2)
    dialog = open_dialog(window, qtbot, monkeypatch, path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("history"))
    qtbot.waitUntil(lambda: dialog.header == RETAIL, timeout=10_000)
    assert dialog.columns()["quantity"] == "Quantity"

    click_import(dialog, qtbot)
    assert "1 row(s) were rejected, so their file was not imported" in dialog.message.text()
    assert counts(engine) == (0, 0, 0)
    with dialog.summary.error_report.open(encoding="utf-8-sig") as fh:
        report = list(csv.DictReader(fh))
    assert [(r["sheet"], r["row"], r["column"]) for r in report] == [(Y2, "4", "Quantity")]

    dialog.skip_bad.setChecked(True)
    click_import(dialog, qtbot)
    result = dialog.result.toPlainText()
    assert "online_retail_II.xlsx: 7 rows read, 6 imported" in result
    assert f"sheet {Y1!r}: 4 rows read" in result and f"sheet {Y2!r}: 3 rows read" in result
    assert "sheet 'Empty' skipped: empty" in result
    assert "sheet 'Notes' skipped: not data" in result
    assert counts(engine)[2] == 6  # both years' lines, less the one bad row
