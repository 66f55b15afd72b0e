"""Generic history import: the documented rules on a small sample, and the real shared file."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mangalm_desktop.db.models import Invoice, InvoiceLine, Product, Store
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.imports.history import (
    RULE_DUPLICATE,
    RULE_NEGATIVE_PRICE,
    RULE_NO_CUSTOMER,
    RULE_NON_PRODUCT,
    import_history,
    parse_columns,
    repair_text,
)
from tests.conftest import RETAIL_HISTORY

COLUMNS = parse_columns(
    "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,price=UnitPrice,"
    "invoice=InvoiceNo,product_name=Description,region=Country"
)
SAMPLE = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,2,2010-12-01 08:26:00,3.39,17850,United Kingdom
536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,,United Kingdom
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-02 09:41:00,2.55,17850,United Kingdom
A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,-11062.06,,United Kingdom
536367,gift_0001_20,Dotcomgiftshop Gift Voucher Â£20.00,1,2010-12-03 10:00:00,17.02,12583,France
536368,21754,HOME BUILDING BLOCK WORD,3,2010-12-03 10:05:00,0,12583,France
536369,90214Y,"LETTER ""Y"" BLING KEY RING",12,2010-12-04 11:00:00,0.29,12583.0,France
536370,22728,ALARM CLOCK BAKELIKE PINK,-1,2010-12-05 11:00:00,-3.75,12583,France
536371,22999,CAFÃ‰ MUG,4,2010-12-05 12:00:00,1.25,17850,United Kingdom
"""
D = Decimal


def test_sample_rules_are_applied_and_counted(engine, tmp_path: Path) -> None:
    path = tmp_path / "sample.csv"
    path.write_text(SAMPLE, encoding="utf-8")
    summary = import_history(engine, [path], COLUMNS, identity=None)

    f = summary.files[0]
    assert f.committed and f.rows_read == 13 and f.imported == 7 and f.rejected == 0
    assert dict(f.skipped) == {
        RULE_NON_PRODUCT: 3,
        RULE_NO_CUSTOMER: 1,
        RULE_NEGATIVE_PRICE: 1,
        RULE_DUPLICATE: 1,
    }
    assert f.kept_notes["cancellation lines kept as returns"] == 1
    assert f.kept_notes["zero-price lines"] == 1
    assert f.kept_notes["descriptions with broken encoding repaired"] == 1
    with Session(engine) as s:
        stores = {st.code: (st.name, st.region) for st in s.scalars(select(Store))}
        assert stores == {
            "17850": ("Customer 17850", "United Kingdom"),
            "12583": ("Customer 12583", "France"),  # "12583.0" is the same customer
        }
        names = dict(s.execute(select(Product.sku, Product.name)).all())
        assert names == {
            "85123A": "WHITE HANGING HEART T-LIGHT HOLDER",
            "71053": "WHITE METAL LANTERN",
            "21754": "HOME BUILDING BLOCK WORD",
            "90214Y": 'LETTER "Y" BLING KEY RING',
            "22999": "CAFÉ MUG",
        }
        invoices = {
            i.number: (i.kind, i.total, str(i.invoice_date), i.source)
            for i in s.scalars(select(Invoice))
        }
        assert invoices == {
            "536365": ("invoice", D("42.42"), "2010-12-01", "history"),
            "C536379": ("credit_note", D("-5.10"), "2010-12-02", "history"),
            "536368": ("invoice", D("0.00"), "2010-12-03", "history"),
            "536369": ("invoice", D("3.48"), "2010-12-04", "history"),
            "536371": ("invoice", D("5.00"), "2010-12-05", "history"),
        }
        lantern = s.execute(
            select(InvoiceLine.line_no, InvoiceLine.quantity, InvoiceLine.line_total)
            .join(Product, Product.id == InvoiceLine.product_id)
            .where(Product.sku == "71053")
            .order_by(InvoiceLine.line_no)
        ).all()
        assert [tuple(r) for r in lantern] == [(2, 6, D("20.34")), (3, 2, D("6.78"))]

    again = import_history(engine, [path], COLUMNS, identity=None).counts
    assert (again.lines.created, again.lines.updated, again.lines.unchanged) == (0, 0, 7)
    assert (again.invoices.updated, again.stores.updated, again.products.updated) == (0, 0, 0)


def test_history_rows_with_bad_cells_are_rejected(engine, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    lines = SAMPLE.splitlines()
    lines[1] = lines[1].replace(",6,", ",six,")
    lines[2] = lines[2].replace("2010-12-01 08:26:00", "yesterday")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_history(engine, [path], COLUMNS, identity=None)
    assert not summary.files[0].committed
    assert [(e.row, e.column, e.reason) for e in summary.errors] == [
        (2, "Quantity", "not a number"),
        (3, "InvoiceDate", "not a date in the file's format (%Y-%m-%d %H:%M:%S)"),
    ]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(InvoiceLine)) == 0


def test_history_refuses_a_zoho_invoice_number(engine, tmp_path: Path) -> None:
    from mangalm_desktop.imports.zoho import import_invoices

    import_invoices(
        engine,
        [Path(__file__).resolve().parents[1] / "fixtures/imports/zoho_golden.csv"],
        identity=None,
    )
    path = tmp_path / "h.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "INV-0001,X1,Thing,1,2024-01-02 10:00:00,1.00,99,India\n",
        encoding="utf-8",
    )
    summary = import_history(engine, [path], COLUMNS, identity=None)
    assert not summary.files[0].committed
    assert "another source" in summary.errors[0].reason


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("store=A,product=B", "--columns must name date, quantity"),
        ("store=A,product=B,date=C,quantity=D,colour=E", "unknown role 'colour'"),
        ("store=A,product,date=C,quantity=D", "'product' is not role=Column"),
    ],
)
def test_bad_columns_option(spec: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_columns(spec)


def test_columns_not_in_the_file(engine, tmp_path: Path) -> None:
    path = tmp_path / "sample.csv"
    path.write_text(SAMPLE, encoding="utf-8")
    cols = dict(COLUMNS, store="Customer")
    summary = import_history(engine, [path], cols, identity=None)
    assert "missing column(s) Customer for --columns" in summary.file_errors[0]


def test_repair_text_only_touches_mojibake() -> None:
    assert repair_text("Gift Voucher Â£20.00") == "Gift Voucher £20.00"
    assert repair_text("CAFÃ‰") == "CAFÉ"
    assert repair_text("plain £5") == "plain £5"
    assert repair_text("Ã alone is kept") == "Ã alone is kept"


@pytest.mark.slow
@pytest.mark.skipif(not RETAIL_HISTORY.exists(), reason="shared history file not present")
def test_real_history_file_imports_completely(engine) -> None:
    t0 = time.perf_counter()
    summary = import_history(engine, [RETAIL_HISTORY], COLUMNS, identity=None)
    seconds = time.perf_counter() - t0
    f = summary.files[0]
    assert f.committed and f.rejected == 0 and not summary.file_errors
    assert f.rows_read == 873_869  # every line of the file was read
    assert f.imported + sum(f.skipped.values()) == f.rows_read  # and each one accounted for
    assert dict(f.skipped) == {
        RULE_NO_CUSTOMER: 196_270,
        RULE_DUPLICATE: 9_258,
        RULE_NON_PRODUCT: 5_085,
    }
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(InvoiceLine)) == f.imported == 663_256
        credit_lines = s.scalar(
            select(func.count())
            .select_from(InvoiceLine)
            .join(Invoice)
            .where(Invoice.kind == "credit_note")
        )
        assert credit_lines == f.kept_notes["cancellation lines kept as returns"]
        assert s.scalar(select(func.count()).select_from(Store)) == summary.counts.stores.created
        # money is exact: the per-invoice totals add up to the line totals, to the penny
        inv_sum = s.scalar(select(func.sum(Invoice.total)))
        line_sum = s.scalar(select(func.sum(InvoiceLine.line_total)))
        assert inv_sum == line_sum
    print(f"real history import: {seconds:.1f} s")
