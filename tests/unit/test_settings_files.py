"""The three JSON settings files (central connection, Zoho, mail) go through one pair of
functions in db.files: private and atomic when written, a clear error when damaged."""

from __future__ import annotations

import json
import os
import stat

import pytest

from mangalm_desktop.db.files import load_json_settings
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.messaging import settings as mail
from mangalm_desktop.sync import connection
from mangalm_desktop.zoho import config as zoho

LOADERS = [
    (connection.load_config, "connection settings"),
    (zoho.load_config, "Zoho settings"),
    (mail.load_settings, "mail settings"),
]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"a string"', '{"port": [1]} x'])
@pytest.mark.parametrize(("load", "what"), LOADERS)
def test_a_damaged_file_is_said_in_words(tmp_path, load, what, text):
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=f"The {what} in .*settings.json are damaged"):
        load(path)


@pytest.mark.parametrize(("load", "what"), LOADERS)
def test_no_file_gives_empty_settings(tmp_path, load, what):
    assert load(tmp_path / "none.json") == load(tmp_path / "other.json")


def test_unknown_keys_are_skipped_unless_strict(tmp_path):
    path = tmp_path / "zoho.json"
    path.write_text(json.dumps({"client_id": "abc", "from_a_newer_version": 1}), "utf-8")
    assert zoho.load_config(path).client_id == "abc"
    with pytest.raises(UserError, match="damaged"):
        load_json_settings(path, zoho.ZohoConfig, "Zoho settings", strict=True)
    (tmp_path / "central.json").write_text(json.dumps({"nope": 1}), "utf-8")
    with pytest.raises(UserError, match="connection settings .* damaged"):
        connection.load_config(tmp_path / "central.json")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_zoho_settings_are_written_privately_and_read_back(tmp_path):
    cfg = zoho.ZohoConfig(client_id="1000.ABC", organization_id="42")
    path = tmp_path / "new-folder" / "zoho.json"
    old = os.umask(0o022)  # as a shell would leave it: the file must be 0600 anyway
    try:
        zoho.save_config(cfg, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert zoho.load_config(path) == cfg
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(UserError, match="symbolic link"):
        zoho.save_config(cfg, link)
    assert not (tmp_path / "elsewhere.json").exists()
