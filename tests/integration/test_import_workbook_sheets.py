"""A workbook is imported whole: every sheet with the first sheet's columns, sheet after sheet.

A history exported a year per sheet (UCI's "Online Retail II": "Year 2009-2010",
"Year 2010-2011") used to be imported as its first year only, without a word. These tests write
real .xlsx files with openpyxl and import them into a real SQLite database.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.models import Invoice, InvoiceLine, Product, Store
from mangalm_desktop.domain.errors import Cancelled, UserError
from mangalm_desktop.domain.tasks import TaskContext
from mangalm_desktop.imports.history import import_history, parse_columns
from mangalm_desktop.imports.pipeline import ImportOptions
from mangalm_desktop.imports.source import open_source
from mangalm_desktop.imports.zoho import import_invoices
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, _typed, write_csv

COLUMNS_SPEC = (
    "store=Customer ID,product=StockCode,date=InvoiceDate,quantity=Quantity,price=Price,"
    "invoice=Invoice,product_name=Description,region=Country"
)
COLUMNS = parse_columns(COLUMNS_SPEC)
RETAIL = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
          "Customer ID", "Country"]  # fmt: skip
Y1 = "Year 2009-2010"
Y2 = "Year 2010-2011"


def retail_row(i: int, year: int) -> list[object]:
    """One sold line of a distinct invoice (numbers, dates and text as Excel stores them)."""
    return [
        f"{year}{i:03d}", f"SKU{i % 4}", f"ITEM {i % 4}", 1 + i % 5,
        dt.datetime(year, 1 + i % 12, 1 + i % 27, 10, 0), 1.25 + i % 3,
        float(12000 + i % 6), "United Kingdom",
    ]  # fmt: skip


def year_rows(year: int, n: int) -> list[list[object]]:
    return [retail_row(i, year) for i in range(n)]


def write_book(path: Path, sheets: list[tuple[str, list[str] | None, list[list[object]]]]) -> Path:
    """``(title, header or None for no header row, rows)`` per sheet, in order."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title)
        if header is not None:
            ws.append(header)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def reordered(header: list[str], rows: list[list[object]]) -> tuple[list[str], list[list]]:
    """The same table with its columns reversed (a later export with columns moved)."""
    return header[::-1], [r[::-1] for r in rows]


def notes_sheet() -> tuple[str, list[str], list[list[object]]]:
    return ("Notes", ["Exported from the till on 2011-12-10"], [["Prices are in GBP"]])


def counts(engine) -> tuple[int, int, int, int]:
    with Session(engine) as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t))
            for t in (Store, Product, Invoice, InvoiceLine)
        )


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def two_years(tmp_path: Path, y1: list[list[object]], y2: list[list[object]]) -> Path:
    header2, rows2 = reordered(RETAIL, y2)
    return write_book(
        tmp_path / "online_retail_II.xlsx",
        [(Y1, RETAIL, y1), ("Empty", None, []), (Y2, header2, rows2), notes_sheet()],
    )


def test_every_data_sheet_is_imported_and_other_sheets_are_named(engine, tmp_path) -> None:
    path = two_years(tmp_path, year_rows(2010, 7), year_rows(2011, 5))
    summary = import_history(engine, [path], COLUMNS, identity=None)

    f = summary.files[0]
    assert f.committed and f.rows_read == 12 and f.imported == 12 and f.rejected == 0
    assert counts(engine) == (6, 4, 12, 12)  # every line of both years, not the first year's 7
    assert f.sheets == {Y1: 7, Y2: 5}
    lines = summary.lines()
    assert f"  sheet {Y1!r}: 7 rows read" in lines and f"  sheet {Y2!r}: 5 rows read" in lines
    assert "  sheet 'Empty' skipped: empty" in lines
    assert "  sheet 'Notes' skipped: not data" in lines
    with Session(engine) as s:  # sheet 2's columns are in another order: mapped by name
        inv = s.scalars(select(Invoice).where(Invoice.number == "2011004")).one()
        line = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)).one()
        assert inv.invoice_date == dt.date(2011, 5, 5) and line.quantity == 5
        assert str(line.unit_price) == "2.2500"


def test_reimporting_the_workbook_adds_nothing(engine, tmp_path) -> None:
    path = two_years(tmp_path, year_rows(2010, 6), year_rows(2011, 6))
    first = import_history(engine, [path], COLUMNS, identity=None)
    assert first.all_committed and counts(engine) == (6, 4, 12, 12)
    again = import_history(engine, [path], COLUMNS, identity=None)
    assert again.all_committed and counts(engine) == (6, 4, 12, 12)
    c = again.counts
    assert (c.lines.created, c.lines.updated, c.lines.unchanged) == (0, 0, 12)
    assert (c.invoices.created, c.invoices.updated, c.invoices.unchanged) == (0, 0, 12)
    assert c.lines_removed == 0


def test_a_bad_row_on_sheet_two_is_named_by_sheet_and_row(engine, tmp_path) -> None:
    y2 = year_rows(2011, 4)
    y2[1][RETAIL.index("Quantity")] = "lots"  # spreadsheet row 3 of sheet 2
    path = two_years(tmp_path, year_rows(2010, 4), y2)
    report = tmp_path / "errors.csv"
    summary = import_history(
        engine, [path], COLUMNS, ImportOptions(error_report=report), identity=None
    )

    assert not summary.files[0].committed and counts(engine) == (0, 0, 0, 0)  # all-or-nothing
    assert [e.where for e in summary.errors] == [f"sheet {Y2!r} row 3"]
    assert read_report(report) == [
        {
            "file": path.name,
            "sheet": Y2,
            "row": "3",
            "column": "Quantity",
            "value": "lots",
            "reason": "not a number",
        }
    ]
    # told to skip bad rows, every other row of both sheets is imported
    summary = import_history(
        engine,
        [path],
        COLUMNS,
        ImportOptions(error_report=report, skip_bad_rows=True),
        identity=None,
    )
    assert summary.files[0].committed and counts(engine)[3] == 7


def test_a_sheet_with_a_renamed_column_is_refused_before_anything_is_written(
    engine, tmp_path
) -> None:
    header2 = ["Qty" if h == "Quantity" else h for h in RETAIL] + ["Invoice Type"]
    path = write_book(
        tmp_path / "renamed.xlsx",
        [(Y1, RETAIL, year_rows(2010, 3)), (Y2, header2, [r + ["X"] for r in year_rows(2011, 3)])],
    )
    summary = import_history(engine, [path], COLUMNS, identity=None)

    [err] = summary.file_errors
    assert f"sheet {Y2!r} has different columns from sheet {Y1!r}" in err
    assert "missing 'Quantity'" in err and "'Qty', 'Invoice Type'" in err
    assert not summary.files[0].committed and counts(engine) == (0, 0, 0, 0)


def test_a_data_sheet_under_a_title_row_is_refused_not_skipped(engine, tmp_path) -> None:
    path = write_book(
        tmp_path / "titled.xlsx",
        [(Y1, RETAIL, year_rows(2010, 3)), (Y2, ["Sales 2011"], [[], RETAIL, *year_rows(2011, 3)])],
    )
    summary = import_history(engine, [path], COLUMNS, identity=None)

    [err] = summary.file_errors
    assert f"sheet {Y2!r} has the columns of sheet {Y1!r} in row 3, not in row 1" in err
    assert counts(engine) == (0, 0, 0, 0)


def test_one_data_sheet_reads_as_before_and_names_the_notes_sheet(engine, tmp_path) -> None:
    rows = year_rows(2010, 3)
    rows[2][RETAIL.index("InvoiceDate")] = "someday"
    path = write_book(tmp_path / "one.xlsx", [(Y1, RETAIL, rows), notes_sheet()])
    report = tmp_path / "errors.csv"
    summary = import_history(
        engine, [path], COLUMNS, ImportOptions(error_report=report), identity=None
    )

    # rows are "row N" and the report has the columns it always had: one sheet holds the data
    assert [e.where for e in summary.errors] == ["row 4"]
    assert list(read_report(report)[0]) == ["file", "row", "column", "value", "reason"]
    assert read_report(report)[0]["row"] == "4"
    assert summary.files[0].sheets == {}
    assert "  sheet 'Notes' skipped: not data" in summary.lines()


def test_columns_missing_from_a_notes_first_workbook_name_the_skipped_sheets(
    engine, tmp_path
) -> None:
    path = write_book(
        tmp_path / "notes_first.xlsx", [notes_sheet(), (Y1, RETAIL, year_rows(2010, 2))]
    )
    summary = import_history(engine, [path], COLUMNS, identity=None)

    [err] = summary.file_errors
    assert "missing column(s)" in err and f"sheet {Y1!r} skipped: not data" in err


def test_zoho_export_split_over_sheets_is_the_same_import_as_the_csv(engine, tmp_path) -> None:
    typed = [[_typed(c, v) for c, v in zip(HEADER, r, strict=True)] for r in ROWS]
    header2, rows2 = reordered(HEADER, typed[4:])
    path = write_book(tmp_path / "zoho.xlsx", [("Jan", HEADER, typed[:4]), ("Feb", header2, rows2)])
    summary = import_invoices(engine, [path], ImportOptions(), identity=None)
    assert summary.all_committed and summary.rows_read == len(ROWS)

    csv_path = tmp_path / "zoho.csv"
    write_csv(csv_path, HEADER, ROWS)
    again = import_invoices(engine, [csv_path], ImportOptions(), identity=None)
    c = again.counts  # the CSV of the same rows finds every record already there, unchanged
    assert (c.invoices.created, c.invoices.updated) == (0, 0) and c.invoices.unchanged == 3
    assert (c.lines.created, c.lines.updated, c.lines.unchanged) == (0, 0, 6)


def test_progress_runs_through_both_sheets(engine, tmp_path) -> None:
    path = two_years(tmp_path, year_rows(2010, 30), year_rows(2011, 30))
    seen: list[tuple[int, int, str]] = []
    ctx = TaskContext(lambda done, total, msg: seen.append((done, total, msg)))
    import_history(engine, [path], COLUMNS, ImportOptions(chunk_rows=10), ctx, identity=None)

    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[-1] == seen[-1][1]
    messages = [m for _, _, m in seen]
    assert f"{path.name} sheet {Y1!r}" in messages and f"{path.name} sheet {Y2!r}" in messages
    half = next(d for d, _, m in seen if m.endswith(repr(Y2)))  # first chunk of sheet 2
    assert 0.5 * seen[-1][1] < half < seen[-1][1]


def test_open_source_reads_rows_of_every_sheet_in_the_first_sheets_order(tmp_path) -> None:
    header2, rows2 = reordered(RETAIL, [["b", "B1", "x", 2, "d", 1, 7, "UK"]])
    path = write_book(
        tmp_path / "w.xlsx",
        [("S1", RETAIL, [["a", "A1", "y", 1, "d", 1, 7, "UK"]]), ("S2", header2, rows2)],
    )
    src = open_source(path)
    assert src.header == RETAIL
    assert [(p.sheet, list(p.rows)) for p in src.parts] == [
        ("S1", [(2, ["a", "A1", "y", "1", "d", "1", "7", "UK"])]),
        ("S2", [(2, ["b", "B1", "x", "2", "d", "1", "7", "UK"])]),
    ]


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        ([("A", None, [])], "the workbook's first sheet is empty"),
        ([("A", None, [[None], RETAIL])], "the first row of the first sheet is blank"),
        ([("A", None, []), ("B", None, [])], "every sheet of the workbook is empty"),
        ([("A", None, []), ("B", None, [[None], RETAIL])], "the first row of sheet 'B' is blank"),
    ],
)
def test_workbooks_without_data_are_refused(tmp_path, sheets, message) -> None:
    path = write_book(tmp_path / "e.xlsx", sheets)
    with pytest.raises(UserError, match=message):
        open_source(path)


def test_the_import_command_prints_the_sheets(tmp_path, capsys) -> None:
    path = two_years(tmp_path, year_rows(2010, 3), year_rows(2011, 2))
    db = tmp_path / "m.sqlite"
    rc = main(["import", "history", str(path), "--columns", COLUMNS_SPEC, "--db", str(db), "-q"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "online_retail_II.xlsx: 5 rows read, 5 imported" in out
    assert f"sheet {Y2!r}: 2 rows read" in out and "sheet 'Notes' skipped: not data" in out


def test_cancelling_on_sheet_two_rolls_back_sheet_one_too(engine, tmp_path) -> None:
    path = two_years(tmp_path, year_rows(2010, 30), year_rows(2011, 30))
    ctx = TaskContext()

    def cancel_on_sheet_two(done: int, total: int, message: str) -> None:
        if message.endswith(repr(Y2)):
            ctx.cancel()

    ctx.on_progress = cancel_on_sheet_two
    with pytest.raises(Cancelled):
        import_history(engine, [path], COLUMNS, ImportOptions(chunk_rows=10), ctx, identity=None)
    assert counts(engine) == (0, 0, 0, 0)  # the file is one import: sheet 1 is not kept alone
