"""File → Import sales history: Zoho Books invoice exports or any sales history, from the GUI.

The same importer as ``mangalm import invoices|history`` (one pipeline, one set of rules), run on
the single writer with progress and Cancel; the dialog shows the importer's own summary lines and
opens the error report of rejected rows. Each file is all-or-nothing, so Cancel or a bad file
never leaves half an import behind. Afterwards the change bus tells every view — and the
forecast refresher, which updates the suggested orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..domain.changes import EVERYTHING, Changes
from ..domain.errors import UserError
from ..imports.history import ROLES_REQUIRED
from .context import AppContext
from .errors import describe
from .workers import Worker, Written

ZOHO = "zoho"
HISTORY = "history"
DETECT = "Detect automatically"
DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d %b %Y", "%m/%d/%Y %H:%M")
FILE_FILTER = "Sales files (*.csv *.csv.gz *.gz *.xlsx);;All files (*)"

ROLE_LABELS = {
    "store": "Store (customer) id *",
    "product": "Product code *",
    "date": "Date *",
    "quantity": "Quantity *",
    "price": "Unit price",
    "invoice": "Invoice number",
    "product_name": "Product name",
    "store_name": "Store name",
    "region": "Region",
}
ROLE_ALIASES = {
    "store": ("customerid", "customer", "customercode", "store", "storecode", "storeid"),
    "product": ("stockcode", "productcode", "productid", "sku", "itemcode", "product"),
    "date": ("invoicedate", "date", "orderdate"),
    "quantity": ("quantity", "qty", "units"),
    "price": ("unitprice", "price", "rate"),
    "invoice": ("invoiceno", "invoicenumber", "invoice", "invoiceid"),
    "product_name": ("description", "productname", "itemname"),
    "store_name": ("customername", "storename"),
    "region": ("region", "country", "area"),
}
NOT_USED = "(not in this file)"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_columns(header: list[str]) -> dict[str, str]:
    """The column each role most likely is, by common export names (the user can change it)."""
    by_norm = {_norm(h): h for h in header}
    found: dict[str, str] = {}
    for role, aliases in ROLE_ALIASES.items():
        for alias in aliases:
            if alias in by_norm and by_norm[alias] not in found.values():
                found[role] = by_norm[alias]
                break
    return found


@dataclass(frozen=True)
class ImportRequest:
    """What the user chose in the dialog; everything the importer needs."""

    kind: str
    files: tuple[Path, ...]
    columns: tuple[tuple[str, str], ...] = ()
    date_format: str | None = None
    skip_bad_rows: bool = False


def run_import_request(task, engine, request: ImportRequest, identity):  # noqa: ANN001, ANN201
    """Worker body: permission, options, then the same service functions the CLI calls."""
    from ..imports.history import import_history
    from ..imports.pipeline import ImportOptions
    from ..imports.report import default_error_report
    from ..imports.zoho import import_invoices

    options = ImportOptions(
        skip_bad_rows=request.skip_bad_rows,
        date_format=request.date_format,
        error_report=default_error_report(),
    )
    if request.kind == ZOHO:
        summary = import_invoices(engine, request.files, options, task, identity=identity)
    else:
        summary = import_history(
            engine, request.files, dict(request.columns), options, task, identity=identity
        )
    return Written(summary, EVERYTHING if summary.imported else Changes.of())


def read_header(_task, path: Path) -> list[str]:  # noqa: ANN001
    from ..imports.source import open_source

    return list(open_source(path).header)


class ImportDialog(QDialog):
    """Choose files (and columns), import with progress and Cancel, read what happened."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Import sales history")
        self.setObjectName("importDialog")
        self.resize(640, 560)
        self.worker: Worker | None = None
        self.summary = None  # ImportSummary of the last run
        self.header: list[str] = []

        self.kind = QComboBox(self)
        self.kind.addItem("Zoho Books invoice export", ZOHO)
        self.kind.addItem("Other sales history (choose the columns)", HISTORY)
        self.files = QListWidget(self)
        self.files.setObjectName("importFiles")
        self.files.setMaximumHeight(90)
        self.add_button = QPushButton("&Add files…", self)
        self.remove_button = QPushButton("&Remove", self)
        file_buttons = QVBoxLayout()
        file_buttons.addWidget(self.add_button)
        file_buttons.addWidget(self.remove_button)
        file_buttons.addStretch(1)
        file_row = QHBoxLayout()
        file_row.addWidget(self.files, 1)
        file_row.addLayout(file_buttons)

        self.columns_box = QGroupBox("Columns of the file", self)
        columns_form = QFormLayout(self.columns_box)
        self.role_boxes: dict[str, QComboBox] = {}
        for role, label in ROLE_LABELS.items():
            box = QComboBox(self.columns_box)
            box.setObjectName(f"column_{role}")
            self.role_boxes[role] = box
            columns_form.addRow(label, box)

        self.date_format = QComboBox(self)
        self.date_format.setEditable(True)
        self.date_format.addItems([DETECT, *DATE_FORMATS])
        self.date_format.setToolTip(
            "Dates are recognised automatically; choose a format only when they are ambiguous "
            "(e.g. 03/04/2025)."
        )
        self.skip_bad = QCheckBox(
            "Import a file even if some rows are bad (they are listed in the error report)", self
        )
        form = QFormLayout()
        form.addRow("&Kind", self.kind)
        form.addRow("Files", file_row)
        form.addRow("&Dates", self.date_format)
        form.addRow("", self.skip_bad)

        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.message = QLabel("Add the exported files to import.", self)
        self.message.setObjectName("importMessage")
        self.message.setWordWrap(True)
        self.result = QPlainTextEdit(self)
        self.result.setObjectName("importResult")
        self.result.setReadOnly(True)
        self.result.setPlaceholderText("What was imported, skipped or rejected appears here.")

        self.report_button = QPushButton("Open error &report", self)
        self.report_button.setVisible(False)
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton(
            "&Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.report_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.columns_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.result, 1)
        layout.addLayout(bottom)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button.clicked.connect(self._remove_selected)
        self.import_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel_or_close)
        self.report_button.clicked.connect(self.open_report)
        self._kind_changed()

    # ---- choosing ---------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        self.columns_box.setVisible(self.kind.currentData() == HISTORY)
        self._update_buttons()

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Files to import", "", FILE_FILTER)
        self.add_files([Path(n) for n in names])

    def add_files(self, paths: list[Path]) -> None:
        known = set(self.file_paths())
        for path in paths:
            if path not in known:
                self.files.addItem(str(path))
                known.add(path)
        if paths and not self.header:
            self._load_header(self.file_paths()[0])
        self._files_changed()

    def file_paths(self) -> list[Path]:
        return [Path(self.files.item(i).text()) for i in range(self.files.count())]

    def _remove_selected(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
        if not self.files.count():
            self.header = []
            self._fill_columns([])
        self._files_changed()

    def _load_header(self, path: Path) -> None:
        self.ctx.runner.submit(
            read_header,
            path,
            on_done=self._fill_columns,
            on_error=lambda exc: self.message.setText(describe(exc).message),
            name="reading the file's columns",
        )

    def _fill_columns(self, header: list[str]) -> None:
        self.header = list(header)
        guess = guess_columns(self.header)
        for role, box in self.role_boxes.items():
            box.clear()
            box.addItem(NOT_USED, None)
            for name in self.header:
                box.addItem(name, name)
            if role in guess:
                box.setCurrentIndex(box.findData(guess[role]))
        self._update_buttons()

    def columns(self) -> dict[str, str]:
        return {
            role: box.currentData()
            for role, box in self.role_boxes.items()
            if box.currentData() is not None
        }

    def request(self) -> ImportRequest:
        """What to import; raises :class:`UserError` with what is missing."""
        files = tuple(self.file_paths())
        if not files:
            raise UserError("Add at least one file to import.")
        kind = self.kind.currentData()
        columns: tuple[tuple[str, str], ...] = ()
        if kind == HISTORY:
            chosen = self.columns()
            missing = [ROLE_LABELS[r].rstrip(" *") for r in ROLES_REQUIRED if r not in chosen]
            if missing:
                raise UserError(f"Choose the column for: {', '.join(missing)}.")
            columns = tuple(sorted(chosen.items()))
        fmt = self.date_format.currentText().strip()
        return ImportRequest(
            kind=kind,
            files=files,
            columns=columns,
            date_format=None if fmt in ("", DETECT) else fmt,
            skip_bad_rows=self.skip_bad.isChecked(),
        )

    def _files_changed(self) -> None:
        """The person changed the file list: say what happens next (only then, so a result or
        an error already shown is never overwritten by a late background answer)."""
        n = self.files.count()
        self.message.setText(
            f"{n} file(s) chosen. Click Import; each file is saved whole or not at all."
            if n
            else "Add the exported files to import."
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.worker is not None
        self.import_button.setEnabled(not busy and self.files.count() > 0)
        for widget in (
            self.kind,
            self.add_button,
            self.remove_button,
            self.date_format,
            self.skip_bad,
            self.columns_box,
        ):
            widget.setEnabled(not busy)
        self.cancel_button.setText("Cancel" if busy else "Close")

    # ---- importing --------------------------------------------------------------------------
    def start(self) -> None:
        try:
            request = self.request()
        except UserError as exc:
            self.message.setText(exc.message)
            return
        self.summary = None
        self.result.clear()
        self.report_button.setVisible(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.message.setText("Importing…")
        self.worker = self.ctx.runner.submit(
            run_import_request,
            self.ctx.engine,
            request,
            self.ctx.identity,
            write=True,
            on_done=self._finished,
            on_error=self._failed,
            on_progress=self._progress,
            on_cancelled=self._cancelled,
            name="importing sales history",
        )
        self._update_buttons()

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        if message:
            self.message.setText(message)

    def _ended(self) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self._update_buttons()

    def _finished(self, done: Written) -> None:
        self._ended()
        summary = self.summary = done.value
        self.result.setPlainText("\n".join(summary.lines()))
        if summary.file_errors:
            self.message.setText("Some files could not be read; nothing from them was saved.")
        elif summary.rejected and not summary.all_committed:
            self.message.setText(
                f"{summary.rejected:,} row(s) were rejected, so their file was not imported. "
                "Fix them (see the error report) or tick “Import a file even if some rows are "
                "bad”, then import again."
            )
        elif summary.rejected:
            self.message.setText(
                f"Imported; {summary.rejected:,} bad row(s) were left out (see the error report)."
            )
        else:
            self.message.setText(f"Imported {summary.imported:,} lines.")
        self.report_button.setVisible(summary.error_report is not None)
        if summary.imported:
            self.ctx.status(f"Imported {summary.imported:,} invoice lines")

    def _failed(self, exc: BaseException) -> None:
        self._ended()
        report = describe(exc, "importing")
        self.message.setText(f"{report.message} {report.hint}".strip())

    def _cancelled(self) -> None:
        self._ended()
        self.message.setText(
            "Cancelled. The file being imported was rolled back; files finished before it "
            "stay imported."
        )
        self.ctx.runner.changed.emit(EVERYTHING)  # earlier files of the run may have landed

    def cancel_or_close(self) -> None:
        if self.worker is not None:
            self.message.setText("Cancelling…")
            self.worker.cancel()
        else:
            self.reject()

    def reject(self) -> None:  # Esc / window close while importing: cancel first
        if self.worker is not None:
            self.cancel_or_close()
            return
        super().reject()

    def open_report(self) -> None:
        if self.summary is not None and self.summary.error_report is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.summary.error_report)))
