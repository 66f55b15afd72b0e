"""A Zoho invoice with an implausible date (issue 23, finding 7) is skipped with a warning naming
it, not written where it would distort the forecast and the reports; an implausible due date
is dropped (due on the invoice date) with a warning. Strict local Zoho server, real PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice
from mangalm_desktop.zoho import bridge
from tests.zoho_server.support import connect, seed_zoho

pytestmark = pytest.mark.pg


def test_pull_skips_invoices_with_implausible_dates_and_names_them(server, central, clock):
    seeded = seed_zoho(server, invoices=8)
    invoices = seeded["invoices"]
    bad = ["0001-01-01", "1900-01-01", "2099-12-31", "9999-12-31"]
    for inv, day in zip(invoices[1:5], bad, strict=True):
        inv["date"] = day
    invoices[6]["due_date"] = "9999-12-31"
    client = connect(server, clock)
    report = bridge.run_once(central, client, ["contacts", "items", "invoices"])
    res = report.results[-1]
    assert res.error is None and res.created == 4
    for inv in invoices[1:5]:
        assert any(
            inv["invoice_number"] in w and "outside the plausible range 2000-01-01" in w
            for w in res.warnings
        ), (inv["invoice_number"], res.warnings)
    assert any(
        invoices[6]["invoice_number"] in w and "due date 9999-12-31" in w for w in res.warnings
    )
    with session_scope(central) as s:
        rows = {r.number: r for r in s.scalars(select(Invoice))}
    expected = {inv["invoice_number"] for i, inv in enumerate(invoices) if i not in (1, 2, 3, 4)}
    assert set(rows) == expected
    assert all(dt.date(2000, 1, 1) <= r.invoice_date for r in rows.values())
    assert rows[invoices[6]["invoice_number"]].due_date is None
