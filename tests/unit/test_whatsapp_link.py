"""The wa.me link: phone numbers as the store card holds them, and the encoded summary."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.messaging.whatsapp import normalise_phone, order_summary, whatsapp_link
from mangalm_desktop.orders.queries import LineView, OrderDetail


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("9845012345", "919845012345"),
        ("98450 12345", "919845012345"),
        ("098450-12345", "919845012345"),
        ("+91 98450 12345", "919845012345"),
        ("+91-98450-12345", "919845012345"),
        ("0091 98450 12345", "919845012345"),
        ("91 98450 12345", "919845012345"),
        ("(0821) 000 1112", "918210001112"),
        ("+44 7911 123456", "447911123456"),
    ],
)
def test_normalise_phone(raw, digits):
    assert normalise_phone(raw) == digits


def test_default_country_is_configurable():
    assert normalise_phone("07911 123456", default_country="44") == "447911123456"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "has no phone number"),
        (None, "has no phone number"),
        ("98450 1234", "has 10 digits after the country code (this one has 9)"),
        ("+91 98450 123456", "this one has 11"),
        ("call 98450 12345", "only digits"),
        ("98450x12345", "only digits"),
        ("+1 234", "8 to 15 digits"),
        ("٩٨٤٥٠١٢٣٤٥", "only digits"),  # Arabic-Indic digits: not what wa.me takes
    ],
)
def test_invalid_numbers_are_refused_in_words(raw, words):
    with pytest.raises(UserError, match="WhatsApp|phone") as info:
        normalise_phone(raw)
    assert words in str(info.value)


def _order(lines: int) -> OrderDetail:
    return OrderDetail(
        id=uuid.uuid4(),
        number="A07-K3M-000123",
        kind="order",
        state="submitted",
        version=1,
        order_date=dt.date(2026, 12, 6),
        requested_delivery_date=None,
        notes=None,
        discount_pct=Decimal(0),
        subtotal=Decimal("3928.00"),
        discount_total=Decimal(0),
        total=Decimal("3928.00"),
        submitted_at=None,
        cancelled_at=None,
        zoho_salesorder_number=None,
        store_id=uuid.uuid4(),
        store_code="ST-001",
        store_name="Ganesh Provisions & Sons",
        store_address=None,
        store_city=None,
        store_phone="98450 12345",
        agent_id=uuid.uuid4(),
        agent_code="A07",
        agent_name="Ravi Kumar",
        agent_phone=None,
        lines=[
            LineView(
                line_no=i + 1,
                product_id=uuid.uuid4(),
                sku=f"S{i}",
                name=f"Atta #{i}",
                unit="pcs",
                pack_size=1,
                quantity=12,
                unit_price=Decimal("245.50"),
                discount_pct=Decimal(0),
                line_total=Decimal("2946.00"),
                suggested_qty=None,
            )
            for i in range(lines)
        ],
    )


def test_link_carries_the_summary_url_encoded():
    order = _order(2)
    link = whatsapp_link(normalise_phone(order.store_phone), order_summary(order))
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/919845012345")
    assert " " not in link and "\n" not in link
    assert list(parse_qs(parts.query)) == ["text"]  # the store's "&" did not split the query
    [text] = parse_qs(parts.query)["text"]
    assert text == order_summary(order)
    assert text.splitlines()[0] == "Order A07-K3M-000123 for Ganesh Provisions & Sons, 06 Dec 2026"
    assert "- Atta #0 × 12: ₹2,946.00" in text
    assert "Total: ₹3,928.00 (2 lines)" in text


def test_long_orders_are_cut_in_the_summary():
    text = order_summary(_order(40))
    assert "… and 25 more lines" in text and "(40 lines)" in text
