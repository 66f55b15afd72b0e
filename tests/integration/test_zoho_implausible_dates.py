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


def test_pull_reports_impossible_dates_per_invoice_and_goes_on(server, central, clock):
    """``2024-13-45`` is no date at all: it crashed the whole pull with a bare ValueError. Now
    that invoice alone is skipped with a warning naming it and the value; the rest are written,
    and the customers' impossible modified time costs only the cursor, not the record."""
    seeded = seed_zoho(server, invoices=8)
    invoices = seeded["invoices"]
    invoices[1]["date"] = "2024-13-45"
    invoices[2]["due_date"] = "2024-02-30"
    invoices[3]["last_modified_time"] = "2024-13-45T10:00:00+0000"
    seeded["contacts"][0]["last_modified_time"] = "2024-99-01T00:00:00+0000"
    client = connect(server, clock)
    report = bridge.run_once(central, client, ["contacts", "items", "invoices"])
    contacts, res = report.results[0], report.results[-1]
    assert contacts.error is None
    assert any("2024-99-01" in w and "is not a date and time" in w for w in contacts.warnings)
    assert res.error is None, res.error
    for inv, value in zip(
        invoices[1:4], ["2024-13-45", "2024-02-30", "2024-13-45T10"], strict=True
    ):
        assert any(
            inv["invoice_number"] in w and "skipped" in w and value in w for w in res.warnings
        ), (inv["invoice_number"], res.warnings)
    with session_scope(central) as s:
        numbers = set(s.scalars(select(Invoice.number)))
    assert numbers == {
        inv["invoice_number"] for i, inv in enumerate(invoices) if i not in (1, 2, 3)
    }
