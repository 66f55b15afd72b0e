"""The views of the main window, in navigation order (Ctrl+1 is the first).

Adding a view: write a :class:`~mangalm_desktop.gui.views.base.View` subclass in its own module
under ``gui/views/`` and put the class in :data:`VIEW_CLASSES` (replacing its placeholder).
"""

from __future__ import annotations

from .base import View
from .placeholder import placeholder
from .reports import ReportsView

TodayView = placeholder(
    "today",
    "Today",
    "today",
    "Today's call list will appear here: the stores to call, ranked by expected order value "
    "and how overdue they are, with churn risk (forecasting issue).",
)
StoresView = placeholder("stores", "Stores", "stores", "All stores, searchable as you type.")
OrdersView = placeholder(
    "orders",
    "Orders",
    "orders",
    "Orders will appear here: drafts, submitted and synced orders, and a new order with the "
    "suggested quantities (orders issue). Ctrl+N will start a new order.",
)
PredictionsView = placeholder(
    "predictions",
    "Predictions",
    "predictions",
    "Per store and product forecasts with confidence ranges and the reason in words will "
    "appear here (forecasting issue).",
)
ProductsView = placeholder("products", "Products", "products", "The product catalogue.")
SyncView = placeholder(
    "sync",
    "Sync",
    "sync",
    "Connection to the central server, last sync, pending changes and conflicts to resolve "
    "will appear here (sync issue).",
)

VIEW_CLASSES: list[type[View]] = [
    TodayView,
    StoresView,
    OrdersView,
    PredictionsView,
    ProductsView,
    ReportsView,
    SyncView,
]
