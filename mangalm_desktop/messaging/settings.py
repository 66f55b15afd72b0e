"""The outgoing-mail settings: host, port, TLS, user, sender; the password only in the keyring.

Why a JSON file beside ``central.json`` and not a table: the settings belong to this laptop's
account (like the central connection), are written atomically and privately (0600, never
through a symbolic link, ``db.files.atomic_target``) and hold no secret; the password lives in
the OS keyring under ``smtp:<user>@<host>`` (``security.secrets``) and nowhere else.

TLS is always on and verified: ``starttls`` (port 587) upgrades a plain connection before the
user name is sent, ``tls`` (port 465) speaks TLS from the first byte. A company CA (``ca_file``)
replaces the system's trusted roots for that server. Turning verification off (``insecure``)
is accepted only for a mail server on this computer (a local test server): on any network it
would let whoever sits in between read the password and the orders.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path

from ..db.files import load_json_settings, save_json_settings
from ..db.paths import data_dir
from ..domain.errors import UserError
from ..security.secrets import get_secret, set_secret

SECURITY_MODES = ("starttls", "tls")
DEFAULT_PORTS = {"starttls": 587, "tls": 465}
DEFAULT_COUNTRY = "91"  # India: phone numbers typed without a country code are Indian

INSECURE_RISK = (
    "does not check the mail server's certificate: anyone on the network in between could "
    "read the password and every order sent"
)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: the connection never leaves this computer."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_address(text: str, what: str = "The e-mail address") -> str:
    """``text`` as a bare ``user@domain`` address, or :class:`UserError` in words."""
    value = (text or "").strip()
    try:
        addr = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise UserError(f"{what} “{value}” is not an e-mail address ({exc}).") from exc
    if not addr.username or "." not in addr.domain or any(c.isspace() for c in value):
        raise UserError(
            f"{what} “{value}” is not an e-mail address.", hint="Write it as name@example.com."
        )
    return addr.addr_spec


@dataclass
class MailSettings:
    """This laptop's outgoing mail server and the default country for WhatsApp numbers."""

    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    from_address: str = ""
    ca_file: str = ""
    insecure: bool = False
    timeout_s: float = 30.0
    whatsapp_country: str = DEFAULT_COUNTRY

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    @property
    def secret_key(self) -> str:
        return f"smtp:{self.user}@{self.host}"

    def validate(self) -> None:
        """:class:`UserError` naming the first thing wrong; nothing is saved then."""
        if not self.host.strip():
            raise UserError("The mail server's host name is empty.")
        if not 1 <= int(self.port) <= 65535:
            raise UserError(f"The mail server port must be 1–65535 (got {self.port}).")
        if self.security not in SECURITY_MODES:
            raise UserError(
                f"Security must be one of {', '.join(SECURITY_MODES)} (got “{self.security}”).",
                hint="starttls on port 587, tls on port 465; mail is never sent unencrypted.",
            )
        check_address(self.from_address, "The sender address")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise UserError(f"The CA certificate file {self.ca_file} does not exist.")
        if not self.whatsapp_country.isdigit() or not 1 <= len(self.whatsapp_country) <= 3:
            raise UserError(
                f"The default country code must be 1–3 digits, such as 91 "
                f"(got “{self.whatsapp_country}”)."
            )
        if self.insecure and not is_loopback(self.host):
            raise UserError(
                f"An unverified connection {INSECURE_RISK}. It is allowed only for a test mail "
                f"server on this computer (localhost), not for {self.host}. Nothing was saved.",
                hint="Give the company's CA certificate file instead (--ca-file).",
            )

    def ssl_context(self) -> ssl.SSLContext:
        """Verified TLS: the system roots, or only the company CA when one is given."""
        ctx = ssl.create_default_context(cafile=self.ca_file or None)
        if self.insecure:
            if not is_loopback(self.host):  # a hand-edited file: refuse rather than obey
                raise UserError(f"An unverified connection to {self.host} {INSECURE_RISK}.")
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def password(self) -> str | None:
        return get_secret(self.secret_key) if self.user else None


def settings_path() -> Path:
    return data_dir() / "mail.json"


def load_settings(path: Path | None = None) -> MailSettings:
    """The saved settings, or empty ones (then nothing is sent; messages wait in the queue)."""
    return load_json_settings(path or settings_path(), MailSettings, "mail settings")


def save_settings(
    settings: MailSettings, password: str | None = None, path: Path | None = None
) -> Path:
    """Check and write the settings (never the password); the password goes to the keyring."""
    settings.host = settings.host.strip()
    settings.user = settings.user.strip()
    settings.from_address = check_address(settings.from_address, "The sender address")
    settings.validate()
    if password:  # first: without a keyring nothing is saved (never a password in a file)
        set_secret(settings.secret_key, password)
    return save_json_settings(path or settings_path(), settings)  # 0600, never through a link
