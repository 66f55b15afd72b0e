"""Local audit entries for settings and connection changes: written with their outbox op."""

from __future__ import annotations

import json

from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import AuditLog, Outbox
from mangalm_desktop.security.session import record_setting_change


def test_connection_and_setting_changes_are_audited(engine):
    cfg = {"host": "db.example", "port": 5432, "user": "mangalm_a07", "sslmode": "verify-full"}
    record_setting_change(None, engine, "desktop:A07", "central_connection", cfg, connection=True)
    record_setting_change(None, engine, "desktop:A07", "security/lock_minutes", 5)
    with session_scope(engine) as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.at)).all()
        ops = s.scalars(select(Outbox.table_name)).all()
        got = [(r.action, r.entity_id, json.loads(r.details)["value"]) for r in rows]
    assert got == [
        ("connection_change", "central_connection", cfg),
        ("settings_change", "security/lock_minutes", 5),
    ]
    assert ops == ["audit_log", "audit_log"]


def test_cli_report_export_is_audited(tmp_path):
    from mangalm_desktop.cli.main import main
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.reports.catalog import REPORTS

    db, out = tmp_path / "m.sqlite", tmp_path / "r.csv"
    open_local_database(db).dispose()
    name = next(iter(REPORTS))
    assert main(["report", name, "--db", str(db), "--out", str(out), "-q"]) == 0
    assert out.exists()
    engine = open_local_database(db)
    try:
        with session_scope(engine) as s:
            entry = s.scalars(select(AuditLog)).one()
            assert (entry.action, entry.entity_id) == ("export", name)
            assert entry.actor.startswith("cli")
            assert json.loads(entry.details)["format"] == "csv"
    finally:
        engine.dispose()
