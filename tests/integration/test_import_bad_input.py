"""One test per kind of bad input: a clear reason, the row in the error report, nothing lost."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mangalm_desktop.db.models import Invoice, InvoiceLine, Store
from mangalm_desktop.imports.pipeline import ImportOptions
from mangalm_desktop.imports.zoho import import_invoices
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, write_csv

GOLDEN_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "zoho_golden.csv"


def col(name: str) -> int:
    return HEADER.index(name)


def rows_copy() -> list[list[str]]:
    return [list(r) for r in ROWS]


def counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Store)),
            s.scalar(select(func.count()).select_from(Invoice)),
            s.scalar(select(func.count()).select_from(InvoiceLine)),
        )


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def run(engine, path: Path, tmp_path: Path, **kw):
    report = tmp_path / "errors.csv"
    return import_invoices(
        engine, [path], ImportOptions(error_report=report, **kw), identity=None
    ), report


def test_missing_column_stops_the_file_and_names_the_columns(engine, tmp_path) -> None:
    header = [h for h in HEADER if h not in ("Quantity", "Invoice Date")]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h in header] for r in ROWS]
    path = tmp_path / "no_qty.csv"
    write_csv(path, header, rows)
    summary, _ = run(engine, path, tmp_path)

    err = summary.file_errors[0]
    assert (
        "missing column(s) Invoice Date, Quantity" in err and "Columns found: Invoice Number" in err
    )
    assert not summary.files[0].committed and counts(engine) == (0, 0, 0)


def test_bad_date_rejects_the_row_and_the_whole_file(engine, tmp_path) -> None:
    rows = rows_copy()
    rows[5][col("Invoice Date")] = "31 Feb 2024"  # INV-0004's first row
    path = tmp_path / "bad_date.csv"
    write_csv(path, HEADER, rows)
    summary, report = run(engine, path, tmp_path)

    assert not summary.files[0].committed and counts(engine) == (0, 0, 0)
    # row numbers count the header as row 1, as a spreadsheet shows them
    assert read_report(report)[0] == {
        "file": "bad_date.csv",
        "row": "7",
        "column": "Invoice Date",
        "value": "31 Feb 2024",
        "reason": "not a date in the file's format (%d %b %Y)",
    }
    assert summary.error_report == report


def test_skip_bad_rows_imports_the_rest_and_still_reports(engine, tmp_path) -> None:
    rows = rows_copy()
    rows[1][col("Quantity")] = "lots"
    path = tmp_path / "bad_qty.csv"
    write_csv(path, HEADER, rows)
    summary, report = run(engine, path, tmp_path, skip_bad_rows=True)

    assert summary.files[0].committed and summary.rejected == 1
    assert counts(engine) == (2, 3, 5)
    assert read_report(report) == [
        {
            "file": "bad_qty.csv",
            "row": "3",
            "column": "Quantity",
            "value": "lots",
            "reason": "not a number",
        }
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [("lots", "not a number"), ("1.5", "not a whole number of units"), ("", "missing quantity")],
)
def test_non_numeric_quantity(engine, tmp_path, value: str, reason: str) -> None:
    rows = rows_copy()
    rows[0][col("Quantity")] = value
    path = tmp_path / "qty.csv"
    write_csv(path, HEADER, rows)
    summary, report = run(engine, path, tmp_path)

    assert not summary.files[0].committed and counts(engine) == (0, 0, 0)
    assert [(r["row"], r["column"], r["value"], r["reason"]) for r in read_report(report)] == [
        ("2", "Quantity", value, reason)
    ]


def test_non_numeric_amount(engine, tmp_path) -> None:
    rows = rows_copy()
    rows[0][col("Item Price")] = "12,5O"
    path = tmp_path / "price.csv"
    write_csv(path, HEADER, rows)
    summary, report = run(engine, path, tmp_path)
    assert [(r["column"], r["reason"]) for r in read_report(report)] == [
        ("Item Price", "not an amount")
    ]


@pytest.mark.parametrize(
    "content", [b"", b"\r\n\r\n", b"\xef\xbb\xbf"], ids=["zero", "blank", "bom"]
)
def test_empty_file(engine, tmp_path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    summary, _ = run(engine, path, tmp_path)
    assert "empty" in summary.file_errors[0]
    assert counts(engine) == (0, 0, 0)


def test_header_only_file_imports_nothing_without_error(engine, tmp_path) -> None:
    path = tmp_path / "header.csv"
    write_csv(path, HEADER, [])
    summary, _ = run(engine, path, tmp_path)
    assert summary.files[0].committed and summary.rows_read == 0 and not summary.file_errors


def test_utf16_file_is_refused_with_advice(engine, tmp_path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(GOLDEN_CSV.read_bytes().decode("utf-8-sig").encode("utf-16"))
    summary, _ = run(engine, path, tmp_path)
    assert "UTF-16" in summary.file_errors[0] and "CSV UTF-8" in summary.file_errors[0]
    assert counts(engine) == (0, 0, 0)


def test_latin1_bytes_are_refused_unless_the_encoding_is_given(engine, tmp_path) -> None:
    rows = rows_copy()
    for r in rows:
        r[col("Customer Name")] = r[col("Customer Name")].replace("Sharma", "Sharmá")
    path = tmp_path / "latin1.csv"
    with path.open("w", encoding="latin-1", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    summary, _ = run(engine, path, tmp_path)
    assert (
        "not utf-8 text" in summary.file_errors[0]
        and "--encoding latin-1" in summary.file_errors[0]
    )
    assert counts(engine) == (0, 0, 0)

    summary, _ = run(engine, path, tmp_path, encoding="latin-1")
    assert summary.files[0].committed
    with Session(engine) as s:
        assert s.scalar(select(Store.name).where(Store.code == "C-100")) == "Sharmá Kirana, Andheri"


def test_duplicate_line_is_rejected(engine, tmp_path) -> None:
    rows = rows_copy()
    rows.insert(2, list(rows[0]))
    path = tmp_path / "dup.csv"
    write_csv(path, HEADER, rows)
    summary, report = run(engine, path, tmp_path)
    assert not summary.files[0].committed and counts(engine) == (0, 0, 0)
    assert [(r["row"], r["reason"]) for r in read_report(report)] == [
        ("4", "exact duplicate of an earlier row (a doubled export?)")
    ]


def test_truncated_csv_last_row_is_rejected(engine, tmp_path) -> None:
    data = GOLDEN_CSV.read_bytes()
    cut = data[: data.rindex(b"Priya Shah") + 5]  # the last line stops in the middle
    path = tmp_path / "cut.csv"
    path.write_bytes(cut)
    summary, report = run(engine, path, tmp_path)
    assert not summary.files[0].committed and counts(engine) == (0, 0, 0)
    rep = read_report(report)
    assert len(rep) == 1 and rep[0]["row"] == "9" and "truncated" in rep[0]["reason"]


def test_truncated_inside_a_quoted_field_is_a_clear_file_error(engine, tmp_path) -> None:
    rows = rows_copy()
    rows[-1][col("Notes")] = "return, on invoice"  # quoted in the file
    full = tmp_path / "full.csv"
    write_csv(full, HEADER, rows)
    data = full.read_bytes()
    cut = data[: data.rindex(b'"return,') + 4]
    path = tmp_path / "cutq.csv"
    path.write_bytes(cut)
    summary, _ = run(engine, path, tmp_path)
    assert counts(engine) == (0, 0, 0)
    assert not summary.files[0].committed
    assert "malformed CSV near row 9" in summary.file_errors[0]


def test_truncated_gzip_is_a_clear_file_error(engine, tmp_path) -> None:
    rows = [list(ROWS[0]) for _ in range(4000)]
    for i, r in enumerate(rows):
        r[col("Invoice ID")], r[col("Invoice Number")] = str(9000 + i), f"INV-X{i}"
    full = tmp_path / "full.csv"
    write_csv(full, HEADER, rows)
    gz = gzip.compress(full.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gz[: len(gz) // 2])
    summary, _ = run(engine, path, tmp_path)
    assert "truncated or corrupt" in summary.file_errors[0]
    assert counts(engine) == (0, 0, 0)


def test_ambiguous_dates_are_refused_and_date_format_resolves(engine, tmp_path) -> None:
    rows = rows_copy()
    for r in rows:
        for c in ("Invoice Date", "Due Date"):
            r[col(c)] = {"15": "03/04/2024", "16": "04/04/2024", "17": "05/04/2024", "18": "06/04/2024",
                         "30": "07/04/2024", "31": "08/04/2024", "01": "09/04/2024", "02": "10/04/2024"}[r[col(c)][:2]]  # fmt: skip
    path = tmp_path / "ambiguous.csv"
    write_csv(path, HEADER, rows)
    summary, _ = run(engine, path, tmp_path)
    err = summary.file_errors[0]
    assert "ambiguous" in err and "'%d/%m/%Y' or '%m/%d/%Y'" in err and "--date-format" in err
    assert counts(engine) == (0, 0, 0)

    summary, _ = run(engine, path, tmp_path, date_format="%m/%d/%Y")
    assert summary.files[0].committed
    with Session(engine) as s:
        assert (
            str(s.scalar(select(Invoice.invoice_date).where(Invoice.number == "INV-0001")))
            == "2024-03-04"
        )


def test_dates_in_another_common_format_are_detected(engine, tmp_path) -> None:
    rows = rows_copy()
    for r in rows:
        for c in ("Invoice Date", "Due Date"):
            day = r[col(c)][:2]
            month = "04" if r[col(c)][3:6] == "Apr" else "03"
            r[col(c)] = f"2024-{month}-{day}"
    path = tmp_path / "iso.csv"
    write_csv(path, HEADER, rows)
    summary, _ = run(engine, path, tmp_path)
    assert summary.files[0].committed and summary.imported == 6


def test_same_invoice_number_on_two_invoice_ids_is_rejected(engine, tmp_path) -> None:
    rows = rows_copy()
    rows[4][col("Invoice Number")] = "INV-0001"  # the credit note claims INV-0001's number
    path = tmp_path / "clash.csv"
    write_csv(path, HEADER, rows)
    summary, report = run(engine, path, tmp_path)
    assert not summary.files[0].committed
    assert [(r["row"], r["column"]) for r in read_report(report)] == [("6", "Invoice Number")]


def test_corrupt_workbook_is_a_clear_file_error(engine, tmp_path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    summary, _ = run(engine, path, tmp_path)
    assert "not a readable Excel workbook" in summary.file_errors[0]


def test_a_later_chunk_settles_dates_the_first_chunk_left_open(engine, tmp_path) -> None:
    rows = []
    for i in range(40):
        r = list(ROWS[0])
        r[col("Invoice ID")], r[col("Invoice Number")] = str(7000 + i), f"INV-Y{i}"
        day = "03/04/2024" if i < 39 else "25/04/2024"  # only the last row says day-first
        r[col("Invoice Date")] = r[col("Due Date")] = day
        rows.append(r)
    path = tmp_path / "late.csv"
    write_csv(path, HEADER, rows)
    summary, _ = run(engine, path, tmp_path, chunk_rows=10)
    assert summary.files[0].committed and summary.imported == 40
    with Session(engine) as s:
        assert (
            str(s.scalar(select(Invoice.invoice_date).where(Invoice.number == "INV-Y0")))
            == "2024-04-03"
        )
