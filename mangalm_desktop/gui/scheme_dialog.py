"""New scheme dialog (managers; a standalone laptop): kind, scope, validity, where it applies,
stacking and its rules. The write runs on the writer; every problem comes back in words from
the service (``schemes.service.create_scheme``) and is shown in the dialog, nothing saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.changes import Changes
from ..domain.errors import UserError
from ..schemes.pricing import SchemeKind
from ..schemes.service import RuleInput, SchemeInfo, SchemeInput, create_scheme
from ..sync.targets import manager_target
from .context import AppContext
from .errors import show_error

KINDS = [
    (SchemeKind.PERCENT, "% off"),
    (SchemeKind.SLAB, "Quantity slabs (% off from a quantity on)"),
    (SchemeKind.FREE_GOODS, "Buy X get Y free"),
]
SCOPES = [
    ("all", "All products"),
    ("product", "Product (SKU)"),
    ("brand", "Brand"),
    ("category", "Category"),
]
RULE_HEADERS = ["From qty (buy X)", "Discount %", "Free qty (get Y)", "Free product SKU"]


def _date(edit: QDateEdit) -> dt.date:
    d = edit.date()
    return dt.date(d.year(), d.month(), d.day())


def _create(engine, identity, inp: SchemeInput) -> Changes:  # noqa: ANN001
    with manager_target(engine) as (target, _central):
        info: SchemeInfo = create_scheme(target, identity, inp)
    return Changes.of("scheme", "scheme_rule", ids=(info.id,))


class SchemeDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schemeDialog")
        self.setWindowTitle("New scheme")
        self.ctx = ctx
        self.busy = False
        self.saved = False
        self.code = QLineEdit(self)
        self.code.setObjectName("schemeCode")
        self.code.setPlaceholderText("e.g. DIWALI-ATTA")
        self.name = QLineEdit(self)
        self.name.setObjectName("schemeName")
        self.kind = QComboBox(self)
        self.kind.setObjectName("schemeKind")
        for kind, text in KINDS:
            self.kind.addItem(text, kind.value)
        self.scope = QComboBox(self)
        self.scope.setObjectName("schemeScope")
        for key, text in SCOPES:
            self.scope.addItem(text, key)
        self.scope_value = QLineEdit(self)
        self.scope_value.setObjectName("schemeScopeValue")
        self.scope_value.setPlaceholderText("SKU, brand or category")
        today = ctx.today()
        self.valid_from = QDateEdit(QDate(today.year, today.month, today.day), self)
        self.valid_from.setObjectName("validFrom")
        self.valid_from.setCalendarPopup(True)
        self.valid_from.setDisplayFormat("dd MMM yyyy")
        self.has_end = QCheckBox("Ends on", self)
        self.has_end.setObjectName("hasEnd")
        self.valid_to = QDateEdit(QDate(today.year, today.month, today.day).addMonths(1), self)
        self.valid_to.setObjectName("validTo")
        self.valid_to.setCalendarPopup(True)
        self.valid_to.setDisplayFormat("dd MMM yyyy")
        self.valid_to.setEnabled(False)
        self.regions = QLineEdit(self)
        self.regions.setObjectName("schemeRegions")
        self.regions.setPlaceholderText("comma-separated; empty = all regions")
        self.classes = QLineEdit(self)
        self.classes.setObjectName("schemeClasses")
        self.classes.setPlaceholderText("e.g. A, B; empty = all store classes")
        self.stackable = QCheckBox("Stacks with other schemes", self)
        self.stackable.setObjectName("schemeStackable")
        self.rules = QTableWidget(1, len(RULE_HEADERS), self)
        self.rules.setObjectName("schemeRules")
        self.rules.setHorizontalHeaderLabels(RULE_HEADERS)
        self.rules.horizontalHeader().setStretchLastSection(True)
        self.add_rule = QPushButton("Add &rule", self)
        self.add_rule.setObjectName("addRule")
        self.notes = QLineEdit(self)
        self.notes.setObjectName("schemeNotes")
        self.error = QLabel("", self)
        self.error.setObjectName("schemeError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("saveScheme")

        scope_row = QHBoxLayout()
        scope_row.addWidget(self.scope)
        scope_row.addWidget(self.scope_value, 1)
        dates = QHBoxLayout()
        dates.addWidget(self.valid_from)
        dates.addWidget(self.has_end)
        dates.addWidget(self.valid_to)
        dates.addStretch(1)
        form = QFormLayout()
        form.addRow("&Code", self.code)
        form.addRow("&Name", self.name)
        form.addRow("&Kind", self.kind)
        # a row holding a layout gets no buddy from addRow: Qt would show the "&" itself
        on_label = QLabel("&On", self)
        on_label.setBuddy(self.scope)
        from_label = QLabel("&Valid from", self)
        from_label.setBuddy(self.valid_from)
        form.addRow(on_label, scope_row)
        form.addRow(from_label, dates)
        form.addRow("Re&gions", self.regions)
        form.addRow("Store c&lasses", self.classes)
        form.addRow("", self.stackable)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Rules (a % off has one; slabs one per step; buy X get Y):", self))
        layout.addWidget(self.rules)
        layout.addWidget(self.add_rule)
        notes = QFormLayout()
        notes.addRow("No&tes", self.notes)
        layout.addLayout(notes)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(720, 560)

        self.has_end.toggled.connect(self.valid_to.setEnabled)
        self.add_rule.clicked.connect(lambda: self.rules.setRowCount(self.rules.rowCount() + 1))
        self.buttons.accepted.connect(lambda: self.save())
        self.buttons.rejected.connect(self.reject)

    def _cell(self, row: int, col: int) -> str:
        item = self.rules.item(row, col)
        return item.text().strip() if item is not None else ""

    def _rules(self) -> list[RuleInput]:
        out = []
        for row in range(self.rules.rowCount()):
            cells = [self._cell(row, c) for c in range(len(RULE_HEADERS))]
            if not any(cells):
                continue
            try:
                min_qty = int(cells[0] or "0")
                pct = Decimal(cells[1] or "0")
                free = int(cells[2] or "0")
            except (ValueError, InvalidOperation):
                raise UserError(
                    f"Rule {row + 1}: quantities must be whole numbers and the discount a number."
                ) from None
            out.append(RuleInput(min_qty, pct, free, cells[3] or None))
        return out

    def scheme_input(self) -> SchemeInput:
        scope, value = self.scope.currentData(), self.scope_value.text().strip() or None
        return SchemeInput(
            code=self.code.text(),
            name=self.name.text(),
            kind=self.kind.currentData(),
            valid_from=_date(self.valid_from),
            valid_to=_date(self.valid_to) if self.has_end.isChecked() else None,
            product=value if scope == "product" else None,
            brand=value if scope == "brand" else None,
            category=value if scope == "category" else None,
            regions=self.regions.text().split(","),
            store_classes=self.classes.text().split(","),
            stackable=self.stackable.isChecked(),
            rules=self._rules(),
            notes=self.notes.text(),
        )

    def save(self) -> None:
        if self.busy:
            return
        try:
            inp = self.scheme_input()
        except UserError as exc:
            self.error.setText(str(exc))
            return
        self.busy = True
        self.save_button.setEnabled(False)
        engine, who = self.ctx.engine, self.ctx.identity
        self.ctx.runner.submit(
            lambda _c: _create(engine, who, inp),
            write=True,
            on_done=self._saved,
            on_error=self._failed,
            name="creating a scheme",
        )

    def _saved(self, _changes: Changes) -> None:
        self.busy = False
        self.saved = True
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.save_button.setEnabled(True)
        if isinstance(exc, UserError):
            self.error.setText(str(exc))
        else:
            show_error(self, exc, "creating the scheme")
