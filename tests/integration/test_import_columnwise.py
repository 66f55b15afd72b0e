"""The column-wise path of the Zoho import (issue 21): same rows, same errors as row by row.

A clean chunk of new lines is read column-wise (``ZohoMapper.map_chunk`` + ``Writer.add_columns``);
anything unusual sends the chunk row by row. Each test imports the same file twice, once as the
importer chooses and once with the column-wise path switched off, and compares what was stored
and what was reported.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.imports.pipeline import ImportOptions
from mangalm_desktop.imports.zoho import ZohoMapper, import_invoices
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, write_csv
from tests.integration.test_import_zoho import snapshot

CHUNK = 50  # small chunks, so invoices run across chunk boundaries


def col(name: str) -> int:
    return HEADER.index(name)


def _rows(n: int) -> list[list[str]]:
    """``n`` lines: invoices of 1-7 lines (crossing chunk ends), 3 stores, 9 products, credit
    notes with negative quantities, some lines without an MRP, invoices without a total (summed
    from their lines), line totals with thousands separators."""
    rows, i, inv = [], 0, 0
    while i < n:
        inv += 1
        credit = inv % 11 == 0
        for k in range(1 + inv % 7):
            r = list(ROWS[0])
            r[col("Invoice ID")] = str(70_000 + inv)
            r[col("Invoice Number")] = f"{'CN' if credit else 'INV'}-{inv:05d}"
            r[col("Invoice Date")] = f"{1 + inv % 28:02d} Mar 2024"
            r[col("Customer ID")] = f"C-{inv % 3}"
            r[col("Customer Name")] = f"Store {inv % 3}"
            p = (inv + k) % 9
            r[col("Product ID")], r[col("SKU")], r[col("Item Name")] = (
                f"P-{p}",
                f"S-{p}",
                f"Item {p}",
            )
            qty = -(k + 1) if credit else 3 * (k + 1)
            r[col("Quantity")] = str(qty)
            r[col("Item Price")] = f"{10 + p}.50"
            r[col("Item Total")] = f"{qty * (10 + p) + qty / 2:.2f}"
            r[col("Total")] = r[col("SubTotal")] = "0.00" if not credit else "-1.00"
            if inv % 5 == 0:  # no invoice total: the sum of the imported lines
                r[col("Total")] = ""
            if inv % 4 == 0 and qty > 0:  # a line total as Excel re-saves it: 1,234.50
                r[col("Item Total")] = f"{1000 + qty * (10 + p):,.2f}"
            r[col("MRP")] = "" if p == 4 else f"{12 + p}.00"
            r[col("Sales Person")] = ("Ravi Kumar", "Priya Shah")[inv % 2]
            rows.append(r)
            i += 1
    return rows[:n]


def _import(tmp_path: Path, name: str, path: Path, **options) -> tuple[object, dict, Path]:
    engine = open_local_database(tmp_path / f"{name}.sqlite")
    report = tmp_path / f"{name}-errors.csv"
    opts = ImportOptions(chunk_rows=CHUNK, error_report=report, **options)
    summary = import_invoices(engine, [path], opts, identity=None)
    snap = snapshot(engine)
    engine.dispose()
    return summary, snap, report


def _both_ways(tmp_path, monkeypatch, rows, **options):
    path = tmp_path / "export.csv"
    write_csv(path, HEADER, rows)
    row_by_row: list[int] = []
    real_map = ZohoMapper.map

    def counting_map(self, row_no, cells):  # noqa: ANN001, ANN202
        row_by_row.append(row_no)
        return real_map(self, row_no, cells)

    monkeypatch.setattr(ZohoMapper, "map", counting_map)
    fast = _import(tmp_path, "fast", path, **options)
    fast_rows = list(row_by_row)
    monkeypatch.setattr(ZohoMapper, "map_chunk", lambda self, chunk: None)
    slow = _import(tmp_path, "slow", path, **options)
    return fast, slow, fast_rows


def _said(summary) -> list[str]:  # noqa: ANN001
    """The summary's lines without the error report's path (each run writes its own)."""
    return [line.split(": /")[0] for line in summary.lines()]


def test_a_clean_export_is_read_column_wise_and_stores_what_row_by_row_stores(
    tmp_path, monkeypatch
) -> None:
    fast, slow, row_by_row = _both_ways(tmp_path, monkeypatch, _rows(400))
    assert row_by_row == []  # every chunk went column-wise
    assert fast[0].lines() == slow[0].lines()
    assert fast[1] == slow[1]
    assert len(fast[1]["lines"]) == 400 and fast[0].imported == 400
    assert [n for n in fast[0].lines() if "credit notes" in n or "negative" in n]


def test_bad_rows_in_later_chunks_are_reported_as_row_by_row(tmp_path, monkeypatch) -> None:
    rows = _rows(400)
    rows.insert(130, list(rows[120]))  # a doubled row in the third chunk
    rows[260][col("Quantity")] = "three"  # a value that does not read, in the sixth
    rows[330][col("Invoice ID")] = " "  # no invoice id
    rows[370][col("Invoice Status")] = "Void"  # a skipped status (its invoice is left out)
    for i, options in enumerate(({"skip_bad_rows": True}, {})):
        (tmp_path / str(i)).mkdir()
        fast, slow, row_by_row = _both_ways(tmp_path / str(i), monkeypatch, rows, **options)
        monkeypatch.undo()
        assert _said(fast[0]) == _said(slow[0])
        assert fast[1] == slow[1]
        assert fast[2].read_text() == slow[2].read_text()
        assert fast[0].rejected == 3
        # only the chunks holding those rows went row by row
        assert 0 < len(row_by_row) <= 4 * CHUNK
    assert fast[1]["lines"] == []  # without --skip-bad-rows nothing was saved


def test_an_invoice_stored_earlier_goes_row_by_row(tmp_path, monkeypatch) -> None:
    """A second import of the same export compares lines, so it never takes the fresh path."""
    path = tmp_path / "export.csv"
    write_csv(path, HEADER, _rows(120))
    engine = open_local_database(tmp_path / "twice.sqlite")
    opts = ImportOptions(chunk_rows=CHUNK)
    import_invoices(engine, [path], opts, identity=None)
    before = snapshot(engine)
    again = import_invoices(engine, [path], opts, identity=None)
    assert snapshot(engine) == before
    assert "lines:    0 created, 0 updated, 120 unchanged, 0 removed" in again.lines()
    engine.dispose()


@pytest.mark.parametrize("n", [1, CHUNK, CHUNK + 1])
def test_chunk_edges(tmp_path, monkeypatch, n) -> None:
    fast, slow, row_by_row = _both_ways(tmp_path, monkeypatch, _rows(n))
    assert row_by_row == [] and fast[1] == slow[1] and fast[0].lines() == slow[0].lines()


def _varied_invoices(n: int) -> list[list[str]]:
    """Invoice-level fields in every shape the column-wise reader meets: grouped and Indian
    amounts, negative totals, credit notes by status / number / total, no due date, no customer
    name, no city, no sales person, padded Invoice IDs, grouped line totals."""
    rows = _rows(n)
    for r in rows:
        inv = int(r[col("Invoice ID")]) - 70_000
        r[col("Customer ID")] = f"C-{inv % 7}"
        r[col("Customer Name")] = "" if inv % 7 == 3 else f"Store {inv % 7}"
        r[col("Billing City")] = "" if inv % 7 == 5 else "Pune"
        r[col("Due Date")] = "" if inv % 3 == 0 else f"{1 + inv % 28:02d} Apr 2024"
        r[col("Sales Person")] = "" if inv % 6 == 1 else r[col("Sales Person")]
        r[col("SubTotal")] = f"{inv * 1234.5:,.2f}"  # 1,234.50 ... 1,23,450.00 as 123,450.00
        r[col("Balance")] = "12,34,567.89" if inv % 4 == 1 else "0.00"
        r[col("Discount Amount")] = "" if inv % 2 else "1,000.00"
        r[col("Purchase Order")] = "" if inv % 2 else f"PO-{inv}"
        r[col("Sales Order Number")] = f"SO-{inv}"
        if inv % 13 == 0:
            r[col("Invoice Status")] = "Credit Note"
        if inv % 17 == 0:
            r[col("Total")] = "-1,000.00"  # a credit note by its negative total
        elif r[col("Total")] not in ("", "-1.00"):
            r[col("Total")] = f"{inv * 999.5:,.2f}"
        if inv % 9 == 0:
            r[col("Invoice ID")] = f" {r[col('Invoice ID')]}"  # read stripped, as map() does
        if r[col("Item Total")].count(".") == 1 and inv % 8 == 2:
            r[col("Item Total")] = "1,23,456.78" if int(r[col("Quantity")]) > 0 else "-1,234.50"
    rows[1][col("Invoice ID")] = rows[1][col("Invoice ID")].strip() + " "  # " 7" after "7"
    return rows


def test_invoices_are_made_column_wise_exactly_as_row_by_row(tmp_path, monkeypatch) -> None:
    """The fast path makes new invoices from their first rows column-wise (never through the
    per-row ``_invoice``) and reads grouped amounts by their shape (never through
    ``NumberReader.money``), storing and reporting exactly what the row path does."""
    from mangalm_desktop.imports.values import NumberReader

    path = tmp_path / "export.csv"
    write_csv(path, HEADER, _varied_invoices(400))
    per_row_invoices, money_read = [], []
    real_invoice, real_money = ZohoMapper._invoice, NumberReader.money

    def spy_invoice(self, invoice_id, cells):  # noqa: ANN001, ANN202
        per_row_invoices.append(invoice_id)
        return real_invoice(self, invoice_id, cells)

    def spy_money(self, value, scale=2, *, required=True):  # noqa: ANN001, ANN202
        money_read.append(value)
        return real_money(self, value, scale, required=required)

    monkeypatch.setattr(ZohoMapper, "_invoice", spy_invoice)
    monkeypatch.setattr(NumberReader, "money", spy_money)
    fast = _import(tmp_path, "fast", path)
    assert per_row_invoices == []
    assert not [v for v in money_read if "," in v]  # grouped amounts read by their shape
    monkeypatch.setattr(ZohoMapper, "map_chunk", lambda self, chunk: None)
    slow = _import(tmp_path, "slow", path)
    assert per_row_invoices  # the row path made them one by one
    assert fast[0].lines() == slow[0].lines() and fast[1] == slow[1]
    invoices = fast[1]["invoices"]
    assert len(invoices) == len({r[col("Invoice ID")].strip() for r in _varied_invoices(400)})
    assert {i[2] for i in invoices} == {"invoice", "credit_note"}
    assert any(i[8] is None for i in invoices) and any(i[6] is None for i in invoices)
    stores = {s[0]: s for s in fast[1]["stores"]}
    assert stores["C-3"][2] == "C-3" and stores["C-5"][3] is None  # no name, no city
    assert any(ln[7] == Decimal("123456.78") for ln in fast[1]["lines"])


def test_bad_invoice_fields_in_a_chunk_are_reported_as_row_by_row(tmp_path, monkeypatch) -> None:
    """A chunk whose new invoices do not all read goes row by row and creates nothing early."""
    rows, touched = _varied_invoices(300), 0
    for at, column, bad in (
        (70, "Due Date", "31 Feb 2024"),  # not a date
        (140, "Total", "12,34.5,6"),  # not an amount
        (210, "Invoice Number", ""),  # no number
        (260, "Customer ID", " "),  # no customer
    ):  # on every row of the invoice: its fields are read from its first row
        key = rows[at][col("Invoice ID")].strip()
        for r in rows:
            if r[col("Invoice ID")].strip() == key:
                r[col(column)] = bad
                touched += 1
    for i, options in enumerate(({"skip_bad_rows": True}, {})):
        (tmp_path / str(i)).mkdir()
        fast, slow, row_by_row = _both_ways(tmp_path / str(i), monkeypatch, rows, **options)
        monkeypatch.undo()
        assert _said(fast[0]) == _said(slow[0])
        assert fast[1] == slow[1]
        assert fast[2].read_text() == slow[2].read_text()
        assert 4 <= fast[0].rejected <= touched  # the rows of the four invoices
        assert 0 < len(row_by_row) <= 4 * CHUNK


def test_a_workbook_with_typed_cells_is_read_as_row_by_row(tmp_path, monkeypatch) -> None:
    """Workbook cells are numbers and dates, not text: same rows stored either way."""
    from openpyxl import Workbook

    from tests.fixtures.imports.make_fixtures import _typed

    path = tmp_path / "export.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in _varied_invoices(200):
        ws.append([_typed(c, v.strip()) for c, v in zip(HEADER, r, strict=True)])
    wb.save(path)
    row_by_row: list[int] = []
    real_map = ZohoMapper.map

    def counting_map(self, row_no, cells):  # noqa: ANN001, ANN202
        row_by_row.append(row_no)
        return real_map(self, row_no, cells)

    monkeypatch.setattr(ZohoMapper, "map", counting_map)
    fast = _import(tmp_path, "fast", path)
    assert len(row_by_row) < 200  # most chunks went column-wise
    monkeypatch.setattr(ZohoMapper, "map_chunk", lambda self, chunk: None)
    slow = _import(tmp_path, "slow", path)
    assert fast[0].lines() == slow[0].lines() and fast[1] == slow[1]
    assert len(fast[1]["lines"]) == 200
