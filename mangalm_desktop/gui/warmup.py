"""Load the other windows' code in the background once the first view has its data.

Views are lazy (``views.base.LazyView``) so the window comes up fast. The price was paid on the
first visit instead: Orders imported reportlab and pypdfium2, Products pandas and pyqtgraph,
Sync alembic and psycopg, Zoho httpx, the store card pyqtgraph, each on the UI thread, which
froze for 0.3–1 s the first time a person went there. Once the start has nothing left to do,
a thread imports those modules one at a time, so a first visit only builds its widgets.

Importing is all a thread does here: no widget or other ``QObject`` is made off the UI
thread (the modules make none when imported). The import lock makes a visit that comes first
wait for the module being loaded instead of loading it twice.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable

from .views import VIEW_CLASSES
from .views.base import LazyView

log = logging.getLogger(__name__)

OTHER_WINDOWS = (
    "mangalm_desktop.gui.views.store_detail",
    "mangalm_desktop.gui.call_screen",
    "mangalm_desktop.gui.order_dialog",
    "mangalm_desktop.gui.payment_panel",
    "mangalm_desktop.gui.charts",
)
"""Windows opened from a view (not views themselves), in the order a person meets them."""


def view_modules() -> list[str]:
    """Every lazy view's module, absolute, in navigation order."""
    names = []
    for entry in VIEW_CLASSES:
        if isinstance(entry, LazyView):
            module = entry.target.partition(":")[0]
            names.append(f"mangalm_desktop.gui.views{module}" if module.startswith(".") else module)
    return names


def modules_to_warm() -> list[str]:
    """What the warm-up imports: the views, then the windows opened from them."""
    return list(dict.fromkeys([*view_modules(), *OTHER_WINDOWS]))


class Warmup:
    """The background import of :func:`modules_to_warm`; :meth:`stop` ends it between modules.

    A module that fails to import is logged and skipped: its view reports the same error in
    words when the person opens it, as it did before the warm-up."""

    def __init__(self, modules: Iterable[str], *, pause_s: float = 0.02) -> None:
        self.modules = list(modules)
        self.pause_s = pause_s
        self.done: list[str] = []
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="warm-up", daemon=True)

    def start(self) -> Warmup:
        self._thread.start()
        return self

    def _run(self) -> None:
        for name in self.modules:
            if self._stop.is_set():
                return
            try:
                importlib.import_module(name)
            except Exception:  # the view says it in words when opened; nothing to show here
                log.warning("could not load %s in the background", name, exc_info=True)
                self.failed.append(name)
            else:
                self.done.append(name)
            # a short pause between modules leaves the UI thread the interpreter for a while
            self._stop.wait(self.pause_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the module being imported (called at exit)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def is_alive(self) -> bool:
        return self._thread.is_alive()


def start_warmup(
    when_idle: Callable[[Callable[[], None]], None], modules: Iterable[str] | None = None
) -> Warmup:
    """Start the warm-up once ``when_idle`` calls back (the first view's reads finished)."""
    warmup = Warmup(modules_to_warm() if modules is None else modules)

    def begin() -> None:
        warmup.start()

    when_idle(begin)
    return warmup
