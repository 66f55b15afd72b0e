"""The main window: navigation, menus, toolbar, shortcuts, status bar, remembered layout.

The window only hosts views; it does not know what they show. Views come from
:data:`~mangalm_desktop.gui.views.VIEW_CLASSES`, are created the first time they are shown, and
hear about data changes from the task runner's change signal.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from ..domain import formatting as fmt
from ..domain.changes import Changes
from .context import AppContext
from .resources import icon
from .settings import settings
from .store_figures import StoreFiguresKeeper
from .views import VIEW_CLASSES
from .views.base import LazyView, View, ViewEntry

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, view_classes: list[ViewEntry] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.view_classes = list(view_classes or VIEW_CLASSES)
        self.views: dict[str, View] = {}
        self.last_error = None
        self.setWindowTitle(f"Mangalm Sales — {ctx.db_path.name}")
        self.setWindowIcon(icon("app"))
        self.setObjectName("MainWindow")

        # Built in code, not from a Designer form: the first frame then needs no QUiLoader
        # (cold start, benchmarks/gui_bench.py). Navigation list | stack of views.
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.nav = QListWidget(self.splitter)
        self.nav.setObjectName("navList")
        self.nav.setMinimumWidth(150)
        self.nav.setMaximumWidth(260)
        self.nav.setFrameShape(QFrame.Shape.NoFrame)
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setAccessibleName("Navigation")
        self.stack = QStackedWidget(self.splitter)
        self.stack.setObjectName("viewStack")
        self.setCentralWidget(self.splitter)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([180, 1020])

        self.view_actions: list[QAction] = []
        for index, cls in enumerate(self.view_classes):
            item = QListWidgetItem(icon(cls.icon_name), cls.title)
            item.setData(Qt.ItemDataRole.UserRole, cls.view_id)
            item.setToolTip(f"{cls.title} (Ctrl+{index + 1})" if index < 9 else cls.title)
            item.setSizeHint(QSize(0, 36))
            self.nav.addItem(item)
            self.stack.addWidget(QWidget(self.stack))  # replaced by the view on first show
            action = QAction(icon(cls.icon_name), cls.title, self)
            action.setCheckable(True)
            if index < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, vid=cls.view_id: self.show_view(vid))
            self.view_actions.append(action)
        self.nav.currentRowChanged.connect(self._nav_changed)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()

        ctx.status = lambda msg: self.statusBar().showMessage(msg, 5000)
        self.store_figures = StoreFiguresKeeper(ctx, self.statusBar(), self)
        ctx.runner.changed.connect(self._on_changes)
        ctx.runner.failed.connect(self._on_task_failed)
        ctx.runner.busy_changed.connect(self._on_busy)
        self.restore_layout()
        if ctx.engine is not None:
            self.refresh_counts()
            self.store_figures.request()
        else:
            self.counts_label.setText("Opening the database…")
            self._set_actions_enabled(False)

    # ---- actions, menus, toolbar, status bar ------------------------------------------------
    def _build_actions(self) -> None:
        self.find_action = QAction(icon("search"), "&Find", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)  # Ctrl+F / Cmd+F
        self.find_action.triggered.connect(self.focus_search)
        self.refresh_action = QAction(icon("refresh"), "&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.triggered.connect(self.refresh_all)
        self.new_call_action = QAction(icon("today"), "New &call / visit…", self)
        self.new_call_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_call_action.setStatusTip(
            "The call screen for the store selected in the current view (or one you type)"
        )
        self.new_call_action.triggered.connect(lambda: self.new_call())
        self.new_order_action = QAction(icon("new_order"), "&New order", self)
        self.new_order_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.new_order_action.triggered.connect(self.new_order)
        orders = self._orders_class()
        self.new_order_action.setEnabled(orders is not None)
        if orders is None:
            self.new_order_action.setToolTip("New orders arrive with the Orders view")
        self.import_action = QAction("&Import sales history…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setStatusTip("Zoho Books invoice exports or other sales history files")
        self.import_action.triggered.connect(self.import_history)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.about_action = QAction("&About Mangalm Sales", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.about)

    def _orders_class(self) -> ViewEntry | None:
        """The view that can start a new order (it defines ``new_order``), once it exists."""
        for cls in self.view_classes:
            if isinstance(cls, LazyView):
                if cls.provides_new_order:
                    return cls
            elif callable(getattr(cls, "new_order", None)):
                return cls
        return None

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_call_action)
        file_menu.addAction(self.new_order_action)
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.find_action)
        view_menu = bar.addMenu("&View")
        for action in self.view_actions:
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.refresh_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main toolbar", self)
        bar.setObjectName("mainToolBar")
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        bar.addAction(self.new_order_action)
        bar.addAction(self.find_action)
        bar.addAction(self.refresh_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.db_label = QLabel(f"Database: {self.ctx.db_path.name}", self)
        self.db_label.setToolTip(str(self.ctx.db_path))
        self.counts_label = QLabel("", self)
        self.counts_label.setObjectName("countsLabel")
        self.sync_label = QLabel("Sync: not configured", self)
        self.sync_label.setObjectName("syncLabel")
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(90)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setVisible(False)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(400)
        self._busy_timer.timeout.connect(
            lambda: self.busy_bar.setVisible(self.ctx.runner.running > 0)
        )
        status.addPermanentWidget(self.busy_bar)
        status.addPermanentWidget(self.db_label)
        status.addPermanentWidget(self.counts_label)
        status.addPermanentWidget(self.sync_label)

    def set_sync_status(self, text: str, tooltip: str = "") -> None:
        """The slot the sync engine fills: online/offline, last sync, pending, errors."""
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tooltip)

    # ---- views ------------------------------------------------------------------------------
    def view_index(self, view_id: str) -> int:
        for index, cls in enumerate(self.view_classes):
            if cls.view_id == view_id:
                return index
        raise KeyError(view_id)

    def view(self, view_id: str) -> View:
        """The view's widget, created on first use."""
        existing = self.views.get(view_id)
        if existing is not None:
            return existing
        index = self.view_index(view_id)
        cls = self.view_classes[index]
        created = cls(self.ctx, self.stack)
        old = self.stack.widget(index)
        self.stack.insertWidget(index, created)
        self.stack.removeWidget(old)
        old.deleteLater()
        self.views[view_id] = created
        created.restore_state(settings())
        return created

    def show_view(self, view_id: str) -> View:
        index = self.view_index(view_id)
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)  # re-enters through _nav_changed
        return self.views[view_id]

    def current_view(self) -> View | None:
        row = self.nav.currentRow()
        if row < 0:
            return None
        return self.views.get(self.view_classes[row].view_id)

    def _nav_changed(self, row: int) -> None:
        if row < 0 or self.ctx.engine is None:
            return  # no view before the database is open; database_ready() comes back here
        cls = self.view_classes[row]
        view = self.view(cls.view_id)
        self.stack.setCurrentIndex(row)
        for index, action in enumerate(self.view_actions):
            action.setChecked(index == row)
        try:
            view.activated()
        except Exception as exc:
            self.report_error(exc, f"opening {cls.title}")

    def focus_search(self) -> None:
        view = self.current_view()
        if view is None or not view.focus_search():
            self.show_view("stores").focus_search()

    def new_order(self) -> None:
        cls = self._orders_class()
        if cls is not None:
            self.show_view(cls.view_id).new_order()  # type: ignore[attr-defined]

    def new_call(self, store_id: object = None) -> QWidget:
        """Ctrl+N: the call screen (docs/visits.md) for ``store_id``, else the store selected in
        the current view (Today, Stores), else a store the person types."""
        from .call_screen import CallScreen  # loaded when first asked for: fast start

        if store_id is None:
            view = self.current_view()
            chosen = getattr(view, "call_store_id", None)
            store_id = chosen() if callable(chosen) else None
        screen = CallScreen(self.ctx, self, store_id=store_id)  # type: ignore[arg-type]
        self.call_screens = [w for w in getattr(self, "call_screens", []) if w.isVisible()]
        self.call_screens.append(screen)
        screen.open()
        return screen

    def import_history(self) -> None:
        """File → Import: the dialog stays open (non-modal) while the import runs."""
        from .import_dialog import ImportDialog  # loaded when first asked for: fast start

        self.import_dialog = ImportDialog(self.ctx, self)
        self.import_dialog.open()

    def refresh_all(self) -> None:
        self._on_changes(Changes.of("agent", "store", "product", "invoice", "call_log"))

    def _on_changes(self, changes: Changes) -> None:
        for view in self.views.values():
            try:
                view.on_changes(changes)
            except Exception as exc:
                self.report_error(exc, f"refreshing {view.title}")
        if self.ctx.engine is not None and changes.touches(
            "store", "product", "invoice", "outbox", "orders"
        ):
            self.refresh_counts()

    def _set_actions_enabled(self, enabled: bool) -> None:
        """Until the database is open there is no view to switch to, search in or refresh."""
        for action in (
            *self.view_actions,
            self.find_action,
            self.refresh_action,
            self.import_action,
            self.new_call_action,
        ):
            action.setEnabled(enabled)
        self.nav.setEnabled(enabled)
        self.new_order_action.setEnabled(enabled and self._orders_class() is not None)

    def database_ready(self, engine: object) -> None:
        """The database opened (in a worker) after the window was shown: build the views."""
        self.ctx.engine = engine  # type: ignore[assignment]
        self._set_actions_enabled(True)
        self.apply_identity()
        self._nav_changed(self.nav.currentRow())
        self.refresh_counts()
        self.store_figures.run_now()  # stale figures: redone in the background, status shown

    def allowed(self, permission: str | None) -> bool:
        """May the signed-in person use this? (Nobody signed in: a standalone laptop, yes.)"""
        identity = self.ctx.identity
        if permission is None or identity is None:
            return True
        from ..security.roles import Permission

        return identity.can(Permission(permission))

    def apply_identity(self) -> None:
        """Show only what the signed-in person may use: an agent sees no Reports, Zoho or
        Import. A courtesy — the services refuse the work anyway (security/roles.py)."""
        for index, cls in enumerate(self.view_classes):
            visible = self.allowed(getattr(cls, "permission", None))
            self.nav.item(index).setHidden(not visible)
            self.view_actions[index].setVisible(visible)
        self.import_action.setVisible(self.allowed("import_data"))
        current = self.nav.currentRow()
        if current >= 0 and self.nav.item(current).isHidden():
            self.show_view(self.view_classes[0].view_id)
        # whose stores and orders the views show follows the person: reload them
        self.ctx.runner.changed.emit(Changes.of("store", "orders", "prediction"))

    def refresh_counts(self) -> None:
        from ..db.queries.counts import record_counts  # SQLAlchemy: not needed to show the window

        engine = self.ctx.engine
        self.ctx.runner.submit(
            lambda _ctx: record_counts(engine),
            on_done=self._show_counts,
            name="record counts",
        )

    def _show_counts(self, counts: object) -> None:
        self.counts_label.setText(
            f"{fmt.number(counts.stores)} stores · {fmt.number(counts.products)} products · "
            f"{fmt.number(counts.invoices)} invoices"
        )
        self.counts_label.setToolTip(
            f"{fmt.number(counts.pending_changes)} local changes not yet synced"
        )
        self.record_counts = counts

    def _on_busy(self, running: int) -> None:
        """Show the busy bar only for work that lasts: no flicker (and no repaint) per keystroke."""
        if running > 0:
            if not self.busy_bar.isVisible() and not self._busy_timer.isActive():
                self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy_bar.setVisible(False)

    def _on_task_failed(self, name: str, exc: BaseException) -> None:
        self.report_error(exc, name)

    def report_error(self, exc: BaseException, doing: str = "") -> None:
        from .errors import show_error  # the error dialog's module: not needed to start

        self.last_error = exc
        show_error(self, exc, doing)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Mangalm Sales",
            "<b>Mangalm Sales Desktop</b><br>Offline-first sales desktop for field agents "
            f"and managers.<br>Database: {self.ctx.db_path}",
        )

    # ---- layout persistence -----------------------------------------------------------------
    def save_layout(self) -> None:
        s = settings()
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("main/splitter", self.splitter.saveState())
        row = self.nav.currentRow()
        if row >= 0:
            s.setValue("main/lastView", self.view_classes[row].view_id)
        for view in self.views.values():
            view.save_state(s)
        s.sync()

    def restore_layout(self) -> None:
        s = settings()
        geometry = s.value("main/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry()
            self.resize(min(1280, screen.width() * 9 // 10), min(800, screen.height() * 9 // 10))
        state = s.value("main/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = s.value("main/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        last = s.value("main/lastView", "today")
        ids = [cls.view_id for cls in self.view_classes]
        self.nav.setCurrentRow(ids.index(last) if last in ids else 0)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        self.ctx.runner.shutdown()
        super().closeEvent(event)
