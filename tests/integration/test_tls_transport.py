"""TLS to PostgreSQL with sslmode=verify-full: the right CA connects, a wrong CA is refused."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support.tls import PgTlsFrontEnd, make_pki

pytestmark = pytest.mark.pg


def _socket_path(pg_server) -> Path:
    host = pg_server.get_uri().split("host=", 1)[1]
    return next(Path(host).glob(".s.PGSQL.*"))


@pytest.fixture
def tls_front(pg_server, tmp_path):
    pki = make_pki(tmp_path / "pki")
    front = PgTlsFrontEnd(pki, _socket_path(pg_server))
    yield front, pki
    front.close()


def _conninfo(port: int, ca: Path, mode: str = "verify-full", host: str = "localhost") -> str:
    return (
        f"host={host} port={port} dbname=postgres user=postgres "
        f"sslmode={mode} sslrootcert={ca} connect_timeout=5"
    )


def test_verify_full_with_the_right_ca_connects_encrypted(tls_front):
    front, pki = tls_front
    with psycopg.connect(_conninfo(front.port, pki.ca_cert)) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        assert conn.pgconn.ssl_in_use


def test_a_wrong_ca_is_refused(tls_front, tmp_path):
    front, _ = tls_front
    other = make_pki(tmp_path / "other", ca_name="Attacker CA")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(_conninfo(front.port, other.ca_cert))


def test_a_wrong_host_name_is_refused(tls_front):
    front, pki = tls_front
    # The certificate names "localhost"; connecting by IP must fail host-name verification.
    with pytest.raises(
        psycopg.OperationalError, match="does not match host name|server certificate"
    ):
        psycopg.connect(_conninfo(front.port, pki.ca_cert, host="127.0.0.1"))


def test_plaintext_is_not_accepted(tls_front):
    front, pki = tls_front
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_conninfo(front.port, pki.ca_cert, mode="disable"))
