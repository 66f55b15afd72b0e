"""A full session with recognisable secrets, then every file the app wrote is searched for them.

Session: an encrypted laptop database (key from the keyring), connection settings saved (DB
password to the keyring), online sign-in against the central PostgreSQL, a wrong-password
attempt, a sync, a Zoho bridge run against the local Zoho test server (client secret, refresh
and access tokens), a report export, and a UI setting. Searched afterwards: the data, config,
state and cache folders (connection/Zoho JSON, QSettings INI), the log file (DEBUG level), the
database files (WAL too), the export, and the error reports the GUI would show for the
failures ("crash reports": message + traceback details). None may contain any secret, in
plain text or in the usual encodings.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from mangalm_desktop.applog import setup_logging
from mangalm_desktop.db.engine import connect_sqlcipher
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.reports.catalog import REPORTS, run_report
from mangalm_desktop.reports.export import export_audited
from mangalm_desktop.reports.filters import ReportFilters
from mangalm_desktop.security.local_key import KEY_NAME
from mangalm_desktop.security.local_store import ENV_SWITCH, open_store
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.security.secrets import get_secret, set_secret
from mangalm_desktop.security.session import sign_in_audited
from mangalm_desktop.security.signin import SignInFailed
from mangalm_desktop.sync.central import add_user
from mangalm_desktop.sync.connection import CentralConfig, connect, save_config
from mangalm_desktop.sync.online_signin import central_online_check
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.zoho import panel
from mangalm_desktop.zoho.config import SECRET_CLIENT, SECRET_REFRESH
from mangalm_desktop.zoho.config import save_config as save_zoho_config
from tests.integration.sync_support import as_user, build_world
from tests.zoho_server import ZohoServer
from tests.zoho_server.support import bridge_config, seed_zoho

pytestmark = pytest.mark.pg

DB_PASSWORD = "PgPw-7c1e9b44-QuillFeather"
ZOHO_CLIENT_SECRET = "ZohoSecret-3f8a2d61-Marigold"


def _variants(secret: str) -> set[bytes]:
    raw = secret.encode()
    return {
        raw,
        quote(secret, safe="").encode(),
        base64.b64encode(raw),
        secret.encode("utf-16-le"),
        raw.hex().encode(),
    }


def _files(*roots: Path) -> list[Path]:
    return sorted({p for r in roots if r.exists() for p in r.rglob("*") if p.is_file()})


def _local_dump(path: Path, key: str) -> bytes:
    """Every row of the laptop database as SQL text, decrypted with its key."""
    conn = connect_sqlcipher(path, key)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [repr(r) for t in tables for r in conn.execute(f'SELECT * FROM "{t}"')]  # noqa: S608
        return "\n".join(rows).encode()
    finally:
        conn.close()


def _central_dump(url: str) -> bytes:
    """Every row of every table of the central database as JSON text."""
    with psycopg.connect(as_user(url, "postgres")) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        rows = [
            str(r[0])
            for t in tables
            for r in conn.execute(
                sql.SQL("SELECT to_jsonb(t)::text FROM {} t").format(sql.Identifier(t))
            )
        ]
    return "\n".join(rows).encode()


@pytest.fixture
def home(tmp_path, monkeypatch):
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv(ENV_SWITCH, raising=False)  # the laptop database is encrypted
    return tmp_path


def test_no_secret_in_any_file_after_a_full_session(home, pg_url, qapp):
    from mangalm_desktop.gui.errors import describe
    from mangalm_desktop.gui.settings import settings, use_settings_dir

    log_dir = home / "logs"
    before = list(logging.getLogger().handlers)
    setup_logging(log_dir, verbose=True)
    use_settings_dir(home / "qsettings")
    reports = []
    shown: list[str] = []
    try:
        world = build_world(pg_url, stores_per_agent=2, invoices_per_store=1, products=3)
        agent = add_user(
            world.url, world.agent_a.code, "Agent A", password=DB_PASSWORD, identity=None
        )
        laptop = home / "xdg_data_home" / "laptop.sqlite"
        engine = open_store(laptop)
        db_key = get_secret(KEY_NAME)
        assert db_key

        # Connection settings through the app's own path (the password goes to the keyring).
        cfg = CentralConfig.from_url(as_user(world.url, agent.db_role))
        cfg.sslmode = "disable"  # the test server has no TLS (test_tls_transport covers it)
        save_config(cfg, DB_PASSWORD)
        check = central_online_check(cfg)
        t0 = dt.datetime.now(dt.UTC)
        signed = sign_in_audited(None, engine, agent.code, DB_PASSWORD, check, now=t0)
        # Then a wrong password with the server out of reach: refused by the offline verifier.
        gone = CentralConfig(host="127.0.0.1", port=1, database="x", user="", sslmode="disable")
        try:
            sign_in_audited(
                None,
                engine,
                agent.code,
                "wrong-" + DB_PASSWORD,
                central_online_check(gone),
                now=t0 + dt.timedelta(seconds=5),
            )
        except SignInFailed as exc:
            reports.append(describe(exc, "signing in"))
        assert signed.result.online and signed.identity.role is Role.AGENT
        report = sync_once(engine, lambda: connect(cfg))
        assert report.ok, report.error
        second = sync_once(engine, lambda: connect(cfg))  # pushes the audit entries
        assert second.ok, second.error

        # A Zoho run the way the panel does it: config file + secrets from the keyring.
        with ZohoServer(client_secret=ZOHO_CLIENT_SECRET) as server:
            seed_zoho(server, stores=2, items=3, invoices=3, lines=2)
            refresh = server.new_refresh_token()
            save_zoho_config(bridge_config(server))
            set_secret(SECRET_CLIENT, ZOHO_CLIENT_SECRET)
            set_secret(SECRET_REFRESH, refresh)
            manager = Identity("M", Role.MANAGER)
            run = panel.run_now(
                jobs=["accounts", "contacts", "items"],
                url=as_user(world.url, "postgres"),
                identity=manager,
            )
            assert run is not None
            access_tokens = list(server.access_tokens)
            assert access_tokens, "the run used an access token"
            # A Zoho failure the panel would show: a bad client secret.
            set_secret(SECRET_CLIENT, "not-" + ZOHO_CLIENT_SECRET)
            server.access_tokens.clear()
            try:
                failed = panel.run_now(
                    jobs=["items"], url=as_user(world.url, "postgres"), identity=manager
                )
                shown.append(repr(failed))  # the run report the panel shows
            except Exception as exc:  # noqa: BLE001 - whatever it is, its report is scanned
                reports.append(describe(exc, "running the Zoho bridge"))

        name = next(iter(REPORTS))
        result = run_report(engine, name, ReportFilters(), identity=manager)
        export_audited(None, engine, result, "csv", home / "export.csv", identity=manager)
        settings().setValue("security/lock_minutes", 7)
        settings().sync()
        engine.dispose()
    finally:
        for handler in logging.getLogger().handlers[:]:
            if handler not in before:
                handler.close()
                logging.getLogger().removeHandler(handler)
        use_settings_dir(None)

    secrets = {
        "database password": DB_PASSWORD,
        "Zoho client secret": ZOHO_CLIENT_SECRET,
        "Zoho refresh token": refresh,
        "database key": db_key,
        **{f"Zoho access token {i}": t for i, t in enumerate(access_tokens)},
    }
    files = _files(home)
    wrote = {p.name for p in files}
    assert {"central.json", "zoho.json", "mangalm.log", "laptop.sqlite", "export.csv"} <= wrote
    assert any(p.suffix == ".ini" for p in files)
    assert (log_dir / "mangalm.log").stat().st_size > 0
    texts = [
        (f"error report {i}", (r.message + (r.hint or "") + r.details).encode())
        for i, r in enumerate(reports)
    ]
    texts += [(f"run report {i}", t.encode()) for i, t in enumerate(shown)]
    texts += [("decrypted laptop database", _local_dump(laptop, db_key))]
    texts += [("central database", _central_dump(world.url))]
    assert b"sign_in" in texts[-2][1] and agent.code.encode() in texts[-1][1]  # real content
    assert len(texts) == 4 and "Traceback" in texts[0][1].decode()
    found = []
    for label, value in secrets.items():
        needles = _variants(value)
        for path in files:
            data = path.read_bytes()
            found += [f"{label} in {path.relative_to(home)}" for n in needles if n in data]
        for where, data in texts:
            found += [f"{label} in {where}" for n in needles if n in data]
    assert found == []
