"""The Orders list model: lazy (canFetchMore/fetchMore), one page per worker call.

Only the first page is read before the first paint (an index walk); the count, which needs a
scan, is asked for after it, and Qt asks for more pages as the user scrolls. A new filter bumps
``generation`` so answers for an older filter are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Signal
from sqlalchemy import Engine

from ..domain import formatting as fmt
from ..orders import entry
from ..orders.queries import OrderFilter, OrderRow
from ..security.roles import Identity
from .tablemodels import LEFT, RIGHT, Column, RowsModel
from .workers import TaskRunner

Index = QModelIndex | QPersistentModelIndex
PAGE = 200

STATE_TEXT = {
    "draft": "Draft",
    "submitted": "Submitted",
    "synced": "Synced",
    "sent_to_zoho": "Sent to Zoho",
    "invoiced": "Invoiced",
    "cancelled": "Cancelled",
}

COLUMNS = [
    Column("number", "Number", lambda r: r.number),
    Column("date", "Date", lambda r: fmt.day(r.order_date), RIGHT),
    Column("state", "State", lambda r: STATE_TEXT.get(r.state, r.state)),
    Column("kind", "Kind", lambda r: "Return" if r.kind == "return" else "Order", LEFT),
    Column("store", "Store", lambda r: r.store_name),
    Column("agent", "Agent", lambda r: r.agent_code),
    Column("total", "Total", lambda r: fmt.money(r.total), RIGHT),
    Column("delivery", "Delivery", lambda r: fmt.day(r.requested_delivery_date), RIGHT),
]


class OrdersModel(RowsModel):
    """The rows and columns shown as :class:`RowsModel` shows them; pages arrive lazily."""

    loaded = Signal()  # a page arrived
    counted = Signal()  # the total arrived

    def __init__(
        self,
        engine: Engine,
        runner: TaskRunner,
        parent=None,  # noqa: ANN001
        *,
        identity: Callable[[], Identity | None] = lambda: None,
    ) -> None:
        """``identity``: who is signed in when a page is asked for (the list is theirs)."""
        super().__init__(COLUMNS, parent)
        self.engine = engine
        self.runner = runner
        self.identity = identity
        self.rows: list[OrderRow] = []
        self.total: int | None = None  # matching orders, once counted
        self.exhausted = False  # the last page came back short
        self.filter = OrderFilter()
        self.generation = 0
        self.loading = False

    def set_filter(self, f: OrderFilter) -> None:
        self.beginResetModel()
        self.generation += 1
        self.filter = f
        self.rows = []
        self.total = None
        self.exhausted = False
        self.loading = False
        self.endResetModel()
        self._load(0)

    def reload(self) -> None:
        self.set_filter(self.filter)

    def _load(self, offset: int) -> None:
        self.loading = True
        generation, f, engine, who = self.generation, self.filter, self.engine, self.identity()
        self.runner.submit(
            lambda _ctx: entry.page(engine, f, offset, PAGE, identity=who),
            on_done=lambda page: self._arrived(generation, offset, page),
            name="loading orders",
        )

    def _arrived(self, generation: int, offset: int, rows: list[OrderRow]) -> None:
        if generation != self.generation or offset != len(self.rows):
            return
        self.loading = False
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
        if len(rows) < PAGE:
            self.exhausted = True
            self.total = len(self.rows)
        elif offset == 0:
            f, engine, who = self.filter, self.engine, self.identity()
            self.runner.submit(
                lambda _ctx: entry.count(engine, f, identity=who),
                on_done=lambda n: self._counted(generation, n),
                name="counting orders",
            )
        self.loaded.emit()
        if self.total is not None and offset == 0:
            self.counted.emit()

    def _counted(self, generation: int, total: int) -> None:
        if generation == self.generation:
            self.total = total
            self.counted.emit()

    # ---- Qt interface -------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        if parent.isValid() or self.loading:
            return False
        return bool(self.rows) and not self.exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if self.canFetchMore(parent):
            self._load(len(self.rows))
