"""The collections reports and the ageing after collections, through the report catalogue and
``mangalm report`` (docs/reports.md "Collections")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from mangalm_desktop.cli.main import main
from mangalm_desktop.domain.enums import PaymentMode
from mangalm_desktop.payments import service
from mangalm_desktop.payments.model import AllocationInput, PaymentInput
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.filters import ReportFilters

from .payments_support import TODAY, seed_payments


def _rows(engine, name, **kw):
    res = run_report(engine, name, ReportFilters(date_to=TODAY, **kw), identity=None)
    return res.frame.to_dict("records")


def test_collections_by_agent_day_mode_pending_and_ageing_after_collections(
    engine, db_path, capsys
):
    sd = seed_payments(engine)
    before = {r["store_code"]: r for r in _rows(engine, "ageing")}["ST-001"]
    assert (before["d31_60"], before["d0_30"], before["total"]) == (
        D("3000.00"),
        D("2500.50"),
        D("6700.50"),
    )
    yesterday = TODAY - dt.timedelta(days=1)
    cheque = service.record_payment_now(
        engine,
        sd.agent,
        PaymentInput(
            sd.store_id,
            D("3500.00"),
            PaymentMode.CHEQUE,
            received_on=yesterday,
            reference="1",
            cheque_date=yesterday,
            allocations=[AllocationInput(sd.invoices["INV-001"], D("3000.00"))],
        ),
        today=TODAY,
    )
    cash = service.record_payment_now(
        engine, sd.agent, PaymentInput(sd.store_id, D("200.00"), "cash"), today=TODAY
    )
    bounced = service.record_payment_now(
        engine, sd.agent, PaymentInput(sd.store_id, D("50.00"), "cash"), today=TODAY
    )
    service.approve(engine, sd.manager, cheque.number)
    service.reject(engine, sd.manager, bounced.number, reason="counterfeit note")

    got = _rows(engine, "collections", date_from=yesterday)
    assert [(r["received_on"], r["agent_code"], r["mode"], r["payments"]) for r in got] == [
        (TODAY, "A07", "Cash", 2),
        (yesterday, "A07", "Cheque", 1),
    ]
    today_cash, cheque_row = got
    assert (today_cash["collected"], today_cash["pending"], today_cash["rejected"]) == (
        D("250.00"),
        D("200.00"),
        D("50.00"),
    )
    assert (cheque_row["approved"], cheque_row["pending"]) == (D("3500.00"), D("0.00"))

    pending = _rows(engine, "collections-pending")
    assert [(r["receipt"], r["amount"], r["days_waiting"]) for r in pending] == [
        (cash.number, D("200.00"), 0)
    ]

    after = {r["store_code"]: r for r in _rows(engine, "ageing")}["ST-001"]
    # INV-001 is settled (31–60 bucket empties); the ₹500 + ₹200 on account are not an
    # invoice's, so the buckets keep them and the store card's outstanding subtracts them.
    assert (after["d31_60"], after["d0_30"], after["total"]) == (
        D("0.00"),
        D("2500.50"),
        D("3700.50"),
    )
    # As of the day before the cheque, the ageing is as it was.
    earlier = run_report(
        engine, "ageing", ReportFilters(date_to=yesterday - dt.timedelta(days=1)), identity=None
    )
    assert {r["store_code"]: r for r in earlier.frame.to_dict("records")}["ST-001"]["total"] == D(
        "6700.50"
    )

    code = main(
        [
            "report",
            "collections",
            "--db",
            str(db_path),
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-25",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "Collections by agent, day and mode" in out and "₹3,500.00" in out
