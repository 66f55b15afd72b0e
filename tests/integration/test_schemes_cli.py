"""``mangalm schemes`` end to end through ``cli.main.main`` on a standalone laptop's database
file: create (every rule form), list, show, end; bad input said in words; orders apply them."""

from __future__ import annotations

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Store

from .orders_support import seed


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_list_show_end_and_an_order_gets_them(engine, db_path, capsys):
    sd = seed(engine)
    with session_scope(engine) as s:
        s.get(Store, sd.store_id).size_class = "A"
    db = ["--db", str(db_path)]
    code, out, _ = run(
        capsys,
        "schemes",
        "create",
        "TEA-SLAB",
        "--name",
        "Tea slabs",
        "--kind",
        "slab",
        "--product",
        "TEA-250",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-31",
        "--class",
        "A",
        "--rule",
        "24:4",
        "--rule",
        "48:6.5%",
        *db,
    )
    assert code == 0, out
    assert "created scheme TEA-SLAB on this laptop" in out
    assert "4% off at 24+" in out and "6.5% off at 48+" in out
    code, out, _ = run(
        capsys,
        "schemes",
        "create",
        "OIL-12+1",
        "--name",
        "Oil: buy 12 get a dal",
        "--kind",
        "free_goods",
        "--product",
        "OIL-1",
        "--from",
        "2026-12-01",
        "--rule",
        "12:free=1@DAL-1",
        "--stackable",
        *db,
    )
    assert code == 0 and "buy 12 get 1 free (DAL-1 Toor Dal 1 kg)" in out

    code, out, _ = run(capsys, "schemes", "list", "--today", "2026-12-06", *db)
    assert code == 0
    assert [x.split()[:2] for x in out.splitlines()] == [
        ["OIL-12+1", "active"],
        ["TEA-SLAB", "active"],
    ]
    assert "OIL-12+1" in out and "01 Dec 2026 – open-ended" in out
    code, out, _ = run(capsys, "schemes", "show", "oil-12+1", "--today", "2026-11-06", *db)
    assert "[upcoming]" in out and "stacks" in out

    # An order on the 6th: 48 tea at 112.00 = 5,376.00 − 6.5% (349.44) = 5,026.56;
    # 12 oil at 189.3333 = 2,272.00 (2,271.9996 rounded), plus 1 dal free
    code, out, _ = run(
        capsys,
        "orders",
        *db,
        "--today",
        "2026-12-06",
        "create",
        "--store",
        "ST-001",
        "--agent",
        "A07",
        "-l",
        "TEA-250=48",
        "-l",
        "OIL-1=12",
    )
    assert code == 0, out
    number = out.split()[0]
    code, out, _ = run(capsys, "orders", *db, "show", number)
    assert "scheme: TEA-SLAB: 6.5% off Assam Tea 250 g for 48 or more (48 ordered)" in out
    assert (
        "free: OIL-12+1: buy 12 get 1 free Toor Dal 1 kg (12 Groundnut Oil 1 L bought) "
        "(worth ₹139.99)" in out
    )
    assert "total ₹7,298.56" in out  # 5,026.56 + 2,272.00

    code, out, _ = run(capsys, "schemes", "end", "TEA-SLAB", "--on", "2026-12-10", *db)
    assert code == 0 and "now ends on 2026-12-10 on this laptop" in out
    code, _, err = run(capsys, "schemes", "end", "TEA-SLAB", "--on", "2026-12-20", *db)
    assert code == 2 and "already ends on 10 Dec 2026" in err
    code, _, err = run(
        capsys,
        "schemes",
        "create",
        "BAD",
        "--name",
        "x",
        "--kind",
        "percent",
        "--from",
        "2026-12-01",
        "--product",
        "NOPE",
        "--rule",
        "1:120",
        *db,
    )
    assert code == 2 and "Unknown product 'NOPE'" in err and "at most 100%" in err


def test_the_order_pdf_names_the_scheme_under_each_line(engine, db_path, tmp_path, capsys):
    from pypdf import PdfReader

    seed(engine)
    db = ["--db", str(db_path)]
    assert (
        run(
            capsys,
            "schemes",
            "create",
            "DAL-10+1",
            "--name",
            "Dal",
            "--kind",
            "free_goods",
            "--product",
            "DAL-1",
            "--from",
            "2026-12-01",
            "--rule",
            "10:free=1",
            *db,
        )[0]
        == 0
    )
    code, out, _ = run(
        capsys,
        "orders",
        *db,
        "--today",
        "2026-12-06",
        "create",
        "--store",
        "ST-001",
        "--agent",
        "A07",
        "-l",
        "DAL-1=20",
    )
    number = out.split()[0]
    target = tmp_path / "o.pdf"
    assert run(capsys, "orders", *db, "pdf", number, "-o", str(target))[0] == 0
    text = " ".join(p.extract_text() for p in PdfReader(target).pages)
    assert "DAL-10+1: buy 10 get 1 free (20 bought)" in text
    assert "Free: DAL-10+1" in text
