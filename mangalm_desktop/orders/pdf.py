"""The order confirmation PDF (reportlab, Qt-free): what the store agreed to, on one page or more.

Branded header (company), order number and dates, the store and the agent, every line with
SKU, quantity, pack, price, discount and amount, then subtotal, discounts and total — the same
Decimal figures the order stores, never recomputed as floats, written by
:mod:`..domain.formatting` (``₹1,23,456.50``). Text is set in the embedded Noto fonts of
:mod:`..printing.fonts`, so ₹ and store names in Indian scripts print. The GUI prints this file.
"""

from __future__ import annotations

import datetime as dt
import uuid
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import Engine

from ..db.engine import session_scope
from ..db.files import atomic_target
from ..domain import formatting as fmt
from ..printing import document, fonts
from ..printing.document import BAND, BRAND, INK, MUTED, RULE
from ..printing.document import CompanyInfo as CompanyInfo  # re-exported for callers
from ..security.roles import Identity
from .queries import LineView, OrderDetail, get_order

STATE_LABEL = {
    "draft": "DRAFT (not submitted)",
    "submitted": "Submitted",
    "synced": "Received by office",
    "sent_to_zoho": "Sent for invoicing",
    "invoiced": "Invoiced",
    "cancelled": "CANCELLED",
}


def _styles() -> dict[str, ParagraphStyle]:
    return document.styles()


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return fonts.paragraph(text, style)


def _header(o: OrderDetail, company: CompanyInfo, st: dict[str, ParagraphStyle]) -> Table:
    contact = " · ".join(x for x in (company.phone, company.email) if x)
    left = [_p(company.name, st["company"]), _p(company.address, st["small"])]
    if contact:
        left.append(_p(contact, st["small"]))
    if company.gstin:
        left.append(_p(f"GSTIN {company.gstin}", st["small"]))
    title = "Return confirmation" if o.kind == "return" else "Order confirmation"
    right = [
        _p(title, st["title"]),
        _p(f"No. {o.number}", st["meta"]),
        _p(f"Date {fmt.day(o.order_date)}", st["meta"]),
        _p(f"Status: {STATE_LABEL.get(o.state, o.state)}", st["meta"]),
    ]
    t = Table([[left, right]], colWidths=[100 * mm, 80 * mm])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.5, BRAND),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return t


def _parties(o: OrderDetail, st: dict[str, ParagraphStyle]) -> Table:
    store_lines = [
        o.store_name,
        o.store_address,
        o.store_city,
        o.store_phone,
        f"Code {o.store_code}",
    ]
    agent_lines = [f"{o.agent_name} ({o.agent_code})", o.agent_phone]
    if o.requested_delivery_date:
        agent_lines.append(f"Requested delivery: {fmt.day(o.requested_delivery_date)}")
    if o.zoho_salesorder_number:
        agent_lines.append(f"Sales order: {o.zoho_salesorder_number}")
    left = [_p("STORE", st["label"])] + [_p(x, st["body"]) for x in store_lines if x]
    right = [_p("TAKEN BY", st["label"])] + [_p(x, st["body"]) for x in agent_lines if x]
    t = Table([[left, right]], colWidths=[100 * mm, 80 * mm])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 10),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return t


def _product_cell(ln: LineView, st: dict[str, ParagraphStyle]) -> Paragraph | list[Paragraph]:
    """The product's name, and under it the scheme behind the line (free goods say so)."""
    if not ln.scheme_reason:
        return _p(ln.name, st["cell"])
    why = f"{'Free: ' if ln.free_goods else ''}{ln.scheme_reason}"
    return [_p(ln.name, st["cell"]), _p(why, st["small"])]


def _lines(o: OrderDetail, st: dict[str, ParagraphStyle]) -> Table:
    heads = ["#", "SKU", "Product", "Qty", "Pack", "Price", "Disc.", "Amount"]
    rows = [
        [_p(h, st["headr"] if i >= 3 else st["head"]) for i, h in enumerate(heads)],
    ]
    for n, ln in enumerate(o.lines, start=1):
        unit = f" {ln.unit}" if ln.unit else ""
        rows.append(
            [
                _p(str(n), st["cell"]),
                _p(ln.sku or "", st["cell"]),
                _product_cell(ln, st),
                _p(f"{fmt.quantity(ln.quantity)}{unit}", st["num"]),
                _p(str(ln.pack_size), st["num"]),
                _p(fmt.price(ln.unit_price), st["num"]),
                _p(fmt.percent_points(ln.discount_pct) if ln.discount_pct else "", st["num"]),
                _p(fmt.money(ln.line_total), st["num"]),
            ]
        )
    widths = [8 * mm, 24 * mm, 62 * mm, 19 * mm, 11 * mm, 20 * mm, 13 * mm, 23 * mm]
    t = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), BRAND),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    style += [("BACKGROUND", (0, i), (-1, i), BAND) for i in range(2, len(rows), 2)]
    t.setStyle(TableStyle(style))
    return t


def _totals(o: OrderDetail, st: dict[str, ParagraphStyle]) -> Table:
    regular, bold = fonts.register()
    rows = [["Subtotal", fmt.money(o.subtotal)]]
    if o.discount_total:
        label = "Discounts"
        if o.discount_pct:
            label += f" (incl. {fmt.percent_points(o.discount_pct)} on the order)"
        rows.append([label, f"- {fmt.money(o.discount_total)}"])
    rows.append(["Total (GST inclusive)", fmt.money(o.total)])
    t = Table(rows, colWidths=[60 * mm, 32 * mm], hAlign="RIGHT")
    t.setStyle(
        TableStyle(
            [
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONTNAME", (0, 0), (-1, -1), regular),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("FONTNAME", (0, -1), (-1, -1), bold),
                ("FONTSIZE", (0, -1), (-1, -1), 11),
                ("LINEABOVE", (0, -1), (-1, -1), 1, BRAND),
                ("TOPPADDING", (0, -1), (-1, -1), 6),
            ]
        )
    )
    return t


def render_order_pdf(
    o: OrderDetail, target: Path | BinaryIO, company: CompanyInfo | None = None
) -> None:
    """Write the confirmation for ``o`` to a path or a binary stream."""
    company = company or CompanyInfo()
    st = _styles()
    generated = fmt.day_time(dt.datetime.now())

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        line = f"{company.name} · order {o.number} · printed {generated}"
        fonts.draw(canvas, 15 * mm, 10 * mm, line, 7.5)
        fonts.draw(canvas, 195 * mm, 10 * mm, f"Page {doc.page}", 7.5, right=True)
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(target) if isinstance(target, Path) else target,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"Order {o.number}",
        author=company.name,
        subject=f"Order confirmation for {o.store_name}",
    )
    story = [
        _header(o, company, st),
        _parties(o, st),
        _lines(o, st),
        Spacer(1, 6 * mm),
        _totals(o, st),
    ]
    if o.notes:
        story += [Spacer(1, 6 * mm), _p("NOTES", st["label"]), _p(o.notes, st["body"])]
    story += [
        Spacer(1, 8 * mm),
        _p(
            "Prices are list prices including GST; the tax invoice follows from the office. "
            "Quantities are in units; packs shown for reference.",
            st["small"],
        ),
    ]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def order_pdf_bytes(o: OrderDetail, company: CompanyInfo | None = None) -> bytes:
    buf = BytesIO()
    render_order_pdf(o, buf, company)
    return buf.getvalue()


def write_order_pdf(
    engine: Engine,
    order_id: uuid.UUID,
    path: Path,
    company: CompanyInfo | None = None,
    *,
    identity: Identity | None,
) -> Path:
    """Read the order (one short transaction) and write its confirmation to ``path``."""
    with session_scope(engine) as session:
        detail = get_order(session, order_id, identity=identity)
    return save_order_pdf(detail, Path(path), company)


def save_order_pdf(o: OrderDetail, path: Path, company: CompanyInfo | None = None) -> Path:
    """Write the confirmation to ``path`` (CLI and GUI): never through a symbolic link, never
    half-written (``db.files.atomic_target``)."""
    with atomic_target(Path(path)) as tmp:
        render_order_pdf(o, tmp, company)
    return Path(path)
