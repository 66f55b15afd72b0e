"""Full disk, locked and damaged databases reach the user as words, with nothing half-written."""

from __future__ import annotations

import errno
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from mangalm_desktop.db.engine import make_engine, session_scope, sqlite_url
from mangalm_desktop.db.errors import explain
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Store


def test_full_disk_rolls_back_and_is_explained(db_path):
    open_local_database(db_path).dispose()
    engine = make_engine(sqlite_url(db_path))

    @event.listens_for(engine, "connect")
    def tiny_disk(dbapi_conn, _rec):  # the file may not grow: SQLite says "disk is full"
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(OperationalError) as info, session_scope(engine) as s:
        for i in range(2000):
            s.add(Store(code=f"C{i}", name="x" * 500))
    known = explain(info.value)
    assert known is not None and "disk is full" in known.message
    assert "nothing was saved" in known.message
    with session_scope(engine) as s:
        assert s.scalars(select(Store)).all() == []
    engine.dispose()


def test_locked_database_is_explained(db_path):
    open_local_database(db_path).dispose()
    holder = sqlite3.connect(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    engine = make_engine(sqlite_url(db_path), connect_args={"timeout": 0.1})

    @event.listens_for(engine, "connect")
    def no_wait(dbapi_conn, _rec):
        dbapi_conn.execute("PRAGMA busy_timeout = 100")

    try:
        with pytest.raises(OperationalError) as info, session_scope(engine) as s:
            s.add(Store(code="C1", name="Busy"))
        assert "another Mangalm program" in explain(info.value).message
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


def test_unknown_errors_are_not_dressed_up():
    assert explain(ValueError("x")) is None
    assert explain(OSError(errno.EACCES, "denied")) is None
    assert "disk is full" in explain(OSError(errno.ENOSPC, "No space left")).message


def test_cli_says_the_database_is_locked_without_a_traceback(db_path, tmp_path):
    open_local_database(db_path).dispose()
    csv = tmp_path / "inv.csv"
    csv.write_text(
        "Invoice Date,Invoice ID,Invoice Number,Invoice Status,Customer Name,Customer ID,"
        "Product ID,Item Name,SKU,Quantity,Item Price,Item Total,Total\n"
        "2025-01-06,9001,INV-9001,Paid,Shree Ganesh,C-1,P-1,Toor Dal,TD1,12,110.00,1320.00,1320.00\n"
    )
    holder = sqlite3.connect(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mangalm_desktop.cli.main",
                "import",
                "invoices",
                str(csv),
                "--db",
                str(db_path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "busy" in proc.stderr or "locked" in proc.stderr
