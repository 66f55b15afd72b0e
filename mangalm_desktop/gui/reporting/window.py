"""A report in its own top-level window, so several can sit side by side on a manager's screens."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMainWindow, QWidget

from ...reports.catalog import get_spec
from ...reports.filters import ReportFilters
from ..context import AppContext
from .panel import ReportPanel


class ReportWindow(QMainWindow):
    closed = Signal(object)

    def __init__(
        self, ctx: AppContext, name: str, filters: ReportFilters, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.panel = ReportPanel(ctx, self)
        self.setCentralWidget(self.panel)
        spec = get_spec(name)
        extra = ", ".join(v for _k, v in filters.describe() if _k not in ("From", "To"))
        self.setWindowTitle(f"{spec.title}{' — ' + extra if extra else ''} · Mangalm Reports")
        self.resize(1000, 700)
        self.panel.show_report(name, filters)

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self.panel.cancel()
        self.closed.emit(self)
        super().closeEvent(event)
