"""Field mapping both ways (pure functions; the table in docs/zoho.md is checked here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mangalm_desktop.zoho.mapping import (
    MappingError,
    OrderLineInfo,
    account_to_store,
    books_time,
    contact_to_customer,
    crm_time,
    invoice_to_rows,
    item_to_product,
    parse_time,
    salesorder_payload,
)


def test_zoho_times_in_both_offset_styles_become_utc():
    assert parse_time("2013-11-18T02:02:51-0800") == dt.datetime(
        2013, 11, 18, 10, 2, 51, tzinfo=dt.UTC
    )
    assert parse_time("2019-07-25T15:26:49+05:30") == dt.datetime(
        2019, 7, 25, 9, 56, 49, tzinfo=dt.UTC
    )
    t = dt.datetime(2026, 1, 5, 9, 0, 7, 123, tzinfo=dt.UTC)
    assert books_time(t) == "2026-01-05T09:00:07+0000"  # no colon in the offset
    assert crm_time(t) == "2026-01-05T09:00:07+00:00"
    assert parse_time(None) is None


def test_account_and_contact_and_item():
    store = account_to_store({"id": "41", "Account_Name": "Ganesh Stores", "Billing_City": "Pune"})
    assert store["code"] == "ZA-41" and store["city"] == "Pune" and store["zoho_account_id"] == "41"
    with pytest.raises(MappingError):
        account_to_store({"id": "42"})
    cust = contact_to_customer({"contact_id": "9", "contact_name": "G", "zcrm_account_id": "41"})
    assert (cust.contact_id, cust.crm_account_id) == ("9", "41")
    prod = item_to_product(
        {"item_id": "7", "name": "Atta 5kg", "rate": 245.5, "status": "inactive"}
    )
    assert prod["price"] == Decimal("245.5000") and prod["active"] is False
    assert isinstance(prod["price"], Decimal)


def test_invoice_lines_money_is_exact_and_fractional_quantities_warn():
    data = invoice_to_rows(
        {
            "invoice_id": "1",
            "invoice_number": "INV-1",
            "customer_id": "9",
            "date": "2026-01-05",
            "total": 0.1 + 0.2,
            "sub_total": "100.005",
            "last_modified_time": "2026-01-05T10:00:00+0530",
            "line_items": [
                {"item_id": "7", "quantity": 2.5, "rate": 10, "item_total": 25},
                {"name": "freight", "quantity": 1, "rate": 5, "item_total": 5},  # no item_id
            ],
        }
    )
    assert data.header["total"] == Decimal("0.30") and data.header["subtotal"] == Decimal("100.01")
    assert data.modified == dt.datetime(2026, 1, 5, 4, 30, tzinfo=dt.UTC)
    assert [ln["quantity"] for ln in data.lines] == [3]
    assert len(data.warnings) == 2 and "rounded" in data.warnings[0]
    with pytest.raises(MappingError, match="has no customer_id"):
        invoice_to_rows({"invoice_id": "1", "invoice_number": "X", "date": "2026-01-05"})


def test_salesorder_payload_carries_our_number_and_refuses_what_zoho_would():
    line = OrderLineInfo("7", "Atta", 4, Decimal("245.5000"), Decimal("0"))
    payload = salesorder_payload(
        number="A07-000123",
        customer_id="9",
        store_name="G",
        order_date=dt.date(2026, 1, 5),
        delivery_date=dt.date(2026, 1, 7),
        notes="ring first",
        lines=[line],
    )
    assert payload["reference_number"] == "A07-000123" and payload["customer_id"] == "9"
    assert payload["line_items"] == [{"item_id": "7", "quantity": 4, "rate": 245.5}]
    assert payload["shipment_date"] == "2026-01-07" and payload["notes"] == "ring first"
    disc = OrderLineInfo("7", "Atta", 4, Decimal("10"), Decimal("5.0000"))
    assert (
        salesorder_payload(
            number="N",
            customer_id="9",
            store_name="G",
            order_date=dt.date(2026, 1, 5),
            delivery_date=None,
            notes=None,
            lines=[disc],
        )["line_items"][0]["discount"]
        == "5%"
    )
    with pytest.raises(MappingError, match="no Zoho Books customer id"):
        salesorder_payload(
            number="N",
            customer_id=None,
            store_name="G",
            order_date=dt.date(2026, 1, 5),
            delivery_date=None,
            notes=None,
            lines=[line],
        )
    with pytest.raises(MappingError, match="Products without a Zoho item id: Dal"):
        salesorder_payload(
            number="N",
            customer_id="9",
            store_name="G",
            order_date=dt.date(2026, 1, 5),
            delivery_date=None,
            notes=None,
            lines=[line, OrderLineInfo(None, "Dal", 1, Decimal(1), Decimal(0))],
        )
