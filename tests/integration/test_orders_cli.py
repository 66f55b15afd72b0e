"""``mangalm orders`` end to end through ``cli.main.main`` on a real database file."""

from __future__ import annotations

import re

from pypdf import PdfReader

from mangalm_desktop.cli.main import main

from .orders_support import seed


def run(capsys, db, *argv) -> tuple[int, str, str]:
    code = main(["orders", "--db", str(db), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_submit_amend_cancel_list_pdf_call_stock(engine, db_path, tmp_path, capsys):
    seed(engine)
    code, out, _ = run(
        capsys,
        db_path,
        "create",
        "--store",
        "ST-001",
        "--agent",
        "a07",
        "--line",
        "ATTA-5=8@5",
        "--line",
        "DAL-1=7",
        "--draft",
    )
    assert code == 0
    number = re.search(r"(A07-\w{3}-\d{6})  draft", out)[1]
    assert "note: Line 2: DAL-1 Toor Dal 1 kg: 7 is not a whole number of packs of 10" in out

    code, out, _ = run(capsys, db_path, "submit", number)
    assert code == 0 and f"{number}  submitted  total ₹2,845.73  (version 1)" in out
    code, out, _ = run(capsys, db_path, "show", number)  # one formatter: ₹, no "-5.0000%"
    assert "Mangalm Chakki Atta 5 kg                  8 × ₹245.50 less 5% = ₹1,865.80" in out
    assert "subtotal ₹2,943.93  discounts ₹98.20  total ₹2,845.73" in out

    code, out, _ = run(capsys, db_path, "amend", number, "--line", "DAL-1=20", "--notes", "urgent")
    assert code == 0 and f"{number}  submitted  total ₹2,799.80  (version 2)" in out

    code, out, _ = run(capsys, db_path, "show", number)
    assert "DAL-1" in out and "ATTA-5" not in out and "notes: urgent" in out

    code, out, err = run(
        capsys, db_path, "create", "--store", "ST-002", "--agent", "A07", "--line", "ATTA-5=16"
    )
    assert code == 2 and "Credit limit exceeded for Ganesh Provisions" in err
    assert "--accept-credit-warning" in err
    code, out, _ = run(
        capsys,
        db_path,
        "create",
        "--store",
        "ST-002",
        "--agent",
        "A07",
        "--line",
        "ATTA-5=16",
        "--accept-credit-warning",
    )
    assert code == 0 and "warning: Credit limit exceeded" in out

    code, out, err = run(
        capsys,
        db_path,
        "create",
        "--store",
        "ST-001",
        "--agent",
        "A07",
        "--line",
        "NOPE=1",
        "--line",
        "OLD-1=2",
        "--line",
        "DAL-1=0",
    )
    assert code == 2
    assert "Line 1: Unknown product NOPE." in err
    assert "Line 2: OLD-1 Discontinued Namkeen is no longer sold (inactive)." in err
    assert "Line 3: Quantity of DAL-1 Toor Dal 1 kg must be at least 1 (got 0)" in err
    code, _, err = run(
        capsys, db_path, "create", "--store", "ST-001", "--agent", "A07", "--line", "DAL-1"
    )
    assert code == 2 and "is not SKU=QTY" in err

    code, out, _ = run(capsys, db_path, "list", "--state", "submitted", "--store", "ST-001")
    assert number in out and "1 of 1 orders" in out

    pdf_path = tmp_path / "c.pdf"
    code, out, _ = run(capsys, db_path, "pdf", number, "-o", str(pdf_path))
    assert code == 0 and number in PdfReader(pdf_path).pages[0].extract_text()

    code, out, _ = run(capsys, db_path, "cancel", number, "--reason", "duplicate order")
    assert code == 0 and f"{number}  cancelled" in out
    code, out, err = run(capsys, db_path, "cancel", number)
    assert code == 2 and "is cancelled" in err

    code, out, _ = run(capsys, db_path, "duplicate", number, "--agent", "A07")
    assert code == 0 and "draft" in out

    code, out, _ = run(
        capsys,
        db_path,
        "call",
        "--store",
        "ST-001",
        "--agent",
        "A07",
        "--outcome",
        "call_back",
        "--next",
        "2099-01-05",
        "--notes",
        "busy",
    )
    assert code == 0 and "next call 2099-01-05" in out
    code, out, _ = run(
        capsys, db_path, "stock", "--store", "ST-001", "--agent", "A07", "ATTA-5=3", "DAL-1=0"
    )
    assert code == 0 and "2 products" in out
    code, out, err = run(
        capsys, db_path, "stock", "--store", "ST-001", "--agent", "A07", "ATTA-5=x"
    )
    assert code == 2 and "not SKU=QTY" in err


def test_cli_writes_audit_entries_with_the_order(engine, db_path, capsys):
    import json

    from sqlalchemy import select

    from mangalm_desktop.db.engine import session_scope
    from mangalm_desktop.db.models import AuditLog, Outbox

    seed(engine)
    code, out, _ = run(
        capsys, db_path, "create", "--store", "ST-001", "--agent", "A07", "--line", "ATTA-5=4"
    )
    number = re.search(r"(A07-\w{3}-\d{6})  submitted", out)[1]
    run(capsys, db_path, "amend", number, "--line", "ATTA-5=8")
    run(capsys, db_path, "cancel", number)
    with session_scope(engine) as s:
        entries = s.scalars(select(AuditLog).order_by(AuditLog.at)).all()
        ops = s.scalars(select(Outbox).where(Outbox.table_name == "audit_log")).all()
    assert [e.action for e in entries] == ["order_submit", "order_amend", "order_cancel"]
    assert entries[0].actor.endswith(" as A07") and entries[0].device_id == number.split("-")[1]
    assert [json.loads(e.details)["version"] for e in entries] == [1, 2, 3]
    assert len(ops) == 3
