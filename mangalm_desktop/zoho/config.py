"""Zoho settings: data centre, client id, organization, limits; secrets stay in the keyring.

The settings file (``<data dir>/zoho.json``) holds nothing secret. The client secret and the
refresh token live in the OS keyring under :data:`SECRET_CLIENT` / :data:`SECRET_REFRESH`;
there is exactly one refresh-token slot per installation, because Zoho keeps at most 20 per
user and silently deletes the oldest (ZOHO_API.md §1.4).

Behaviours that ZOHO_API.md marks UNCONFIRMED are switches here rather than assumptions in the
code (see docs/zoho.md, "Configurable because unconfirmed").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..db.files import load_json_settings, save_json_settings
from ..db.paths import data_dir
from ..domain.errors import UserError

SECRET_CLIENT = "zoho:client_secret"
SECRET_REFRESH = "zoho:refresh_token"
SECRET_ACCESS = "zoho:access_token"  # the current access token, shared by runs (JSON)
SECRET_CENTRAL = "zoho:central_password"  # password of the bridge's central login


@dataclass(frozen=True)
class DataCentre:
    accounts_url: str
    api_domain: str


# ZOHO_API.md §1.1 [OFF]: the SDK's dc/*_data_center.py files. Canada's accounts server is
# zohocloud.ca, not zoho.ca. UK is listed by Zoho but its hosts are unconfirmed, so it is
# left out rather than guessed; pass --accounts-url/--api-domain for it.
DATA_CENTRES: dict[str, DataCentre] = {
    "us": DataCentre("https://accounts.zoho.com", "https://www.zohoapis.com"),
    "eu": DataCentre("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    "in": DataCentre("https://accounts.zoho.in", "https://www.zohoapis.in"),
    "au": DataCentre("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    "jp": DataCentre("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    "ca": DataCentre("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    "cn": DataCentre("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    "sa": DataCentre("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
}

SCOPES = (
    "ZohoCRM.modules.accounts.READ",
    "ZohoBooks.contacts.READ",
    "ZohoBooks.items.READ",
    "ZohoBooks.invoices.READ",
    "ZohoBooks.salesorders.READ",
    "ZohoBooks.salesorders.CREATE",
    "ZohoBooks.settings.READ",
)


@dataclass
class ZohoConfig:
    """Everything the bridge needs to know except secrets."""

    client_id: str = ""
    organization_id: str = ""
    dc: str = "in"
    accounts_url: str = ""  # overrides the data centre's (tests, UK, sandboxes)
    api_domain: str = ""  # overrides the token response's api_domain
    crm_version: str = "v8"
    # limits
    per_minute: int = 90  # Books allows 100/min/org; stay below it
    daily_budget: int = 1000  # the Free plan's cap; raise it to your plan's
    timeout_s: float = 30.0
    max_attempts: int = 6
    backoff_base_s: float = 2.0
    backoff_max_s: float = 120.0
    rate_limit_wait_s: float = 60.0  # wait after a 429 that has no Retry-After
    # incremental pulls
    overlap_minutes: int = 10
    page_size: int = 200
    invoices_since: str = ""  # ISO date; empty = all history on the first run
    # UNCONFIRMED behaviours (ZOHO_API.md), see docs/zoho.md
    items_modified_filter: bool = False  # send last_modified_time to /items
    contacts_modified_filter: bool = False  # send last_modified_time to /contacts
    crm_if_modified_since: bool = True  # CRM answers 304 for nothing new
    # sales-order lines (schemes): the line discount as "<pct>%" or folded into the rate
    # (net_rate); free goods at rate 0 or at list price less "100%" (full_discount)
    line_discount: str = "percent"
    free_goods: str = "zero_rate"
    # exactly-once push: an order whose create had an unknown outcome is looked up on every
    # run and created again only after this long without Zoho showing it (docs/zoho.md)
    maybe_created_window_minutes: int = 120
    # customer payments (docs/zoho.md "Payments"): Books' payment modes are each organization's
    # own list (Settings ▸ Payment modes), so the name sent for each of ours is a setting;
    # "UPI" is not a default mode: add it in Books or map UPI to one you have.
    payment_mode_cash: str = "cash"
    payment_mode_cheque: str = "check"
    payment_mode_upi: str = "UPI"
    payment_mode_bank_transfer: str = "banktransfer"
    payment_account_id: str = ""  # Books' deposit-to account; empty = the organization's default
    # deletions: a full invoice listing every this many hours finds invoices deleted in Books
    # (UNCONFIRMED that the listing shows every live invoice; 0 turns the sweep off)
    deletion_sweep_hours: int = 24
    # scheduling (minutes; a fraction is allowed)
    interval_minutes: float = 15
    # the bridge's own central login (`mangalm central add-bridge`); its password is in the
    # keyring. Empty = $MANGALM_CENTRAL_URL or the Sync settings' connection.
    central_url: str = ""

    @property
    def accounts(self) -> str:
        if self.accounts_url:
            return self.accounts_url.rstrip("/")
        try:
            return DATA_CENTRES[self.dc].accounts_url
        except KeyError:
            raise UserError(
                f"Unknown Zoho data centre {self.dc!r}.",
                hint=f"Use one of {', '.join(DATA_CENTRES)} or set accounts_url.",
            ) from None

    @property
    def default_api_domain(self) -> str:
        if self.api_domain:
            return self.api_domain.rstrip("/")
        return DATA_CENTRES[self.dc].api_domain if self.dc in DATA_CENTRES else ""

    def validate(self) -> None:
        if not self.client_id:
            raise UserError("The Zoho client id is empty.", hint="Run `mangalm zoho auth`.")
        if not self.organization_id:
            raise UserError(
                "The Zoho Books organization id is empty.",
                hint="Find it in Books under Settings > Organization Profile.",
            )
        _ = self.accounts
        if not 1 <= self.per_minute <= 100:
            raise UserError("per_minute must be between 1 and 100 (Zoho's limit).")
        if not 1 <= self.page_size <= 200:
            raise UserError("page_size must be between 1 and 200 (Zoho's maximum).")
        if self.maybe_created_window_minutes < 0 or self.deletion_sweep_hours < 0:
            raise UserError(
                "maybe_created_window_minutes and deletion_sweep_hours cannot be negative."
            )
        if self.line_discount not in ("percent", "net_rate"):
            raise UserError("line_discount must be percent or net_rate.")
        if self.free_goods not in ("zero_rate", "full_discount"):
            raise UserError("free_goods must be zero_rate or full_discount.")
        if self.interval_minutes <= 0:
            raise UserError("interval_minutes must be more than 0.")


def config_path() -> Path:
    return data_dir() / "zoho.json"


def load_config(path: Path | None = None) -> ZohoConfig:
    return load_json_settings(path or config_path(), ZohoConfig, "Zoho settings")


def save_config(config: ZohoConfig, path: Path | None = None) -> None:
    config.validate()
    save_json_settings(path or config_path(), config)  # 0600, never through a symlink
