"""``mangalm mail`` end to end through ``cli.main.main`` against a real local SMTP server."""

from __future__ import annotations

import io
import sys

import pytest

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Store
from mangalm_desktop.messaging.settings import load_settings, settings_path
from mangalm_desktop.security.secrets import get_secret
from tests.support.smtp_server import PASSWORD, USER, Recorder, running_server
from tests.support.tls import make_pki

from .test_mail_queue import STORE_MAIL, shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def run(capsys, *argv, stdin: str | None = None) -> tuple[int, str]:
    if stdin is not None:
        old, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        code = main(["mail", *argv])
    finally:
        if stdin is not None:
            sys.stdin = old
    out = capsys.readouterr()
    return code, out.out + out.err


def test_configure_test_send_queue_retry_whatsapp(engine, db_path, shop, tmp_path, capsys):  # noqa: F811
    _sd, result = shop
    pki = make_pki(tmp_path / "pki", hostname="localhost")
    db = ["--db", str(db_path)]
    recorder = Recorder(refuse={"wrong@shop.example"})
    with running_server("starttls", pki, recorder) as server:
        code, out = run(
            capsys,
            "configure",
            "--host",
            "localhost",
            "--port",
            str(server.port),
            "--user",
            USER,
            "--from",
            "orders@mangalm.example",
            "--ca-file",
            str(pki.ca_cert),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert code == 0, out
        assert "password is saved in the OS keyring" in out
        assert get_secret(f"smtp:{USER}@localhost") == PASSWORD
        assert PASSWORD not in settings_path().read_text()
        assert settings_path().stat().st_mode & 0o077 == 0
        assert load_settings().security == "starttls"

        code, out = run(capsys, "test", "--to", "me@mangalm.example")
        assert code == 0 and "Test message accepted" in out

        code, out = run(capsys, "send", result.number, *db)
        assert code == 0, out
        assert f"confirmation of {result.number} to {STORE_MAIL}: queued" in out
        assert "1 sent" in out

        code, out = run(capsys, "send", result.number, "--to", "wrong@shop.example", *db)
        assert code == 2 and "refused the recipient wrong@shop.example (550" in out

        code, out = run(capsys, "queue", *db)
        assert code == 0
        assert "sent  attempts 1" in out and "failed  attempts 1" in out

        code, out = run(capsys, "send", result.number, *db)
        assert code == 2 and "already sent" in out and "Traceback" not in out
        code, out = run(capsys, "send", result.number, "--again", *db)
        assert code == 0 and "1 sent" in out
    assert [m["To"] for m in recorder.messages] == ["me@mangalm.example", STORE_MAIL, STORE_MAIL]

    # server gone: the retry stays queued, in words
    queue_out = run(capsys, "queue", "--waiting", *db)[1]
    failed_id = queue_out.split()[0]
    code, out = run(capsys, "retry", failed_id, *db)
    assert code == 0 and "Cannot reach the mail server" in out and "retry later" in out
    code, out = run(capsys, "remove", failed_id, *db)
    assert code == 0 and "removed" in out

    code, out = run(capsys, "whatsapp", result.number, *db)  # the seed's "+91 821 000 111"
    assert code == 2 and "has 10 digits after the country code (this one has 9)" in out
    with session_scope(engine) as s:
        s.get(Store, _sd.store_id).phone = "0821 200 0111"
    code, out = run(capsys, "whatsapp", result.number, *db)
    assert code == 0 and out.startswith("https://wa.me/918212000111?text=Order%20")


def test_configure_refuses_insecure_for_a_remote_server(capsys):
    code, out = run(
        capsys, "configure", "--host", "smtp.example.com", "--from", "a@b.example", "--insecure"
    )
    assert code == 2 and "allowed only for a test mail server on this computer" in out
    assert not settings_path().exists()
    code, out = run(capsys, "configure", "--host", "smtp.example.com", "--from", "not mail")
    assert code == 2 and "is not an e-mail address" in out
