"""A view that says what is coming, for navigation entries whose issue has not landed yet."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..context import AppContext
from ..resources import icon
from .base import View


def placeholder(view_id: str, title: str, icon_name: str, coming: str) -> type[View]:
    """Make a View class showing ``coming`` (what the view will do) in the middle of the page."""

    class PlaceholderView(View):
        def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
            super().__init__(ctx, parent)
            layout = QVBoxLayout(self)
            layout.addStretch(1)
            picture = QLabel(self)
            picture.setPixmap(icon(icon_name).pixmap(64, 64))
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            heading = QLabel(f"<h2>{title}</h2>", self)
            heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text = QLabel(coming, self)
            text.setObjectName("placeholderText")
            text.setWordWrap(True)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setFixedWidth(520)
            text.setMinimumHeight(text.heightForWidth(520) + 8)  # wrapped lines never clipped
            for widget in (picture, heading, text):
                layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
            layout.addStretch(2)

    PlaceholderView.view_id = view_id
    PlaceholderView.title = title
    PlaceholderView.icon_name = icon_name
    PlaceholderView.description = coming
    PlaceholderView.__name__ = PlaceholderView.__qualname__ = f"{title}Placeholder"
    return PlaceholderView
