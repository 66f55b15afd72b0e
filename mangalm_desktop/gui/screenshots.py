"""Screenshots of every view and a store detail (tests assert them; docs/screenshots uses them).

``python -m mangalm_desktop.gui.screenshots OUT_DIR [--db DEMO.sqlite]`` renders the app offscreen
on a demo company (made in a temporary database unless ``--db`` names one) and writes one PNG
per view plus the store detail, so the README's pictures are always the real app.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget


def is_blank(image: QImage, *, min_colours: int = 8) -> bool:
    """True if the picture is (nearly) one flat colour: a view that drew nothing."""
    if image.isNull() or image.width() < 10 or image.height() < 10:
        return True
    colours = set()
    step_x = max(1, image.width() // 64)
    step_y = max(1, image.height() // 64)
    for y in range(0, image.height(), step_y):
        for x in range(0, image.width(), step_x):
            colours.add(image.pixel(x, y))
            if len(colours) >= min_colours:
                return False
    return True


def grab(widget: QWidget, path: Path) -> QImage:
    image = widget.grab().toImage()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
    return image


def shoot_all(window, out: Path, *, store_search: str = "") -> dict[str, Path]:  # noqa: ANN001
    """One PNG per view (``<n>-<view_id>.png``) and ``store-detail.png``; returns the paths."""
    runner = window.ctx.runner
    paths: dict[str, Path] = {}
    for number, cls in enumerate(window.view_classes, start=1):
        view = window.show_view(cls.view_id)
        runner.wait_idle(30_000)
        if cls.view_id == "predictions":  # its upsell is asked for a moment after the lines
            deadline = time.monotonic() + 30
            while getattr(view, "upsell_items", []) is None and time.monotonic() < deadline:
                QApplication.processEvents()
                runner.wait_idle(100)
        if cls.view_id == "stores" and store_search:
            view.search.setText(store_search)
            runner.wait_idle(30_000)
            view.search.clear()
            runner.wait_idle(30_000)
        window.repaint()
        path = out / f"{number}-{cls.view_id}.png"
        grab(window, path)
        paths[cls.view_id] = path
    stores = window.show_view("stores")
    runner.wait_idle(30_000)
    detail = stores.open_first_store()
    runner.wait_idle(30_000)
    detail.resize(1200, 800)
    paths["store-detail"] = out / "store-detail.png"
    grab(detail, paths["store-detail"])
    detail.tabs.setCurrentIndex(1)
    runner.wait_idle(30_000)
    paths["store-invoices"] = out / "store-invoices.png"
    grab(detail, paths["store-invoices"])
    detail.tabs.setCurrentIndex(2)
    paths["store-profile"] = out / "store-profile.png"
    grab(detail, paths["store-profile"])
    detail.close()
    paths["import-dialog"] = shoot_import_dialog(window, out / "import-dialog.png")
    paths["order-dialog"] = shoot_order_dialog(window, out / "order-dialog.png")
    paths["report-stores"] = shoot_store_report(window, out / "report-stores.png")
    paths["beats"] = shoot_beats(window, out / "beats.png")
    paths["report-plan-vs-actual"] = shoot_store_report(
        window, out / "report-plan-vs-actual.png", report="plan-vs-actual"
    )
    paths["call-screen"] = shoot_call_screen(window, out / "call-screen.png")
    return paths


def shoot_call_screen(window, path: Path) -> Path:  # noqa: ANN001
    """The call screen for the first store on Today's call list (docs/visits.md)."""
    today = window.show_view("today")
    window.ctx.runner.wait_idle(30_000)
    screen = today.open_call()
    deadline = time.monotonic() + 30
    while screen is not None and not (screen.ready and screen.idle) and time.monotonic() < deadline:
        window.ctx.runner.wait_idle(100)
        QApplication.processEvents()
    if screen is None:
        raise RuntimeError("Today has no store to call")
    screen.resize(1150, 800)
    grab(screen, path)
    screen.done(0)
    return path


def shoot_beats(window, path: Path) -> Path:  # noqa: ANN001
    """Stores ▸ Beats…: the beats, the first one's days and stores in visit order."""
    stores = window.show_view("stores")
    window.ctx.runner.wait_idle(30_000)
    dialog = stores.open_beats()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (dialog.detail is None or not dialog.others.count()):
        window.ctx.runner.wait_idle(100)
        QApplication.processEvents()
    dialog.resize(1100, 640)
    grab(dialog, path)
    dialog.close()
    return path


def shoot_store_report(window, path: Path, report: str = "sales-by-store") -> Path:  # noqa: ANN001
    """Sales by store: long store names on the category axis and crore-sized ₹ ticks (or
    another ``report`` with its default filters)."""
    reports = window.show_view("reports")
    window.ctx.runner.wait_idle(30_000)
    reports.select_report(report)
    reports.show_report()
    deadline = time.monotonic() + 30
    panel = reports.panel
    while time.monotonic() < deadline and (
        panel.result is None or panel.result.spec.name != report
    ):
        window.ctx.runner.wait_idle(100)
        QApplication.processEvents()
    window.repaint()
    grab(window, path)
    return path


def shoot_order_dialog(window, path: Path) -> Path:  # noqa: ANN001
    """A new order for the store Predictions shows, pre-filled from its suggested order."""
    predictions = window.show_view("predictions")
    window.ctx.runner.wait_idle(30_000)
    store = predictions.shown_store
    dialog = window.show_view("orders").new_order(store.id if store else None)
    window.ctx.runner.wait_idle(30_000)
    dialog.resize(1100, 720)
    grab(dialog, path)
    dialog.done(0)
    return path


def use_dark_palette(app) -> None:  # noqa: ANN001 - QApplication
    """The Fusion style's dark palette, as a dark OS theme gives (the stylesheet and charts
    follow the palette)."""
    from PySide6.QtGui import QColor, QPalette

    from .app import apply_style

    app.setStyle("Fusion")
    p = QPalette()
    role = QPalette.ColorRole
    for r, colour in [
        (role.Window, "#2b2b2b"),
        (role.WindowText, "#e8e8e8"),
        (role.Base, "#1f1f1f"),
        (role.AlternateBase, "#2a2a2a"),
        (role.Text, "#e8e8e8"),
        (role.Button, "#353535"),
        (role.ButtonText, "#e8e8e8"),
        (role.Highlight, "#3d6fb6"),
        (role.HighlightedText, "#ffffff"),
        (role.ToolTipBase, "#353535"),
        (role.ToolTipText, "#e8e8e8"),
        (role.PlaceholderText, "#9a9a9a"),
        (role.Mid, "#555555"),
    ]:
        p.setColor(r, QColor(colour))
    app.setPalette(p)
    apply_style(app)


def shoot_import_dialog(window, path: Path) -> Path:  # noqa: ANN001
    """File → Import with a sales-history file chosen and its columns guessed."""
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sales-history-2024.csv"
        sample.write_text(
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26,2.55,17850,United Kingdom\n",
            encoding="utf-8",
        )
        window.import_history()
        dialog = window.import_dialog
        dialog.kind.setCurrentIndex(dialog.kind.findData("history"))
        dialog.add_files([sample])
        window.ctx.runner.wait_idle(30_000)
        grab(dialog, path)
        dialog.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--db", type=Path, help="an existing demo database to show")
    parser.add_argument("--dark", action="store_true", help="a dark palette (file names dark-*)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..demo import DEFAULT_TODAY
    from .app import ensure_demo, make_app, open_database, run_blocking
    from .context import AppContext
    from .main_window import MainWindow
    from .selftest import private_keyring
    from .settings import use_settings_dir
    from .workers import TaskRunner

    private_keyring()  # pictures never show (or need) anyone's real secrets
    with tempfile.TemporaryDirectory() as tmp:
        use_settings_dir(Path(tmp) / "settings")
        app = make_app(["screenshots"])
        if args.dark:
            use_dark_palette(app)
        runner = TaskRunner()
        path = args.db or Path(tmp) / "demo.sqlite"
        engine = run_blocking(runner, open_database, path, DEFAULT_TODAY)
        run_blocking(runner, ensure_demo, engine, DEFAULT_TODAY, forecast=True)
        window = MainWindow(
            AppContext(engine=engine, db_path=path, runner=runner, today=lambda: DEFAULT_TODAY)
        )
        window.resize(1280, 800)
        window.show()
        out = Path(tmp) / "shots" if args.dark else args.out
        for name, file in shoot_all(window, out).items():
            if args.dark:  # the same pictures, named dark-<name>.png
                target = (
                    args.out
                    / f"dark-{file.name.split('-', 1)[-1] if file.name[0].isdigit() else file.name}"
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(file.read_bytes())
                file = target
            print(f"{name}: {file}")
        window.close()
        runner.shutdown()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
