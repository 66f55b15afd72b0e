"""File → Import sales history, used as a person would: pick files, (choose columns), click
Import, read the result; bad rows keep the file out unless asked; Cancel rolls back; agents are
refused. The importer itself is proven by the integration tests; these prove the dialog."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Invoice, InvoiceLine, Store
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security.roles import Identity
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, write_csv

pytestmark = pytest.mark.gui

GOLDEN_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "zoho_golden.csv"
HISTORY_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                  "UnitPrice", "CustomerID", "Country"]  # fmt: skip


@pytest.fixture
def laptop(tmp_path, make_window):
    path = tmp_path / "laptop.sqlite"
    engine = open_local_database(path)
    window = make_window(engine, path)
    yield window, engine
    engine.dispose()


def counts(engine) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) for t in (Store, Invoice, InvoiceLine)
        )


def open_dialog(window, qtbot, monkeypatch, *files: Path):
    """File → Import, then "Add files…" answered by the (OS) file chooser with ``files``."""
    window.import_action.trigger()
    dialog = window.import_dialog
    qtbot.waitExposed(dialog)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(f) for f in files], ""))
    )
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    return dialog


def click_import(dialog, qtbot) -> None:
    assert dialog.import_button.isEnabled()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.worker is None and not dialog.progress.isVisible(), timeout=30_000
    )


def test_zoho_export_imported_and_views_told(laptop, qtbot, monkeypatch):
    window, engine = laptop
    heard = []
    window.ctx.runner.changed.connect(heard.append)
    dialog = open_dialog(window, qtbot, monkeypatch, GOLDEN_CSV)
    assert dialog.file_paths() == [GOLDEN_CSV]
    assert not dialog.columns_box.isVisible()  # a Zoho export names its own columns
    click_import(dialog, qtbot)
    assert dialog.message.text().startswith("Imported 6 lines")
    assert "zoho_golden.csv: 8 rows read, 6 imported" in dialog.result.toPlainText()
    assert not dialog.report_button.isVisible()
    assert counts(engine) == (2, 3, 6)
    assert any(c.touches("invoice_line") for c in heard)
    qtbot.waitUntil(lambda: "3 invoices" in window.counts_label.text(), timeout=10_000)
    # importing the same export again changes nothing (idempotent), and says so
    click_import(dialog, qtbot)
    assert counts(engine) == (2, 3, 6)
    assert dialog.cancel_button.text() == "Close"
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_bad_rows_keep_the_file_out_until_asked(laptop, qtbot, monkeypatch, tmp_path):
    window, engine = laptop
    rows = [list(r) for r in ROWS]
    rows[1][HEADER.index("Quantity")] = "many"
    bad = tmp_path / "export.csv"
    write_csv(bad, HEADER, rows)
    dialog = open_dialog(window, qtbot, monkeypatch, bad)
    click_import(dialog, qtbot)
    assert "1 row(s) were rejected, so their file was not imported" in dialog.message.text()
    assert dialog.report_button.isVisible()
    assert counts(engine) == (0, 0, 0)  # all-or-nothing: nothing from the file was saved
    with dialog.summary.error_report.open(encoding="utf-8-sig") as fh:
        report = list(csv.DictReader(fh))
    assert [(r["row"], r["column"], r["value"]) for r in report] == [("3", "Quantity", "many")]
    dialog.skip_bad.setChecked(True)
    click_import(dialog, qtbot)
    assert "bad row(s) were left out" in dialog.message.text()
    assert counts(engine)[2] == 5


def test_other_history_with_guessed_columns(laptop, qtbot, monkeypatch, tmp_path):
    window, engine = laptop
    path = tmp_path / "history.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HISTORY_HEADER)
        w.writerow(["536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26", "2.55",
                    "17850", "United Kingdom"])  # fmt: skip
        w.writerow(["536366", "22633", "HAND WARMER", "6", "2010-12-01 08:28", "1.85", "17851",
                    "United Kingdom"])  # fmt: skip
    dialog = open_dialog(window, qtbot, monkeypatch, path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("history"))
    assert dialog.columns_box.isVisible()
    qtbot.waitUntil(lambda: dialog.header == HISTORY_HEADER, timeout=10_000)
    assert dialog.columns() == {
        "store": "CustomerID",
        "product": "StockCode",
        "date": "InvoiceDate",
        "quantity": "Quantity",
        "price": "UnitPrice",
        "invoice": "InvoiceNo",
        "product_name": "Description",
        "region": "Country",
    }
    quantity = dialog.role_boxes["quantity"]
    quantity.setCurrentIndex(quantity.findData(None))  # the person unsets a required column
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "Choose the column for: Quantity."
    assert dialog.worker is None and counts(engine) == (0, 0, 0)
    quantity.setCurrentIndex(quantity.findData("Quantity"))
    click_import(dialog, qtbot)
    assert counts(engine) == (2, 2, 2)


def test_cancel_rolls_the_file_back(laptop, qtbot, monkeypatch, tmp_path):
    window, engine = laptop
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HISTORY_HEADER)
        for i in range(120_000):
            w.writerow([f"5{i // 4:06d}", f"P{i % 97}", "ITEM", "2", "2010-12-01 08:26", "1.5",
                        f"{10000 + i % 50}", "UK"])  # fmt: skip
    dialog = open_dialog(window, qtbot, monkeypatch, path)
    dialog.kind.setCurrentIndex(dialog.kind.findData("history"))
    qtbot.waitUntil(lambda: dialog.header == HISTORY_HEADER, timeout=10_000)
    cancelled_at: list[int] = []

    def cancel_once(done: int, total: int, message: str) -> None:
        if not cancelled_at and dialog.worker is not None and done > 0:
            cancelled_at.append(done)
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    dialog.worker.signals.progress.connect(cancel_once)
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=60_000)
    assert cancelled_at, "the import finished before the person could cancel"
    assert dialog.message.text().startswith("Cancelled. The file being imported was rolled back")
    assert counts(engine) == (0, 0, 0)
    assert dialog.cancel_button.text() == "Close" and dialog.import_button.isEnabled()


def test_an_agent_may_not_import(laptop, qtbot, monkeypatch):
    window, engine = laptop
    window.ctx.identity = Identity(username="asha", role=Role.AGENT)
    dialog = open_dialog(window, qtbot, monkeypatch, GOLDEN_CSV)
    click_import(dialog, qtbot)
    assert "asha (agent) may not import data" in dialog.message.text()
    assert counts(engine) == (0, 0, 0)
