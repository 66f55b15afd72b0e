"""Import guards of issue 23: invoices never move between stores, error reports are private and
expire, and ``orders pdf -o`` never writes through a symbolic link."""

from __future__ import annotations

import csv
import os
import re
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.models import Invoice, Store
from mangalm_desktop.imports import report as import_report
from tests.fixtures.imports.hostile import HISTORY_COLUMNS, HISTORY_HEADER
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, write_csv

from .orders_support import seed


def _history(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HISTORY_HEADER)
        w.writerows(rows)
    return path


def _stores_of(engine, numbers: list[str]) -> dict[str, str]:
    with Session(engine) as s:
        q = (
            select(Invoice.number, Store.code)
            .join(Store, Store.id == Invoice.store_id)
            .where(Invoice.number.in_(numbers))
        )
        return dict(s.execute(q).all())


def test_second_history_file_cannot_move_an_invoice(engine, db_path, tmp_path, capsys) -> None:
    first = _history(tmp_path / "a.csv", [
        ["C1", "P1", "2024-03-15", "2", "10.00", "N100"],
        ["C1", "P2", "2024-03-15", "1", "5.00", "N100"],
        ["C1", "P1", "2024-03-16", "1", "10.00", "N101"],
    ])  # fmt: skip
    second = _history(tmp_path / "b.csv", [
        ["C2", "P1", "2024-04-01", "3", "10.00", "N200"],
        ["C2", "P1", "2024-04-02", "7", "10.00", "N100"],
        ["C2", "P2", "2024-04-02", "1", "5.00", "N100"],
    ])  # fmt: skip
    cols = ["--columns", HISTORY_COLUMNS, "--db", str(db_path), "-q"]
    assert main(["import", "history", str(first), *cols]) == 0
    report = tmp_path / "errors.csv"
    rc = main(["import", "history", str(second), *cols, "--error-report", str(report)])
    capsys.readouterr()
    assert rc == 1
    with report.open(encoding="utf-8-sig") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["row"] for r in rejected] == ["3", "4"]
    assert all("imported earlier for store C1" in r["reason"] for r in rejected)
    assert all("puts it under store C2" in r["reason"] for r in rejected)
    assert _stores_of(engine, ["N100", "N101", "N200"]) == {"N100": "C1", "N101": "C1"}

    # --skip-bad-rows imports the rest; N100 still stays with C1
    assert main(["import", "history", str(second), *cols, "--skip-bad-rows"]) == 1
    capsys.readouterr()
    assert _stores_of(engine, ["N100", "N200"]) == {"N100": "C1", "N200": "C2"}


def test_zoho_export_cannot_move_an_invoice(engine, db_path, tmp_path, capsys) -> None:
    first = tmp_path / "z1.csv"
    write_csv(first)
    assert main(["import", "invoices", str(first), "--db", str(db_path), "-q"]) == 0
    rows = [list(r) for r in ROWS]
    cust, name = HEADER.index("Customer ID"), HEADER.index("Customer Name")
    for r in rows:
        if r[HEADER.index("Invoice Number")] == "INV-0001":
            r[cust], r[name] = "C-999", "Someone Else"
    second = tmp_path / "z2.csv"
    write_csv(second, HEADER, rows)
    report = tmp_path / "errors.csv"
    rc = main(
        ["import", "invoices", str(second), "--db", str(db_path), "-q",
         "--error-report", str(report)]
    )  # fmt: skip
    capsys.readouterr()
    assert rc == 1
    text = report.read_text(encoding="utf-8-sig")
    assert re.search(
        r"z2.csv,2,Invoice Number,INV-0001,invoice INV-0001 was imported earlier", text
    )
    assert _stores_of(engine, ["INV-0001"]) == {"INV-0001": "C-100"}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_error_reports_are_private_and_expire(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(import_report, "data_dir", lambda: tmp_path / "data")
    folder = tmp_path / "data" / "import-reports"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)
    old = folder / "import-errors-20200101-000000.csv"
    recent = folder / "import-errors-20991231-000000.csv"
    other = folder / "mine.csv"  # not the app's: never touched
    for p in (old, recent, other):
        p.write_text("x")
    forty_days = time.time() - 40 * 86_400
    os.utime(old, (forty_days, forty_days))
    os.utime(other, (forty_days, forty_days))

    target = import_report.default_error_report()
    assert not old.exists() and recent.exists() and other.exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    err = import_report.RowError("f.csv", 2, "Quantity", "=1+1", "not a number")
    import_report.write_error_report(target, [err])
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_orders_pdf_refuses_to_write_through_a_symlink(engine, db_path, tmp_path, capsys) -> None:
    seed(engine)
    rc = main(["orders", "--db", str(db_path), "create", "--store", "ST-001", "--agent", "A07",
               "--line", "ATTA-5=8@5", "--draft"])  # fmt: skip
    number = re.search(r"(A07-\w{3}-\d{6})  draft", capsys.readouterr().out)[1]
    assert rc == 0
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA precious\n")
    link = tmp_path / "order.pdf"
    link.symlink_to(victim)
    rc = main(["orders", "--db", str(db_path), "pdf", number, "-o", str(link)])
    err = capsys.readouterr().err
    assert rc == 2 and "symbolic link" in err
    assert victim.read_text() == "ssh-ed25519 AAAA precious\n" and link.is_symlink()
