"""The payment receipt PDF (reportlab, Qt-free), in the house style of the order confirmation.

What the store is given when it pays: receipt number and date, store and collector, amount in
figures, mode and reference (cheque number and date, UPI id, UTR), the invoices it settles and
how much of each, what stays on account, and the approval status. Figures are the stored
Decimals written by :mod:`..domain.formatting` (``₹1,23,456.50``); text in the embedded fonts
of :mod:`..printing.fonts`, so ₹ and store names in Indian scripts print.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..db.files import atomic_target
from ..domain import formatting as fmt
from ..printing import document, fonts
from ..printing.document import BRAND, INK, MUTED, RULE, CompanyInfo
from .model import MODE_LABEL
from .queries import PaymentDetail

STATUS_LABEL = {
    "collected": "Collected (awaiting office approval)",
    "approved": "Approved by the office",
    "rejected": "REJECTED by the office",
}
WIDTH = 128 * mm  # A5 less margins


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return fonts.paragraph(text, style)


def _table(rows: list[list[object]], widths: list[float], style: list[tuple[object, ...]]) -> Table:
    t = Table(rows, colWidths=widths)
    t.setStyle(TableStyle(style))
    return t


def _header(d: PaymentDetail, company: CompanyInfo, st: dict[str, ParagraphStyle]) -> Table:
    left = [_p(company.name, st["company"]), _p(company.address, st["small"])]
    contact = " · ".join(x for x in (company.phone, company.email) if x)
    if contact:
        left.append(_p(contact, st["small"]))
    if company.gstin:
        left.append(_p(f"GSTIN {company.gstin}", st["small"]))
    right = [
        _p("Payment receipt", st["title"]),
        _p(f"No. {d.row.number}", st["meta"]),
        _p(f"Date {fmt.day(d.row.received_on)}", st["meta"]),
    ]
    return _table(
        [[left, right]],
        [70 * mm, 58 * mm],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 1.5, BRAND),
            ("BOTTOMPADDING", (0, 0), (-1, 0), 8),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ],
    )


def _how(d: PaymentDetail) -> list[str]:
    r = d.row
    mode = MODE_LABEL.get(r.mode, r.mode)
    if r.mode == "cheque":
        return [f"{mode} no. {r.reference or '-'} dated {fmt.day(r.cheque_date)}"]
    if r.reference:
        return [f"{mode}, reference {r.reference}"]
    return [mode]


def _body(d: PaymentDetail, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    r = d.row
    received = [
        _p("RECEIVED FROM", st["label"]),
        _p(r.store_name, st["body"]),
        *[_p(x, st["body"]) for x in (d.store_address, d.store_phone) if x],
        _p(f"Code {r.store_code}", st["body"]),
    ]
    by = [
        _p("COLLECTED BY", st["label"]),
        _p(f"{d.agent_name} ({r.agent_code})", st["body"]),
        _p("PAID BY", st["label"]),
        *[_p(x, st["body"]) for x in _how(d)],
    ]
    parties = _table(
        [[received, by]],
        [70 * mm, 58 * mm],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 8),
        ],
    )
    regular, bold = fonts.register()
    amount = _table(
        [["Amount received", fmt.money(r.amount)]],
        [70 * mm, 58 * mm],
        [
            ("FONTNAME", (0, 0), (-1, -1), bold),
            ("FONTSIZE", (0, 0), (-1, -1), 13),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ("LINEABOVE", (0, 0), (-1, 0), 1, BRAND),
            ("LINEBELOW", (0, 0), (-1, 0), 1, BRAND),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ],
    )
    story: list[Flowable] = [parties, Spacer(1, 4 * mm), amount, Spacer(1, 5 * mm)]
    if d.allocations:
        rows: list[list[object]] = [
            [_p("Invoice", st["head"]), _p("Date", st["head"]), _p("Settled", st["headr"])]
        ]
        for a in d.allocations:
            rows.append(
                [
                    _p(a.invoice_number, st["cell"]),
                    _p(fmt.day(a.invoice_date), st["cell"]),
                    _p(fmt.money(a.amount), st["num"]),
                ]
            )
        story.append(
            _table(
                rows,
                [50 * mm, 40 * mm, 38 * mm],
                [
                    ("BACKGROUND", (0, 0), (-1, 0), BRAND),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ],
            )
        )
    on_account = r.amount - d.allocated
    if on_account:
        story += [Spacer(1, 2 * mm), _p(f"On account: {fmt.money(on_account)}", st["body"])]
    story += [
        Spacer(1, 4 * mm),
        _p(f"Status: {STATUS_LABEL.get(r.status, r.status)}", st["body"]),
    ]
    if r.status == "rejected" and r.decision_note:
        story.append(_p(f"Reason: {r.decision_note}", st["body"]))
    if d.notes:
        story += [Spacer(1, 3 * mm), _p("NOTES", st["label"]), _p(d.notes, st["body"])]
    note = "A cheque is credited when it clears." if r.mode == "cheque" else ""
    story += [
        Spacer(1, 6 * mm),
        _p(f"This receipt acknowledges the amount above. {note}".strip(), st["small"]),
    ]
    return story


def render_receipt_pdf(
    d: PaymentDetail, target: Path | BinaryIO, company: CompanyInfo | None = None
) -> None:
    """Write the receipt for ``d`` to a path or a binary stream (A5, one page)."""
    company = company or CompanyInfo()
    st = document.styles()
    printed = fmt.day_time(dt.datetime.now())

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        fonts.draw(
            canvas,
            10 * mm,
            8 * mm,
            f"{company.name} · receipt {d.row.number} · printed {printed}",
            7,
        )
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(target) if isinstance(target, Path) else target,
        pagesize=A5,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=14 * mm,
        title=f"Receipt {d.row.number}",
        author=company.name,
        subject=f"Payment receipt for {d.row.store_name}",
    )
    doc.build([_header(d, company, st), *_body(d, st)], onFirstPage=footer, onLaterPages=footer)


def receipt_pdf_bytes(d: PaymentDetail, company: CompanyInfo | None = None) -> bytes:
    buf = BytesIO()
    render_receipt_pdf(d, buf, company)
    return buf.getvalue()


def save_receipt_pdf(d: PaymentDetail, path: Path, company: CompanyInfo | None = None) -> Path:
    """Write the receipt to ``path``: never through a symbolic link, never half-written."""
    with atomic_target(Path(path)) as tmp:
        render_receipt_pdf(d, tmp, company)
    return Path(path)


__all__ = ["receipt_pdf_bytes", "render_receipt_pdf", "save_receipt_pdf"]
