"""``mangalm totp``: enrol writes a scannable QR, codes are checked, remove turns it off."""

from __future__ import annotations

import pyotp

from mangalm_desktop.cli.main import main
from mangalm_desktop.security import totp
from mangalm_desktop.security.secrets import get_secret


def test_enrol_check_remove(tmp_path, capsys):
    qr = tmp_path / "m01.png"
    assert main(["totp", "enrol", "M01", "--qr", str(qr)]) == 0
    out = capsys.readouterr().out
    secret = get_secret("totp:m01")
    assert secret and secret not in out  # the secret is only in the keyring (and the QR)
    png = qr.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") > 100
    assert main(["totp", "check", "M01", pyotp.TOTP(secret).now()]) == 0
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    assert main(["totp", "check", "M01", wrong]) == 2
    assert "not valid" in capsys.readouterr().err
    assert main(["totp", "check", "M01", "12ab"]) == 2
    assert "6-digit" in capsys.readouterr().err
    assert main(["totp", "remove", "M01"]) == 0
    assert not totp.is_enrolled("M01")
    assert main(["totp", "enrol", "M01", "--qr", str(tmp_path / "x.txt")]) == 2
