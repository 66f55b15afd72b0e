"""``mangalm import``: exit codes and messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mangalm_desktop.cli.main import main
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, write_csv

GOLDEN_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "zoho_golden.csv"
HISTORY_COLUMNS = "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,price=UnitPrice,invoice=InvoiceNo"


def test_import_invoices_ok_prints_the_summary(tmp_path, capsys) -> None:
    db = tmp_path / "m.sqlite"
    rc = main(["import", "invoices", str(GOLDEN_CSV), "--db", str(db), "-q"])
    out = capsys.readouterr().out
    assert rc == 0
    assert (
        "zoho_golden.csv: 8 rows read, 6 imported, 2 skipped by rule, 0 rejected — imported" in out
    )
    assert "skipped (void invoice): 1" in out and "skipped (draft invoice): 1" in out
    assert "invoices: 3 created, 0 updated, 0 unchanged" in out
    assert "lines:    6 created, 0 updated, 0 unchanged, 0 removed" in out

    rc = main(["import", "invoices", str(GOLDEN_CSV), "--db", str(db), "-q"])
    assert rc == 0 and "invoices: 0 created, 0 updated, 3 unchanged" in capsys.readouterr().out


def test_rejected_rows_exit_1_and_say_where_the_report_is(tmp_path, capsys) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][HEADER.index("Invoice Date")] = "someday"
    bad = tmp_path / "bad.csv"
    write_csv(bad, HEADER, rows)
    report = tmp_path / "rep" / "errors.csv"
    rc = main(
        [
            "import",
            "invoices",
            str(bad),
            "--db",
            str(tmp_path / "m.sqlite"),
            "-q",
            "--error-report",
            str(report),
        ]
    )
    captured = capsys.readouterr()
    assert rc == 1
    assert "NOT imported (nothing from it was saved)" in captured.out
    assert f"error report (1 rejected rows): {report}" in captured.out
    assert f"1 row(s) rejected; see {report}" in captured.err
    assert report.read_text(encoding="utf-8-sig").splitlines()[1] == (
        "bad.csv,2,Invoice Date,someday,not a date in the file's format (%d %b %Y)"
    )

    rc = main(
        ["import", "invoices", str(bad), "--db", str(tmp_path / "m.sqlite"), "-q", "--skip-bad-rows",
         "--error-report", str(report)]
    )  # fmt: skip
    assert rc == 1 and "— imported" in capsys.readouterr().out


def test_unreadable_file_exits_2_with_the_reason(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    rc = main(
        [
            "import",
            "invoices",
            str(empty),
            str(tmp_path / "missing.csv"),
            "--db",
            str(tmp_path / "m.sqlite"),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert "error: empty.csv: the file is empty (0 bytes); nothing to import" in err
    assert "missing.csv: no such file" in err


def test_history_needs_columns_and_reports_a_clear_error(tmp_path, capsys) -> None:
    path = tmp_path / "h.csv"
    path.write_text("InvoiceNo,StockCode\n1,2\n", encoding="utf-8")
    rc = main(
        [
            "import",
            "history",
            str(path),
            "--columns",
            "store=CustomerID",
            "--db",
            str(tmp_path / "m.sqlite"),
        ]
    )
    assert rc == 2 and "--columns must name product, date, quantity" in capsys.readouterr().err

    rc = main(
        [
            "import",
            "history",
            str(path),
            "--columns",
            HISTORY_COLUMNS,
            "--db",
            str(tmp_path / "m.sqlite"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "missing column(s) CustomerID, InvoiceDate, Quantity, UnitPrice" in err


def test_history_import_ok(tmp_path, capsys) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        "1,A1,3,2024-01-05 10:00,1.50,77\n1,POST,1,2024-01-05 10:00,5,77\n",
        encoding="utf-8",
    )
    rc = main(
        [
            "import",
            "history",
            str(path),
            "--columns",
            HISTORY_COLUMNS,
            "--db",
            str(tmp_path / "m.sqlite"),
            "-q",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "skipped (non-product code): 1" in out and "1 imported" in out


@pytest.mark.parametrize(
    "args",
    [
        ["import", "invoices", "{utf16}"],
        ["import", "invoices", "{bad}"],
        ["import", "history", "{utf16}", "--columns", "store=a,product=b,date=c,quantity=d"],
    ],
)
def test_the_real_command_never_shows_a_traceback(tmp_path, args: list[str]) -> None:
    utf16 = tmp_path / "u.csv"
    utf16.write_bytes(GOLDEN_CSV.read_bytes().decode("utf-8-sig").encode("utf-16"))
    rows = [list(r) for r in ROWS]
    rows[0][HEADER.index("Quantity")] = "many"
    bad = tmp_path / "bad.csv"
    write_csv(bad, HEADER, rows)
    argv = [a.format(utf16=utf16, bad=bad) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "mangalm_desktop.cli.main", *argv, "--db", str(tmp_path / "m.sqlite"), "-q",
         "--error-report", str(tmp_path / "e.csv")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.startswith("error:") or "rejected; see" in proc.stderr
