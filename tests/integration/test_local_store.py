"""The laptop database is encrypted at rest by default; plain files keep opening; clear errors.

Real SQLCipher files and the real CLI (in-process with the test keyring, and in a subprocess
with no keyring at all). The suite as a whole creates plain files (tests/conftest.py sets
MANGALM_DB_ENCRYPTION=off); these tests remove that switch to exercise the real default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Store
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.security.local_key import KEY_NAME
from mangalm_desktop.security.local_store import ENV_SWITCH, is_plain_sqlite, open_store
from mangalm_desktop.security.secrets import get_secret, set_secret
from tests.conftest import REPO_ROOT

SECRET_SHOP = "Zanzibar Masala Emporium"


@pytest.fixture
def encrypted_default(monkeypatch):
    monkeypatch.delenv(ENV_SWITCH, raising=False)


def _add_store(engine, name: str = SECRET_SHOP) -> None:
    with session_scope(engine) as s:
        s.add(Store(id=uuid.uuid4(), code=f"S-{uuid.uuid4().hex[:6]}", name=name, city="Hubli"))


def _all_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def _stores(engine) -> list[str]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Store.name)))


def test_new_database_is_encrypted_and_holds_no_readable_names(tmp_path, encrypted_default):
    path = tmp_path / "laptop.sqlite"
    engine = open_store(path)
    _add_store(engine)
    assert _stores(engine) == [SECRET_SHOP]
    engine.dispose()
    assert not is_plain_sqlite(path)
    everything = _all_bytes(path)
    assert SECRET_SHOP.encode() not in everything and b"Hubli" not in everything
    assert get_secret(KEY_NAME) is not None
    again = open_store(path)  # reopened with the keyring's key
    assert _stores(again) == [SECRET_SHOP]
    again.dispose()


def test_demo_and_existing_plain_files_stay_plain(tmp_path, encrypted_default):
    old = tmp_path / "old.sqlite"
    open_local_database(old).dispose()  # made before encryption existed
    engine = open_store(old)
    _add_store(engine)
    engine.dispose()
    assert is_plain_sqlite(old)
    demo = open_store(tmp_path / "demo.sqlite", encrypt_new=False)
    demo.dispose()
    assert is_plain_sqlite(tmp_path / "demo.sqlite")


def test_wrong_or_missing_key_is_a_clear_error(tmp_path, encrypted_default, memory_keyring):
    path = tmp_path / "laptop.sqlite"
    open_store(path).dispose()
    set_secret(KEY_NAME, "ab" * 32)  # another computer's key
    with pytest.raises(UserError, match="cannot be opened with this computer's key"):
        open_store(path)
    memory_keyring.store.clear()
    with pytest.raises(UserError, match="keyring holds no key"):
        open_store(path)


def test_db_encrypt_rewrites_a_plain_file_with_a_backup(tmp_path, encrypted_default, capsys):
    path = tmp_path / "plain.sqlite"
    engine = open_local_database(path)
    for i in range(50):
        _add_store(engine, f"{SECRET_SHOP} {i}")
    engine.dispose()
    assert main(["db", "encrypt", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "NOT encrypted" in out  # the plain backup is named as such
    assert not is_plain_sqlite(path) and SECRET_SHOP.encode() not in _all_bytes(path)
    backups = list(tmp_path.glob("plain.backup-plain-*.sqlite"))
    assert len(backups) == 1 and is_plain_sqlite(backups[0])
    engine = open_store(path)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Store)) == 50
    engine.dispose()
    assert main(["db", "info", "--db", str(path)]) == 0
    assert "encrypted (SQLCipher)" in capsys.readouterr().out
    assert main(["db", "encrypt", "--db", str(path)]) == 2
    assert "already encrypted" in capsys.readouterr().err


def test_cli_without_a_keyring_says_so_and_creates_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != ENV_SWITCH}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    path = tmp_path / "new.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "mangalm_desktop.cli.main", "db", "--db", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "keyring" in proc.stderr and "Traceback" not in proc.stderr
    assert not path.exists()
