"""The demo company comes with realistic schemes around its own today, and an order taken
there gets them."""

from __future__ import annotations

from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Agent, Product, Scheme, Store
from mangalm_desktop.demo import SMALL, create_demo_company, demo_today
from mangalm_desktop.demo.places import REGIONS
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.schemes.service import list_schemes


def test_demo_schemes(tmp_path):
    engine = open_local_database(tmp_path / "demo.sqlite")
    try:
        create_demo_company(engine, 3, **SMALL)
        today = demo_today(engine)
        shown = list_schemes(engine, None, on=today, include_ended=True)
        assert [s.status for s in shown].count("ended") == 1 and len(shown) == 5
        assert {s.code for s in shown} >= {"FESTIVE-BIS5", "STAPLE-10+1", "MONSOON-OIL3"}
        with session_scope(engine) as s:
            staple = s.scalar(select(Scheme).where(Scheme.code == "STAPLE-10+1"))
            product = s.get(Product, staple.product_id)
            store = s.scalar(
                select(Store)
                .where(Store.region == REGIONS[0].name, Store.active.is_(True))
                .order_by(Store.code)
            )
            agent_id = store.agent_id or s.scalar(select(Agent.id))
            sku, store_id = product.sku, store.id
        draft = OrderDraft(store=store_id, agent_id=agent_id, lines=[LineInput(sku, 20)])
        service.submit(engine, draft, identity=None, today=today, accept_credit_warning=True)
        with session_scope(engine) as s:
            from mangalm_desktop.db.models import OrderLine

            free = s.scalar(select(OrderLine).where(OrderLine.free_goods.is_(True)))
            assert (free.product_id, free.quantity) == (staple.product_id, 2)
    finally:
        engine.dispose()
