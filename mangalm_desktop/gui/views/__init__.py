"""The views of the main window, in navigation order (Ctrl+1 is the first).

Adding a view: write a :class:`~mangalm_desktop.gui.views.base.View` subclass in its own module
under ``gui/views/`` and put a :class:`LazyView` entry for it in :data:`VIEW_CLASSES` (replacing
its placeholder). Lazy entries keep start-up fast: a view's module (and what it imports:
pandas, pyqtgraph...) loads only when the view is first shown. A class also works as an entry.
"""

from __future__ import annotations

from .base import LazyView, ViewEntry

TodayView = LazyView("today", "Today", "today", ".forecast_views:TodayView")
PredictionsView = LazyView(
    "predictions", "Predictions", "predictions", ".forecast_views:PredictionsView"
)

VIEW_CLASSES: list[ViewEntry] = [
    TodayView,
    LazyView("stores", "Stores", "stores", ".stores:StoresView"),
    LazyView("orders", "Orders", "orders", ".orders:OrdersView", new_order=True),
    PredictionsView,
    LazyView("products", "Products", "products", ".products:ProductsView"),
    LazyView("reports", "Reports", "reports", ".reports:ReportsView", permission="run_reports"),
    LazyView("sync", "Sync", "sync", ".sync:SyncView"),
    LazyView("zoho", "Zoho", "zoho", ".zoho:ZohoView", permission="run_zoho"),
    LazyView("collections", "Collections", "collections", ".collections:CollectionsView"),
    LazyView("schemes", "Schemes", "schemes", ".schemes:SchemesView"),
]
