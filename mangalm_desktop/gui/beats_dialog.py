"""Beats (Stores ▸ Beats…): managers create beats, set their days and put stores on them in
visit order. A face over :mod:`mangalm_desktop.beats.service`: every read and write runs
through ``ctx.runner`` (writes on the one writer), and the service checks who may do what.

Left: the beats (name, agent, days, stores) and a line to make a new one. Right: the chosen
beat — name, visit days, its stores in visit order (Move up / Move down / Remove) and the
agent's other stores to add (several at once, in the order selected).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..beats import days as weekdays
from ..beats import service
from .context import AppContext
from .errors import show_error
from .tablemodels import RIGHT, Column, RowsModel


class BeatsDialog(QDialog):
    """Create, rename, delete beats; set their days; assign stores in visit order."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Beats")
        self.setObjectName("beatsDialog")
        self.resize(980, 600)
        self.beats: list[service.BeatInfo] = []
        self.detail: service.BeatDetail | None = None
        self.candidates: list[service.StoreChoice] = []
        self.agents: list[service.AgentChoice] = []
        self._request = 0
        self._keep_row: int | None = None  # the stop to select after a move
        can = service.may_manage(ctx.identity)

        # ---- left: the beats, and a new one
        left = QWidget(self)
        lv = QVBoxLayout(left)
        self.model = RowsModel(
            [
                Column("name", "Beat", lambda b: b.name),
                Column("agent", "Agent", lambda b: b.agent_code),
                Column("days", "Days", lambda b: b.days_text),
                Column("stores", "Stores", lambda b: str(b.stores), RIGHT),
            ],
            self,
        )
        self.table = QTableView(left)
        self.table.setObjectName("beatsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        lv.addWidget(self.table, 1)
        new_box = QGroupBox("New beat", left)
        nb = QGridLayout(new_box)
        self.new_name = QLineEdit(new_box)
        self.new_name.setObjectName("newBeatName")
        self.new_name.setPlaceholderText("Name, e.g. A01 Kothrud Mon")
        self.new_agent = QComboBox(new_box)
        self.new_agent.setObjectName("newBeatAgent")
        self.create_button = QPushButton("&Create beat", new_box)
        self.create_button.setObjectName("createBeat")
        nb.addWidget(QLabel("Name:", new_box), 0, 0)
        nb.addWidget(self.new_name, 0, 1)
        nb.addWidget(QLabel("Agent:", new_box), 1, 0)
        nb.addWidget(self.new_agent, 1, 1)
        nb.addWidget(self.create_button, 2, 1)
        lv.addWidget(new_box)
        new_box.setVisible(can)

        # ---- right: the chosen beat
        right = QWidget(self)
        rv = QVBoxLayout(right)
        self.heading = QLabel("Choose a beat on the left.", right)
        self.heading.setObjectName("beatHeading")
        self.heading.setWordWrap(True)
        rv.addWidget(self.heading)
        name_row = QHBoxLayout()
        self.name_edit = QLineEdit(right)
        self.name_edit.setObjectName("beatName")
        self.rename_button = QPushButton("&Rename", right)
        self.rename_button.setObjectName("renameBeat")
        self.delete_button = QPushButton("&Delete beat…", right)
        self.delete_button.setObjectName("deleteBeat")
        name_row.addWidget(QLabel("Name:", right))
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.rename_button)
        name_row.addWidget(self.delete_button)
        rv.addLayout(name_row)
        days_row = QHBoxLayout()
        days_row.addWidget(QLabel("Visit days:", right))
        self.day_boxes: list[QCheckBox] = []
        for name in weekdays.NAMES:
            box = QCheckBox(name, right)
            box.setObjectName(f"day{name}")
            box.toggled.connect(lambda _on: self._days_changed())
            self.day_boxes.append(box)
            days_row.addWidget(box)
        self.days_button = QPushButton("&Save days", right)
        self.days_button.setObjectName("saveDays")
        days_row.addWidget(self.days_button)
        days_row.addStretch(1)
        rv.addLayout(days_row)

        lists = QHBoxLayout()
        on_box = QGroupBox("Stores in visit order", right)
        ob = QVBoxLayout(on_box)
        self.stops = QListWidget(on_box)
        self.stops.setObjectName("beatStops")
        self.stops.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        ob.addWidget(self.stops, 1)
        moves = QHBoxLayout()
        self.up_button = QPushButton("Move &up", on_box)
        self.up_button.setObjectName("moveUp")
        self.down_button = QPushButton("Move do&wn", on_box)
        self.down_button.setObjectName("moveDown")
        self.remove_button = QPushButton("Re&move", on_box)
        self.remove_button.setObjectName("removeStop")
        for b in (self.up_button, self.down_button, self.remove_button):
            moves.addWidget(b)
        ob.addLayout(moves)
        lists.addWidget(on_box, 1)
        add_box = QGroupBox("The agent's other stores", right)
        ab = QVBoxLayout(add_box)
        self.others = QListWidget(add_box)
        self.others.setObjectName("otherStores")
        self.others.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.others.setToolTip("Stores on another beat show it in [brackets]; adding moves them")
        ab.addWidget(self.others, 1)
        self.add_button = QPushButton("&Add to beat", add_box)
        self.add_button.setObjectName("addStores")
        ab.addWidget(self.add_button)
        lists.addWidget(add_box, 1)
        rv.addLayout(lists, 1)
        self.state = QLabel("", right)
        self.state.setObjectName("beatsState")
        rv.addWidget(self.state)
        add_box.setVisible(can)
        for w in (self.rename_button, self.delete_button, self.days_button):
            w.setVisible(can)
        for w in (self.up_button, self.down_button, self.remove_button):
            w.setVisible(can)
        self.name_edit.setReadOnly(not can)
        for box in self.day_boxes:
            box.setEnabled(can)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        outer = QVBoxLayout(self)
        outer.addWidget(split)

        self.table.selectionModel().currentRowChanged.connect(
            lambda cur, _p: self._chosen(cur.row())
        )
        self.create_button.clicked.connect(lambda: self.create_beat())
        self.new_name.returnPressed.connect(lambda: self.create_beat())
        self.rename_button.clicked.connect(lambda: self.rename())
        self.name_edit.returnPressed.connect(lambda: self.rename())
        self.delete_button.clicked.connect(lambda: self.delete())
        self.days_button.clicked.connect(lambda: self.save_days())
        self.add_button.clicked.connect(lambda: self.add_selected())
        self.up_button.clicked.connect(lambda: self.move_stop(-1))
        self.down_button.clicked.connect(lambda: self.move_stop(1))
        self.remove_button.clicked.connect(lambda: self.remove())
        self._enable()
        self.load_agents()
        self.load()

    def _failed(self, what: str) -> Callable[[BaseException], None]:
        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(self):
                show_error(self, exc, what)

        return failed

    # ---- reading

    def load_agents(self) -> None:
        who = self.ctx.identity

        def done(agents: list[service.AgentChoice]) -> None:
            if not shiboken6.isValid(self.new_agent):
                return
            self.agents = list(agents)
            self.new_agent.clear()
            self.new_agent.addItems([a.label for a in self.agents])

        self.ctx.runner.submit(
            lambda _t, engine: service.beat_agents(engine, who),
            self.ctx.engine,
            on_done=done,
            name="beat agents",
        )

    def load(self, select: uuid.UUID | None = None) -> None:
        """The beat list; then ``select`` (or the beat shown before) is chosen again."""
        who = self.ctx.identity
        keep = select or (self.detail.beat.id if self.detail else None)

        def done(beats: list[service.BeatInfo]) -> None:
            if not shiboken6.isValid(self.table):
                return
            self.beats = list(beats)
            self.model.set_rows(self.beats)
            ids = [b.id for b in self.beats]
            row = ids.index(keep) if keep in ids else 0
            if self.beats:
                self.table.selectRow(row)
                self.load_beat(ids[row])  # also when the selected row stayed the same
            else:
                self._show(None)
            n = len(self.beats)
            self.state.setText(f"{n} beat{'s' if n != 1 else ''}")

        self.ctx.runner.submit(
            lambda _t, engine: service.list_beats(engine, who),
            self.ctx.engine,
            on_done=done,
            on_error=self._failed("reading the beats"),
            name="beats",
        )

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.beats):
            self.load_beat(self.beats[row].id)

    def load_beat(self, beat_id: uuid.UUID) -> None:
        who = self.ctx.identity
        self._request += 1
        request = self._request

        def read(_t: Any, engine: Any) -> tuple[service.BeatDetail, list[service.StoreChoice]]:
            detail = service.show_beat(engine, who, beat_id)
            return detail, service.stores_of_agent(engine, who, detail.beat.agent_id)

        def done(result: tuple[service.BeatDetail, list[service.StoreChoice]]) -> None:
            if request == self._request and shiboken6.isValid(self.stops):
                self._show(result[0], result[1])

        self.ctx.runner.submit(
            read,
            self.ctx.engine,
            on_done=done,
            on_error=self._failed("reading the beat"),
            name="beat",
        )

    def _show(
        self, detail: service.BeatDetail | None, candidates: list[service.StoreChoice] | None = None
    ) -> None:
        self.detail = detail
        self.stops.clear()
        self.others.clear()
        if detail is None:
            self.heading.setText("No beat yet: make one with New beat.")
            self.name_edit.clear()
            self._set_days(0)
            self._enable()
            return
        b = detail.beat
        self.heading.setText(
            f"<b>{b.name}</b> — {b.agent_code} {b.agent_name}; visited {b.days_text}; "
            f"{len(detail.stops)} store{'s' if len(detail.stops) != 1 else ''}"
        )
        self.name_edit.setText(b.name)
        self._set_days(b.visit_days)
        for stop in detail.stops:
            where = f", {stop.locality}" if stop.locality else ""
            item = QListWidgetItem(f"{stop.position}. {stop.store_name}{where} ({stop.store_code})")
            item.setData(Qt.ItemDataRole.UserRole, stop.store_id)
            self.stops.addItem(item)
        if self._keep_row is not None and self.stops.count():
            self.stops.setCurrentRow(min(self._keep_row, self.stops.count() - 1))
        self._keep_row = None
        self.candidates = [c for c in (candidates or []) if c.beat_id != b.id]
        for c in self.candidates:
            item = QListWidgetItem(c.label)
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.others.addItem(item)
        self._enable()

    def _set_days(self, bits: int) -> None:
        for i, box in enumerate(self.day_boxes):
            box.blockSignals(True)
            box.setChecked(bool(bits & (1 << i)))
            box.blockSignals(False)
        self._days_changed()

    def chosen_days(self) -> int:
        return sum(1 << i for i, box in enumerate(self.day_boxes) if box.isChecked())

    def _days_changed(self) -> None:
        self.days_button.setEnabled(
            self.detail is not None and self.chosen_days() != self.detail.beat.visit_days
        )

    def _enable(self) -> None:
        has = self.detail is not None
        for w in (self.rename_button, self.delete_button, self.add_button, self.remove_button):
            w.setEnabled(has)
        self.up_button.setEnabled(has)
        self.down_button.setEnabled(has)
        self._days_changed()

    # ---- writing (each on the writer; the answer reloads the list)

    def _write(self, what: str, fn: Any, *args: Any, select: bool = True) -> None:
        def done(result: object) -> None:
            if not shiboken6.isValid(self.table):
                return
            beat = getattr(result, "beat", None)
            self.load(select=beat.id if (select and beat is not None) else None)

        self.ctx.runner.submit(
            lambda _t, engine: fn(engine, self.ctx.identity, *args),
            self.ctx.engine,
            write=True,
            on_done=done,
            on_error=self._failed(what),
            name=what,
        )

    def create_beat(self) -> None:
        index = self.new_agent.currentIndex()
        if not 0 <= index < len(self.agents):
            show_error(self, ValueError("Choose the agent whose beat it is."), "creating a beat")
            return
        agent = self.agents[index].id
        name = self.new_name.text()

        def create(engine: Any, who: Any) -> service.BeatDetail:
            return service.create_beat(engine, who, name=name, agent=agent)

        self._write("creating a beat", create)
        self.new_name.clear()

    def rename(self) -> None:
        if self.detail is not None and self.name_edit.text().strip() != self.detail.beat.name:
            self._write(
                "renaming the beat", service.rename_beat, self.detail.beat.id, self.name_edit.text()
            )

    def save_days(self) -> None:
        if self.detail is not None:
            self._write(
                "saving the visit days",
                service.set_visit_days,
                self.detail.beat.id,
                self.chosen_days(),
            )

    def delete(self) -> None:
        if self.detail is None:
            return
        b = self.detail.beat
        answer = QMessageBox.question(
            self,
            "Delete beat",
            f"Delete the beat {b.name!r}? Its {b.stores} stores stay {b.agent_code}'s, on no beat.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.detail = None
            self._write("deleting the beat", service.delete_beat, b.id, select=False)

    def _stop_ids(self) -> list[uuid.UUID]:
        return [
            self.stops.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.stops.count())
        ]

    def add_selected(self) -> None:
        if self.detail is None:
            return
        rows = sorted(self.others.row(i) for i in self.others.selectedItems())
        chosen = [self.candidates[r].id for r in rows if r < len(self.candidates)]
        if chosen:
            self._write(
                "adding stores to the beat", service.assign_stores, self.detail.beat.id, chosen
            )

    def move_stop(self, step: int) -> None:
        row = self.stops.currentRow()
        ids = self._stop_ids()
        if self.detail is None or not 0 <= row < len(ids) or not 0 <= row + step < len(ids):
            return
        ids[row], ids[row + step] = ids[row + step], ids[row]
        self._write_order(ids, keep_row=row + step)

    def remove(self) -> None:
        row = self.stops.currentRow()
        ids = self._stop_ids()
        if self.detail is None or not 0 <= row < len(ids):
            return
        del ids[row]
        self._write_order(ids, keep_row=min(row, len(ids) - 1))

    def _write_order(self, ids: list[uuid.UUID], keep_row: int) -> None:
        assert self.detail is not None
        beat_id = self.detail.beat.id

        def write(engine: Any, who: Any) -> service.BeatDetail:
            return service.assign_stores(engine, who, beat_id, ids, replace=True)

        def done(_result: object) -> None:
            if shiboken6.isValid(self.stops):
                self._keep_row = keep_row
                self.load(select=beat_id)

        self.ctx.runner.submit(
            lambda _t, engine: write(engine, self.ctx.identity),
            self.ctx.engine,
            write=True,
            on_done=done,
            on_error=self._failed("changing the visit order"),
            name="visit order",
        )
