"""The laptop database encrypted at rest with SQLCipher (key from the keyring)."""

from __future__ import annotations

import secrets as pysecrets

import pytest
from sqlalchemy import select

from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Store
from mangalm_desktop.domain.errors import UserError

STORE_NAME = "Shree Ganesh Kirana Stores Dadar"


def test_file_bytes_hold_no_store_names(db_path):
    key = pysecrets.token_hex(32)
    engine = migrate.open_local_database(db_path, key_hex=key)
    with session_scope(engine) as s:
        s.add(Store(code="C-77", name=STORE_NAME, city="Mumbai"))
    engine.dispose()
    for f in db_path.parent.glob(db_path.name + "*"):  # main file, -wal, -shm
        assert STORE_NAME.encode() not in f.read_bytes(), f.name
        assert b"Mumbai" not in f.read_bytes(), f.name
    engine = migrate.open_local_database(db_path, key_hex=key)
    with session_scope(engine) as s:
        assert s.scalars(select(Store.name)).one() == STORE_NAME
    engine.dispose()


def test_wrong_key_is_a_clear_error_not_a_crash(db_path):
    engine = migrate.open_local_database(db_path, key_hex=pysecrets.token_hex(32))
    engine.dispose()
    before = db_path.read_bytes()
    with pytest.raises(UserError, match="cannot be opened with this computer's key"):
        migrate.open_local_database(db_path, key_hex=pysecrets.token_hex(32))
    with pytest.raises(UserError, match="not a Mangalm database"):
        migrate.open_local_database(db_path)  # encrypted file opened without a key
    assert db_path.read_bytes() == before


def test_plain_file_opened_as_encrypted_is_refused(db_path):
    migrate.open_local_database(db_path).dispose()
    with pytest.raises(UserError, match="not encrypted"):
        migrate.open_local_database(db_path, key_hex=pysecrets.token_hex(32))


def test_bad_key_format_is_rejected(db_path):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        migrate.open_local_database(db_path, key_hex="x'; ATTACH DATABASE 'evil")
