"""Schemes: the trade promotions this laptop holds (an agent's: those meant for its stores),
with their validity and rules; managers (and a standalone laptop) create and end them.

The list is small (tens of schemes) and arrives whole from a worker; creating and ending run
on the writer (docs/orders.md "Schemes").
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain import formatting as fmt
from ...domain.changes import Changes
from ...schemes.service import SchemeInfo, end_scheme, list_schemes
from ...security.roles import Permission
from ...sync.targets import manager_target
from ..context import AppContext
from ..errors import show_error
from ..latest import LatestOnly
from ..scheme_dialog import SchemeDialog
from ..tablemodels import Column, RowsModel
from .base import View

SCHEME_COLUMNS = [
    Column("code", "Code", lambda s: s.code),
    Column("name", "Scheme", lambda s: s.name),
    Column("status", "Status", lambda s: s.status),
    Column("validity", "Valid", lambda s: s.validity),
    Column("scope", "On", lambda s: s.scope),
    Column("rules", "Rules", lambda s: s.rules_text),
    Column("where", "Regions · classes", lambda s: f"{s.regions} · {s.store_classes}"),
    Column("stack", "Stacks", lambda s: "yes" if s.stackable else "no"),
]


def _end(engine, identity, code: str, last_day: dt.date) -> Changes:  # noqa: ANN001
    with manager_target(engine) as (target, _central):
        end_scheme(target, identity, code, last_day=last_day)
    return Changes.of("scheme")


class SchemesView(View):
    view_id = "schemes"
    title = "Schemes"
    icon_name = "schemes"
    description = "Trade promotions: % off, quantity slabs, buy X get Y free."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.loaded = False
        self._latest = LatestOnly(ctx.runner, "loading schemes")
        self.dialogs: list[SchemeDialog] = []
        self.show_ended = QCheckBox("Show &ended", self)
        self.show_ended.setObjectName("showEnded")
        self.count_label = QLabel("", self)
        self.new_button = QPushButton("&New scheme…", self)
        self.new_button.setObjectName("newScheme")
        self.end_button = QPushButton("E&nd today", self)
        self.end_button.setObjectName("endScheme")
        may_manage = ctx.identity is None or ctx.identity.can(Permission.MANAGE_SCHEMES)
        for button in (self.new_button, self.end_button):
            button.setVisible(may_manage)
        heading = QLabel("Schemes", self)
        heading.setObjectName("viewTitle")
        bar = QHBoxLayout()
        bar.addWidget(heading)
        bar.addSpacing(12)
        bar.addWidget(self.show_ended)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.end_button)
        buttons.addStretch(1)

        self.model = RowsModel(SCHEME_COLUMNS, self)
        self.table = QTableView(self)
        self.table.setObjectName("schemesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate([110, 200, 70, 190, 170, 240, 160]):
            self.table.horizontalHeader().resizeSection(column, width)
        self.detail = QLabel("", self)
        self.detail.setObjectName("schemeDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)

        self.show_ended.toggled.connect(lambda _on: self.refresh())
        self.new_button.clicked.connect(lambda: self.new_scheme())
        self.end_button.clicked.connect(lambda: self.end_selected())
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _prev: self._select(current.row())
        )

    def activated(self) -> None:
        if not self.loaded:
            self.loaded = True
            self.refresh()

    def refresh(self) -> None:
        engine, who, today = self.ctx.engine, self.ctx.identity, self.ctx.today()
        ended = self.show_ended.isChecked()

        def show(rows: list[SchemeInfo]) -> None:
            self.model.set_rows(rows)
            self.count_label.setText(f"{fmt.number(len(rows))} schemes")
            if rows:
                self.table.selectRow(0)
            else:
                self.detail.setText("No schemes. Managers create them; they arrive by sync.")
            self.end_button.setEnabled(bool(rows))

        self._latest.request(
            lambda _c: list_schemes(engine, who, on=today, include_ended=ended), show
        )

    def selected(self) -> SchemeInfo | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row] if 0 <= row < len(self.model.rows) else None

    def _select(self, row: int) -> None:
        if not 0 <= row < len(self.model.rows):
            return
        s: SchemeInfo = self.model.rows[row]
        rules = "".join(f"<li>{r}</li>" for r in s.rules)
        notes = f"<br>{s.notes}" if s.notes else ""
        self.detail.setText(
            f"<b>{s.code} — {s.name}</b> ({s.kind}, {s.status})<br>"
            f"Valid {s.validity} · on {s.scope} · {s.regions} · {s.store_classes} · "
            f"{'stacks with other schemes' if s.stackable else 'does not stack: the better scheme for the store applies'}"
            f"<ul>{rules}</ul>{notes}"
        )

    def new_scheme(self) -> SchemeDialog:
        dialog = SchemeDialog(self.ctx, self)
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self.dialogs.remove(dialog))
        dialog.show()
        return dialog

    def end_selected(self) -> None:
        s = self.selected()
        if s is None:
            return
        today = self.ctx.today()
        answer = QMessageBox.question(
            self,
            "End scheme",
            f"End scheme {s.code} ({s.name}) today, {fmt.day(today)}? Orders taken until "
            "today keep it; later orders no longer get it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.runner.submit(
            lambda _c: _end(self.ctx.engine, self.ctx.identity, s.code, today),
            write=True,
            on_error=lambda exc: self._failed(exc, s.code),
            name="ending a scheme",
        )

    def _failed(self, exc: BaseException, code: str) -> None:
        show_error(self, exc, f"ending scheme {code}")

    @property
    def idle(self) -> bool:
        return self._latest.idle

    def on_changes(self, changes: Changes) -> None:
        if self.loaded and changes.touches("scheme", "scheme_rule"):
            self.refresh()

    def self_test(self) -> None:
        if not self.count_label.text():  # set when the list arrives, even an empty one
            raise RuntimeError("the schemes did not arrive")
