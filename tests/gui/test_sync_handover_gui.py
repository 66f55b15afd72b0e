"""The Sync view's hand-over button: an order kept for a store moved to another agent goes to
that agent with one click, and leaves this laptop (issue 18, finding 5)."""

from __future__ import annotations

import psycopg
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, Outbox
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, config_for, local_db, move_store, new_order

pytestmark = [pytest.mark.gui, pytest.mark.pg]


def test_hand_over_button_gives_a_moved_stores_order_to_its_new_agent(
    world, qtbot, make_window, tmp_path
):
    from mangalm_desktop.gui.sync_controller import start_background_sync
    from mangalm_desktop.sync.connection import save_config

    save_config(config_for(world, world.agent_a))
    path = tmp_path / "laptop.sqlite"
    eng = local_db(path)
    eb = local_db(tmp_path / "b.sqlite")
    assert sync_once(eng, world.connector(world.agent_a)).ok
    moved = world.stores_a[1]
    oid = new_order(eng, store_id=moved, agent_id=world.agent_a.agent_id, products=world.products)
    move_store(world, moved, world.agent_b.agent_id)
    window = make_window(eng, path)
    ctrl = start_background_sync(window, window.ctx)
    try:
        window.show_view("sync")
        view = window.views["sync"]
        with qtbot.waitSignal(ctrl.finished, timeout=60000):
            qtbot.mouseClick(view.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.conflict_list.count() == 1, timeout=20000)
        assert "no longer yours" in view.conflict_message.text()
        assert view.hand_over.isEnabled()
        qtbot.mouseClick(view.hand_over, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.conflict_list.count() == 0, timeout=20000)
        assert not view.hand_over.isEnabled()
    finally:
        ctrl.shutdown()
    with session_scope(eng) as s:
        assert s.scalars(select(Outbox)).all() == []
    assert sync_once(eb, world.connector(world.agent_b)).ok
    with session_scope(eb) as s:
        order = s.get(Order, oid)
        assert order.agent_id == world.agent_b.agent_id
        assert order.number == f"{world.agent_b.code.upper()}-HO-000001"
    with psycopg.connect(as_user(world.url, "postgres")) as c:
        assert c.execute("SELECT count(*) FROM orders WHERE id = %s", (oid,)).fetchone()[0] == 1
