"""A scheme's free goods on an order not yet invoiced are not demand: the forecast's history
holds what the store ordered, not what a "buy 10 get 1" added on top (issue 19 follow-up)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import OrderLine
from mangalm_desktop.forecasting.service import load_history
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft

from .orders_support import dal_ten_plus_one, seed

TODAY = dt.date(2026, 12, 6)


def test_free_goods_are_left_out_of_the_forecast_history(engine) -> None:
    sd = seed(engine)
    dal_ten_plus_one(engine, dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    draft = OrderDraft(store=sd.store_id, agent_id=sd.agent_id, lines=[LineInput("DAL-1", 20)])
    res = service.submit(engine, draft, identity=None, today=TODAY)
    with session_scope(engine) as s:
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == res.order_id)).all()
        assert sorted((ln.quantity, ln.free_goods) for ln in lines) == [(2, True), (20, False)]
        loaded, _ = load_history(s)
    assert loaded is not None
    history, _raw = loaded
    dal = list(history.products).index(str(sd.products["DAL-1"]))
    assert history.lines.loc[history.lines["p"] == dal, "qty"].sum() == 20
