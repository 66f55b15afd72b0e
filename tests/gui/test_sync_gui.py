"""Sync in the GUI: settings dialog (keyring), Sync now with status bar, conflicts side by side."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order
from mangalm_desktop.security.secrets import get_secret
from mangalm_desktop.sync.connection import load_config, save_config
from tests.integration.sync_support import as_user, config_for, edit_order, local_db, new_order

pytestmark = [pytest.mark.gui, pytest.mark.pg]


def test_settings_dialog_tests_and_saves_password_in_keyring(world, qtbot, runner):
    from mangalm_desktop.gui.sync_settings_dialog import CentralSettingsDialog

    cfg = config_for(world, world.agent_a)
    dialog = CentralSettingsDialog(runner)
    qtbot.addWidget(dialog)
    dialog.host.setText(cfg.host)
    dialog.database.setText(cfg.database)
    dialog.user.setText(cfg.user)
    dialog.sslmode.setCurrentText("disable")
    dialog.password.setText("s3cret-pw")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith(("✔", "✘")), timeout=20000)
    assert dialog.result_label.text().startswith("✔ Connected to PostgreSQL"), (
        dialog.result_label.text()
    )
    dialog.ca.setText("/nonexistent/ca.pem")
    dialog.save()
    assert "does not exist" in dialog.result_label.text()  # bad input: a clear error, nothing saved
    dialog.ca.setText("")
    dialog.save()
    saved = load_config()
    assert saved.user == cfg.user and saved.host == cfg.host
    assert get_secret(saved.secret_key) == "s3cret-pw"
    files = list(Path(os.environ["XDG_DATA_HOME"]).rglob("central.json"))
    assert files and all("s3cret-pw" not in f.read_text() for f in files)


def test_sync_now_status_bar_and_conflict_choice(world, qtbot, make_window, tmp_path):
    from mangalm_desktop.gui.sync_controller import controller_for, start_background_sync

    save_config(config_for(world, world.agent_a))
    path = tmp_path / "laptop.sqlite"
    eng = local_db(path)
    window = make_window(eng, path)
    ctrl = start_background_sync(window, window.ctx)
    try:
        window.show_view("sync")
        view = window.views["sync"]
        assert controller_for(window.ctx) is ctrl
        with qtbot.waitSignal(ctrl.finished, timeout=60000):
            qtbot.mouseClick(view.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.sync_label.text().startswith("Online"), timeout=20000)
        qtbot.waitUntil(lambda: view.history.rowCount() >= 1, timeout=20000)
        assert view.history.item(0, 1).text() == "OK"

        # A conflict: the manager changed the order after it was sent; the agent edits too.
        oid = new_order(
            eng,
            store_id=world.stores_a[0],
            agent_id=world.agent_a.agent_id,
            products=world.products,
        )
        with qtbot.waitSignal(ctrl.finished, timeout=60000):
            ctrl.sync_now()
        import psycopg

        with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as c:
            c.execute("UPDATE orders SET notes = 'from manager' WHERE id = %s", (oid,))
        edit_order(eng, oid, "from agent")
        with qtbot.waitSignal(ctrl.finished, timeout=60000):
            ctrl.sync_now()
        qtbot.waitUntil(lambda: view.conflict_list.count() == 1, timeout=20000)
        assert "1 conflict" in window.sync_label.text()
        rows = {
            view.compare.item(r, 0).text(): (
                view.compare.item(r, 1).text(),
                view.compare.item(r, 2).text(),
            )
            for r in range(view.compare.rowCount())
        }
        assert rows["notes"] == ("from agent", "from manager")
        assert view.keep_mine.isEnabled() and view.take_theirs.isEnabled()
        qtbot.mouseClick(view.take_theirs, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.conflict_list.count() == 0, timeout=20000)
        with session_scope(eng) as s:
            assert s.get(Order, oid).notes == "from manager"
    finally:
        ctrl.shutdown()


def test_background_sync_runs_on_the_one_writer_and_after_a_suspend(
    world, qtbot, make_window, tmp_path
):
    """The QTimer hands due runs to the TaskRunner's write queue (never a thread of its own),
    and a run missed while the laptop slept (pinned wall clock moved, monotonic clock not)
    runs at the next tick."""
    import datetime as dt
    import threading

    from PySide6.QtCore import QThread

    from mangalm_desktop.gui.sync_controller import SyncController

    save_config(config_for(world, world.agent_a))
    path = tmp_path / "laptop.sqlite"
    eng = local_db(path)
    window = make_window(eng, path)
    clock = {"wall": dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC), "mono": 100.0}
    seen: list[tuple[bool, int, bool]] = []
    ctrl = SyncController(
        window.ctx,
        tick_ms=50,
        clock=lambda: clock["wall"],
        monotonic=lambda: clock["mono"],
    )
    connect = ctrl._connector()

    def watched_connect():
        runner = window.ctx.runner
        seen.append(
            (
                QThread.currentThread() is not window.thread(),
                runner.write_pool.activeThreadCount(),
                threading.current_thread() is threading.main_thread(),
            )
        )
        return connect()

    ctrl._connector = lambda: watched_connect
    ctrl.scheduler.connector = ctrl._connector
    try:
        with qtbot.waitSignal(ctrl.finished, timeout=60000) as first:
            ctrl.start()  # first run planned 2 s later on the pinned clock...
            clock["wall"] += dt.timedelta(seconds=2)
            clock["mono"] += 2
        assert first.args[0].ok
        assert seen == [(True, 1, False)], "the sync must run on the TaskRunner's writer"
        qtbot.wait(300)  # many ticks: nothing is due within the 5-minute interval
        assert len(seen) == 1
        clock["wall"] += dt.timedelta(hours=3)  # asleep for three hours
        with qtbot.waitSignal(ctrl.finished, timeout=60000) as late:
            pass
        assert late.args[0].ok and len(seen) == 2
        assert seen[1] == (True, 1, False)
    finally:
        ctrl.shutdown()


def test_order_amended_on_two_devices_shows_its_lines_and_keep_mine_works(
    world, qtbot, make_window, tmp_path
):
    from mangalm_desktop.db.models import Product
    from mangalm_desktop.gui.sync_controller import start_background_sync
    from mangalm_desktop.orders import service
    from mangalm_desktop.orders.model import LineInput, OrderDraft
    from mangalm_desktop.sync.service import sync_once

    save_config(config_for(world, world.agent_a))
    path = tmp_path / "laptop.sqlite"
    eng = local_db(path)
    other = local_db(tmp_path / "second-laptop.sqlite")
    conn = world.connector(world.agent_a)
    assert sync_once(eng, conn).ok and sync_once(other, conn).ok
    with session_scope(eng) as s:
        sku = [p.sku for p in s.query(Product).order_by(Product.sku)]

    def draft(*lines):
        return OrderDraft(
            store=world.stores_a[0], agent_id=world.agent_a.agent_id, lines=list(lines)
        )

    oid = service.submit(
        eng, draft(LineInput(sku[0], 6), LineInput(sku[1], 12)), identity=None
    ).order_id
    assert sync_once(eng, conn).ok and sync_once(other, conn).ok
    service.amend(other, oid, draft(LineInput(sku[0], 6), LineInput(sku[3], 24)), identity=None)
    assert sync_once(other, conn).ok
    service.amend(eng, oid, draft(LineInput(sku[0], 6), LineInput(sku[4], 36)), identity=None)

    window = make_window(eng, path)
    ctrl = start_background_sync(window, window.ctx)
    try:
        window.show_view("sync")
        view = window.views["sync"]
        with qtbot.waitSignal(ctrl.finished, timeout=60000) as ran:
            qtbot.mouseClick(view.sync_button, Qt.MouseButton.LeftButton)
        assert ran.args[0].ok, ran.args[0].error
        qtbot.waitUntil(lambda: view.conflict_list.count() == 1, timeout=20000)
        rows = {
            view.compare.item(r, 0).text(): (
                view.compare.item(r, 1).text(),
                view.compare.item(r, 2).text(),
            )
            for r in range(view.compare.rowCount())
        }
        assert rows[f"line {sku[3]} Product 3"] == ("-", "24")
        assert rows[f"line {sku[4]} Product 4"] == ("36", "-")
        assert f"line {sku[1]} Product 1" not in rows  # removed on both: no difference
        assert view.keep_mine.isEnabled()
        qtbot.mouseClick(view.keep_mine, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.conflict_list.count() == 0, timeout=20000)
        with qtbot.waitSignal(ctrl.finished, timeout=60000) as ran:
            qtbot.mouseClick(view.sync_button, Qt.MouseButton.LeftButton)
        assert ran.args[0].ok and ran.args[0].pushed == 1
        import psycopg

        with psycopg.connect(as_user(world.url, "postgres")) as c:
            central = c.execute(
                "SELECT p.sku, l.quantity FROM order_line l JOIN product p ON p.id = l.product_id "
                "WHERE l.order_id = %s AND NOT l.deleted ORDER BY p.sku",
                (oid,),
            ).fetchall()
        assert central == [(sku[0], 6), (sku[4], 36)]
    finally:
        ctrl.shutdown()


def test_field_conflict_shows_only_the_field_both_changed_and_take_central_keeps_the_rest(
    world, qtbot, make_window, tmp_path
):
    import psycopg

    from mangalm_desktop.gui.sync_controller import start_background_sync
    from mangalm_desktop.sync.service import sync_once
    from tests.integration.sync_support import edit_store_profile

    save_config(config_for(world, world.agent_a))
    path = tmp_path / "laptop.sqlite"
    eng = local_db(path)
    boss = local_db(tmp_path / "manager.sqlite")
    assert sync_once(eng, world.connector(world.agent_a)).ok
    assert sync_once(boss, world.connector(world.manager)).ok
    store = world.stores_a[0]
    edit_store_profile(eng, store, phone="+91 98200 11111", email="asha@example.com")
    edit_store_profile(boss, store, phone="+91 98200 22222", credit_limit="70000")
    assert sync_once(boss, world.connector(world.manager)).ok

    window = make_window(eng, path)
    ctrl = start_background_sync(window, window.ctx)
    try:
        window.show_view("sync")
        view = window.views["sync"]
        with qtbot.waitSignal(ctrl.finished, timeout=60000):
            qtbot.mouseClick(view.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.conflict_list.count() == 1, timeout=20000)
        rows = [
            tuple(view.compare.item(r, c).text() for c in range(3))
            for r in range(view.compare.rowCount())
        ]
        assert rows == [("phone", "+91 98200 11111", "+91 98200 22222")]
        qtbot.mouseClick(view.take_theirs, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.conflict_list.count() == 0, timeout=20000)
        with qtbot.waitSignal(ctrl.finished, timeout=60000) as ran:
            qtbot.mouseClick(view.sync_button, Qt.MouseButton.LeftButton)
        assert ran.args[0].ok and ran.args[0].pushed == 1
        with psycopg.connect(as_user(world.url, "postgres")) as c:
            row = c.execute(
                "SELECT phone, email, credit_limit::text FROM store WHERE id = %s", (store,)
            ).fetchone()
        assert row == ("+91 98200 22222", "asha@example.com", "70000.00")
    finally:
        ctrl.shutdown()
