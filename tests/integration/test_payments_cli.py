"""``mangalm payments`` end to end through ``cli.main.main`` on a real database file, and the
receipt PDF it writes (read back with pypdf)."""

from __future__ import annotations

import re

from pypdf import PdfReader

from mangalm_desktop.cli.main import main

from .payments_support import seed_payments


def run(capsys, db, *argv) -> tuple[int, str, str]:
    code = main(["payments", "--db", str(db), "--today", "2026-11-25", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_record_list_approve_reject_receipt(engine, db_path, tmp_path, capsys):
    seed_payments(engine)
    code, out, _ = run(capsys, db_path, "invoices", "--store", "ST-001")
    assert code == 0
    assert re.search(r"INV-001 .*₹3,000.00 55 days overdue", out), out
    assert "outstanding ₹6,700.50; overdue ₹5,500.50 on 2 invoices; on account ₹0.00" in out

    code, out, err = run(
        capsys,
        db_path,
        *("record", "--store", "ST-001", "--amount", "4,000", "--mode", "cheque"),
        *("--settle", "INV-001=3000", "--settle", "INV-002=500.50"),
    )
    assert code == 2 and "A cheque needs its cheque number" in err and "needs the date" in err
    code, out, _ = run(
        capsys,
        db_path,
        *("record", "--store", "ST-001", "--amount", "4,000", "--mode", "cheque"),
        *("--reference", "004512", "--cheque-date", "2026-11-24"),
        *("--settle", "INV-001=3000", "--settle", "INV-002=500.50", "--notes", "HDFC Mysuru"),
    )
    assert code == 0, out
    number = re.search(r"(A07-\w{3}-R-\d{6}): ₹4,000.00 recorded", out)[1]
    assert "settles ₹3,500.50, on account ₹499.50" in out
    code, out, _ = run(capsys, db_path, "invoices", "--store", "ST-001")
    assert "outstanding ₹2,700.50" in out and "INV-001" not in out
    assert "INV-002" in out and "not yet in Zoho: ₹500.50" in out

    code, out, _ = run(capsys, db_path, "list", "--status", "collected")
    assert code == 0 and number in out and "Cheque" in out and "1 payments" in out

    pdf = tmp_path / "receipt.pdf"
    code, out, _ = run(capsys, db_path, "receipt", number, "--out", str(pdf))
    assert code == 0 and pdf.exists()
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    for expected in (
        "Payment receipt",
        number,
        "Sri Lakshmi Stores",
        "₹4,000.00",
        "Cheque no. 004512 dated 24 Nov 2026",
        "INV-001",
        "₹3,000.00",
        "INV-002",
        "₹500.50",
        "On account: ₹499.50",
        "awaiting office approval",
        "HDFC Mysuru",
    ):
        assert expected in text, (expected, text)

    code, out, _ = run(capsys, db_path, "approve", number, "--note", "banked")
    assert code == 0 and f"{number}: approved (₹4,000.00)" in out
    code, _, err = run(capsys, db_path, "reject", number, "--reason", "bounced")
    assert code == 2 and f"Payment {number} was already approved" in err

    code, out, _ = run(
        capsys,
        db_path,
        "record",
        "--store",
        "ST-001",
        "--amount",
        "10",
        "--mode",
        "upi",
        "--reference",
        "UPI-4471",
    )
    second = re.search(r"(A07-\w{3}-R-\d{6})", out)[1]
    code, out, _ = run(capsys, db_path, "reject", second, "--reason", "not received")
    assert code == 0 and "rejected (not received)" in out
    code, out, _ = run(capsys, db_path, "list", "--status", "rejected")
    assert second in out and number not in out

    code, out, _ = run(
        capsys, db_path, "promise", "--store", "ST-001", "--amount", "2000", "--by", "2026-12-01"
    )
    assert code == 0 and "Promise recorded: ₹2,000.00 by 01 Dec 2026" in out
    code, _, err = run(
        capsys, db_path, "record", "--store", "NOPE", "--amount", "1", "--mode", "cash"
    )
    assert code == 2 and "Store NOPE was not found." in err
    code, _, err = run(
        capsys,
        db_path,
        "record",
        "--store",
        "ST-001",
        "--amount",
        "1",
        "--mode",
        "cash",
        "--settle",
        "INV-900=1",
    )
    assert code == 2 and "Invoice INV-900 is not an invoice of this store." in err
