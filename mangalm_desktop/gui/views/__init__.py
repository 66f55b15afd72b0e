"""The views of the main window, in navigation order (Ctrl+1 is the first).

Adding a view: write a :class:`~mangalm_desktop.gui.views.base.View` subclass in its own module
under ``gui/views/`` and put the class in :data:`VIEW_CLASSES` (replacing its placeholder).
"""

from __future__ import annotations

from .base import View
from .orders import OrdersView
from .placeholder import placeholder
from .products import ProductsView
from .reports import ReportsView
from .stores import StoresView
from .sync import SyncView

TodayView = placeholder(
    "today",
    "Today",
    "today",
    "Today's call list will appear here: the stores to call, ranked by expected order value "
    "and how overdue they are, with churn risk (forecasting issue).",
)
PredictionsView = placeholder(
    "predictions",
    "Predictions",
    "predictions",
    "Per store and product forecasts with confidence ranges and the reason in words will "
    "appear here (forecasting issue).",
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
