"""A tiny hand-made company for report tests; every expected figure in test_reports.py was
worked out by hand from the rows below (see the comments), not by running report code.

Agents A01 Asha (North) and A02 Bala (South). Stores S1, S2 (North, A01), S3, S4 (South, A02).
Products P1 Toor Dal (Tata, Pulses), P2 Basmati (India Gate, Rice), P3 Salt (Tata, Staples).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy import Engine

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    Agent,
    CallLog,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Prediction,
    Product,
    Store,
    SuggestionFeedback,
)


def _utc(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=dt.UTC)


def build(engine: Engine) -> None:
    with session_scope(engine) as s:
        a1 = Agent(code="A01", name="Asha", region="North")
        a2 = Agent(code="A02", name="Bala", region="South")
        s.add_all([a1, a2])
        s.flush()
        s1 = Store(
            code="S1",
            name="Kirana One",
            region="North",
            agent_id=a1.id,
            call_cadence_days=8,
            credit_limit=D("1000.00"),
        )
        s2 = Store(
            code="S2",
            name="Kirana Two",
            region="North",
            agent_id=a1.id,
            call_cadence_days=14,
            credit_limit=D("500.00"),
        )
        s3 = Store(
            code="S3", name="Kirana Three", region="South", agent_id=a2.id, call_cadence_days=30
        )
        s4 = Store(
            code="S4",
            name="Kirana Four",
            region="South",
            agent_id=a2.id,
            opened_on=dt.date(2024, 1, 1),
        )
        p1 = Product(sku="P1", name="Toor Dal 1kg", brand="Tata", category="Pulses")
        p2 = Product(sku="P2", name="Basmati 5kg", brand="India Gate", category="Rice")
        p3 = Product(sku="P3", name="Salt 1kg", brand="Tata", category="Staples")
        s.add_all([s1, s2, s3, s4, p1, p2, p3])
        s.flush()

        def invoice(
            number,
            date,
            store,
            agent,
            lines,
            *,
            due=None,
            balance="0",
            kind="invoice",
            status="sent",
            deleted_lines=(),
        ):
            total = sum((D(t) for _, _, t in lines), D("0"))
            inv = Invoice(
                number=number,
                invoice_date=date,
                store_id=store.id,
                agent_id=agent.id if agent else None,
                due_date=due,
                total=total,
                balance=D(balance),
                kind=kind,
                status=status,
                source="test",
            )
            s.add(inv)
            s.flush()
            for i, (prod, qty, line_total) in enumerate(lines, start=1):
                s.add(
                    InvoiceLine(
                        invoice_id=inv.id,
                        line_no=i,
                        store_id=store.id,
                        invoice_date=date,
                        product_id=prod.id,
                        quantity=qty,
                        unit_price=D(line_total) / qty,
                        line_total=D(line_total),
                    )
                )
            for j, (prod, qty, line_total) in enumerate(deleted_lines, start=len(lines) + 1):
                s.add(
                    InvoiceLine(
                        invoice_id=inv.id,
                        line_no=j,
                        store_id=store.id,
                        invoice_date=date,
                        product_id=prod.id,
                        quantity=qty,
                        unit_price=D(line_total) / qty,
                        line_total=D(line_total),
                        deleted=True,
                    )
                )

        d = dt.date
        invoice(
            "I1",
            d(2024, 1, 10),
            s1,
            a1,
            [(p1, 10, "1000.00"), (p3, 5, "100.00")],
            due=d(2024, 1, 25),
        )
        invoice(
            "I2",
            d(2024, 2, 5),
            s1,
            a1,
            [(p1, 4, "400.00")],
            due=d(2024, 2, 20),
            balance="400.00",
            deleted_lines=[(p3, 1, "20.00")],
        )
        invoice(
            "I3",
            d(2024, 2, 15),
            s2,
            None,
            [(p2, 2, "1500.50")],
            due=d(2024, 3, 1),
            balance="1500.50",
        )
        invoice(
            "I4",
            d(2024, 3, 3),
            s3,
            a2,
            [(p2, 1, "750.25"), (p3, 10, "200.00")],
            due=d(2024, 3, 18),
            balance="300.00",
        )
        invoice(
            "I5", d(2024, 3, 20), s3, a2, [(p1, 100, "10000.00")], status="void", balance="10000.00"
        )
        invoice("I6", d(2024, 3, 25), s1, a1, [(p1, -2, "-200.00")], kind="credit_note")
        invoice("I7", d(2023, 2, 10), s1, a1, [(p1, 5, "480.00")])
        invoice("I8", d(2023, 3, 15), s3, a2, [(p2, 1, "700.00")])
        invoice("I9", d(2024, 3, 28), s2, a2, [(p3, 3, "60.00")], balance="60.00")
        invoice(
            "I10", d(2024, 4, 20), s3, a2, [(p3, 5, "100.00")], due=d(2024, 5, 5), balance="100.00"
        )
        invoice(
            "I11",
            d(2023, 12, 1),
            s1,
            a1,
            [(p1, 3, "300.00")],
            due=d(2023, 12, 31),
            balance="150.00",
        )
        invoice(
            "I12", d(2024, 4, 1), s2, None, [(p3, 4, "80.00")], due=d(2024, 4, 15), balance="80.00"
        )

        def order(number, date, store, agent, state, total, n_lines):
            o = Order(
                number=number,
                order_date=date,
                store_id=store.id,
                agent_id=agent.id,
                state=state,
                total=D(total),
            )
            s.add(o)
            s.flush()
            for i in range(1, n_lines + 1):
                s.add(
                    OrderLine(
                        order_id=o.id,
                        line_no=i,
                        store_id=store.id,
                        product_id=p1.id,
                        quantity=1,
                        unit_price=D("1"),
                        line_total=D("1"),
                    )
                )
            return o

        o1 = order("A01-1", d(2024, 4, 10), s1, a1, "submitted", "500.00", 3)
        o2 = order("A01-2", d(2024, 4, 22), s2, a1, "synced", "250.00", 1)
        o3 = order("A02-1", d(2024, 4, 20), s3, a2, "cancelled", "999.00", 2)
        order("A02-2", d(2024, 4, 12), s3, a2, "draft", "50.00", 1)
        o5 = order("A02-3", d(2024, 4, 15), s3, a2, "invoiced", "300.00", 2)

        for o, sug, got in [(o1, 10, 10), (o1, 5, 0), (o1, 4, 6), (o2, 8, 4), (o3, 9, 9)]:
            s.add(
                SuggestionFeedback(
                    order_id=o.id,
                    store_id=o.store_id,
                    product_id=p2.id,
                    suggested_qty=sug,
                    ordered_qty=got,
                )
            )

        calls = [
            (s1, a1, _utc(2024, 4, 10), True, "ordered", o1),
            (s2, a1, _utc(2024, 4, 22), True, "ordered", o2),
            (s2, a1, _utc(2024, 4, 5), True, "no_answer", None),
            (s3, a1, _utc(2024, 4, 8), False, "not_needed", None),
            (s1, a1, _utc(2024, 3, 30), True, "ordered", None),
            (s3, a2, _utc(2024, 4, 15), True, "ordered", o5),
            (s4, a2, _utc(2024, 4, 16), True, "call_back", None),
            (s3, a2, _utc(2024, 4, 20), False, "ordered", o3),
        ]
        for store, agent, at, scheduled, outcome, o in calls:
            s.add(
                CallLog(
                    store_id=store.id,
                    agent_id=agent.id,
                    called_at=at,
                    scheduled=scheduled,
                    outcome=outcome,
                    order_id=o.id if o else None,
                )
            )

        preds = [
            (s1, p1, d(2024, 1, 8), 4, 12.0, _utc(2024, 1, 1)),  # superseded by the next
            (s1, p1, d(2024, 1, 8), 4, 9.0, _utc(2024, 1, 5)),
            (s3, p2, d(2024, 3, 1), 2, 3.0, _utc(2024, 2, 28)),
            (s2, p3, d(2024, 3, 25), 1, 2.5, _utc(2024, 3, 20)),
            (s3, p1, d(2024, 3, 18), 2, 5.0, _utc(2024, 3, 15)),
            (s1, p3, d(2024, 4, 29), 4, 7.0, _utc(2024, 4, 25)),  # not over by 2024-04-30
        ]
        for store, prod, start, weeks, point, gen in preds:
            s.add(
                Prediction(
                    store_id=store.id,
                    product_id=prod.id,
                    horizon_start=start,
                    horizon_weeks=weeks,
                    point=point,
                    low=0.0,
                    high=point * 2,
                    model="test",
                    generated_at=gen,
                )
            )
