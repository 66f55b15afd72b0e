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
