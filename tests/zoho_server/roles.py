"""Central logins for the bridge's tests: the bridge's own login (``central add-bridge``) and a
manager's, as URLs on the test PostgreSQL."""

from __future__ import annotations

from urllib.parse import quote

from mangalm_desktop.sync.central import add_bridge, add_user, init_central


def login_url(admin_url: str, role: str, password: str) -> str:
    """``admin_url`` (``postgresql+psycopg://postgres:@/db?host=…``) with another login."""
    scheme, _, rest = admin_url.partition("://")
    _, _, hostpart = rest.partition("@")
    return f"{scheme}://{role}:{quote(password, safe='')}@{hostpart}"


def bridge_url(admin_url: str) -> str:
    """Initialise the central database and return a URL of a fresh bridge login."""
    init_central(admin_url)
    login = add_bridge(admin_url, identity=None)
    return login_url(admin_url, login.db_role, login.password)


def manager_url(admin_url: str, code: str = "M01") -> str:
    user = add_user(admin_url, code, "Manager One", manager=True, identity=None)
    return login_url(admin_url, user.db_role, user.password)
