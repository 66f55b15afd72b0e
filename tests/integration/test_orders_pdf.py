"""The order confirmation PDF: the figures printed are the stored Decimals, every line is there."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

from pypdf import PdfReader

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.orders import pdf, queries, service
from mangalm_desktop.orders.model import LineInput, OrderDraft

from .orders_support import seed

TODAY = dt.date(2026, 11, 25)


def _text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_confirmation_has_company_store_agent_lines_and_totals(engine, tmp_path):
    sd = seed(engine)
    res = service.submit(
        engine,
        OrderDraft(
            store=sd.store_id,
            agent_id=sd.agent_id,
            lines=[
                LineInput("ATTA-5", 8, D("5")),
                LineInput("DAL-1", 10),
                LineInput("TEA-250", 24, D("2.5")),
            ],
            discount_pct=D("3"),
            notes="Deliver before 10 am & collect empties",
            requested_delivery_date=TODAY + dt.timedelta(days=2),
        ),
        today=TODAY,
        identity=None,
    )
    out = pdf.write_order_pdf(
        engine,
        res.order_id,
        tmp_path / "order.pdf",
        pdf.CompanyInfo(gstin="29ABCDE1234F1Z5"),
        identity=None,
    )
    text = _text(out)
    for expected in [
        "Mangalm Foods Distribution",
        "GSTIN 29ABCDE1234F1Z5",
        "Order confirmation",
        f"No. {res.number}",
        "Date 25 Nov 2026",
        "Sri Lakshmi Stores",
        "12 Sayyaji Rao Road",
        "Ravi Kumar (A07)",
        "Requested delivery: 27 Nov 2026",
        "Mangalm Chakki Atta 5 kg",
        "1,865.80",
        "2,620.80",
        "₹6,051.90",
        "- ₹342.00",
        "incl. 3% on the order",
        "₹5,709.90",
        "Deliver before 10 am & collect empties",
    ]:
        assert expected in text, expected


def test_long_order_flows_onto_more_pages_with_every_line(engine, tmp_path):
    sd = seed(engine, extra_products=70)
    lines = [LineInput(f"GEN-{i:03d}", i + 1) for i in range(70)]
    res = service.submit(
        engine,
        OrderDraft(store=sd.store_id, agent_id=sd.agent_id, lines=lines),
        accept_credit_warning=True,
        today=TODAY,
        identity=None,
    )
    with session_scope(engine) as s:
        detail = queries.get_order(s, res.order_id, identity=None)
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf.order_pdf_bytes(detail))
    reader = PdfReader(path)
    assert len(reader.pages) >= 2
    text = _text(path)
    assert set(re.findall(r"GEN-\d{3}", text)) == {f"GEN-{i:03d}" for i in range(70)}
    assert detail.total == D("139781.25")
    assert "₹1,39,781.25" in text  # Indian grouping, the rupee sign (not "Rs 139,781.25")
    assert "Page 2" in text
