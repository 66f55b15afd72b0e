"""``mangalm visit`` and ``mangalm reasons`` end to end through ``cli.main.main``."""

from __future__ import annotations

from sqlalchemy import func, select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import CallLog, NoOrderReason, Order, Payment, StoreStockReport

from .orders_support import seed


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reasons_and_visits_from_the_command_line(engine, db_path, capsys):
    seed(engine)
    db = ["--db", str(db_path)]
    code, out, _ = run(capsys, "reasons", *db, "list")
    assert code == 0 and "no reasons yet" in out
    code, out, _ = run(capsys, "reasons", *db, "add", "Enough stock on the shelf")
    assert code == 0 and "added enough_stock_on_the_shelf" in out
    code, out, _ = run(capsys, "reasons", *db, "add", "Shop closed", "--code", "closed")
    code, out, _ = run(capsys, "reasons", *db, "retire", "closed")
    assert code == 0 and "retired closed" in out
    code, out, _ = run(capsys, "reasons", *db, "list", "--all")
    assert "Shop closed  (retired)" in out and "Enough stock" in out

    day = ["--today", "2026-12-07"]
    code, out, err = run(
        capsys, "visit", *db, *day, "--store", "ST-001", "--agent", "A07", "--outcome", "no_order"
    )
    assert code == 2 and "needs its reason" in err
    code, out, err = run(
        capsys, "visit", *db, *day, "--store", "ST-001", "--agent", "A07",
        "--outcome", "no_order", "--reason", "closed",
    )  # fmt: skip
    assert code == 2 and "No active no-order reason has the code 'closed'" in err
    code, out, _ = run(
        capsys, "visit", *db, *day, "--store", "ST-001", "--agent", "A07",
        "--outcome", "no_order", "--reason", "enough_stock_on_the_shelf",
        "--stock", "ATTA-5=6", "--next", "2026-12-10",
    )  # fmt: skip
    assert code == 0 and "No order" in out and "shelf stock recorded for 1 products" in out
    code, out, _ = run(
        capsys, "visit", *db, *day, "--store", "ST-001", "--agent", "A07",
        "--outcome", "ordered", "-l", "ATTA-5=8", "-l", "DAL-1=10", "--stock", "TEA-250=2",
        "--pay", "1500", "--mode", "cheque", "--reference", "004512", "--cheque-date", "2026-12-07",
    )  # fmt: skip
    assert code == 0 and "Ordered: A07-" in out and "total ₹3,363.90" in out
    assert "receipt A07-" in out and "₹1,500.00 (collected, awaiting approval)" in out
    code, out, err = run(
        capsys, "visit", *db, *day, "--store", "ST-001", "--agent", "A07",
        "--outcome", "ordered", "-l", "ATTA-5=8", "--stock", "TEA-250=x",
    )  # fmt: skip
    assert code == 2 and "not SKU=QTY" in err
    with session_scope(engine) as s:
        outcomes = sorted(s.scalars(select(CallLog.outcome)))
        assert outcomes == ["no_order", "ordered"]
        assert s.scalar(select(func.count()).select_from(Order)) == 1
        assert s.scalar(select(func.count()).select_from(StoreStockReport)) == 2
        assert s.scalar(select(Payment.reference)) == "004512"
        reason = s.scalar(select(NoOrderReason).where(NoOrderReason.code != "closed"))
        assert s.scalar(select(CallLog.reason_id).where(CallLog.outcome == "no_order")) == reason.id
