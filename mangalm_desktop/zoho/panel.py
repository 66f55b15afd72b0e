"""What the manager's Zoho panel (and the CLI) need, without Qt: the central engine, the panel's
data in one call, "Run now" and releasing parked orders.

The panel is a thin view over these functions; they run on worker threads, never on the UI
thread, and each opens and disposes its own central engine so a dead server costs one timeout
instead of a stuck connection pool.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, create_engine

from ..db.engine import disposing, make_engine
from ..domain.errors import UserError
from ..domain.tasks import NULL_TASK, TaskContext
from ..security.roles import Identity, Permission, require
from ..security.secrets import get_secret
from ..sync.connection import connect as central_connect
from ..sync.connection import load_config as load_central_config
from ..sync.connection import sqlalchemy_url
from . import bridge
from .config import SECRET_CENTRAL, SECRET_REFRESH, load_config


def central_engine(url: str | None = None) -> Engine:
    """``url``, else ``$MANGALM_CENTRAL_URL``, else the bridge's own central login (`mangalm
    zoho central`, password from the keyring), else the saved Sync connection (password from
    the keyring)."""
    url = url or os.environ.get("MANGALM_CENTRAL_URL")
    if url:
        return make_engine(sqlalchemy_url(url), connect_args={"connect_timeout": 10})
    zcfg = load_config()
    if zcfg.central_url:
        args: dict[str, object] = {"connect_timeout": 10}
        password = get_secret(SECRET_CENTRAL)
        if password:
            args["password"] = password
        return make_engine(sqlalchemy_url(zcfg.central_url), connect_args=args)
    cfg = load_central_config()
    if not cfg.configured:
        raise UserError(
            "No central database is configured.",
            hint="The Zoho bridge works on the central database: set up the central "
            "connection (Sync view) or pass --central.",
        )

    def creator() -> psycopg.Connection:
        return central_connect(cfg)

    return create_engine("postgresql+psycopg://", creator=creator)


@dataclass(frozen=True)
class PanelData:
    connection: str  # one line: DC, organization, whether a token is stored
    connected: bool
    daily_budget: int
    status: bridge.BridgeStatus | None
    problem: str = ""  # why status is missing (no central DB, unreachable...)


def load_panel(
    _ctx: TaskContext = NULL_TASK, url: str | None = None, *, identity: Identity | None
) -> PanelData:
    """The Zoho panel: connection, budget, job states, parked orders (managers, admins)."""
    require(identity, Permission.RUN_ZOHO)
    cfg = load_config()
    connected = bool(get_secret(SECRET_REFRESH)) and bool(cfg.client_id)
    if cfg.client_id:
        line = f"Zoho {cfg.dc.upper()} · organization {cfg.organization_id or '?'} · " + (
            "connected" if connected else "not connected (run `mangalm zoho auth`)"
        )
    else:
        line = "Zoho is not set up on this machine (run `mangalm zoho auth`)."
    try:
        engine = central_engine(url)
    except UserError as exc:
        return PanelData(line, connected, cfg.daily_budget, None, exc.message)
    with disposing(engine):
        try:
            return PanelData(line, connected, cfg.daily_budget, bridge.status(engine))
        except Exception as exc:  # noqa: BLE001 - shown in words in the panel
            return PanelData(line, connected, cfg.daily_budget, None, f"Central database: {exc}")


def run_now(
    ctx: TaskContext = NULL_TASK,
    jobs: Sequence[str] = bridge.ALL_JOBS,
    url: str | None = None,
    *,
    identity: Identity | None,
) -> bridge.RunReport:
    """One bridge run, as ``mangalm zoho run --once`` does (raises BridgeBusy if one runs).

    ``identity`` needs the run-Zoho permission (managers, admins); None = standalone."""
    require(identity, Permission.RUN_ZOHO)
    cfg = load_config()
    cfg.validate()
    with disposing(central_engine(url)) as engine, closing(bridge.make_client(cfg)) as client:
        return bridge.run_once(engine, client, jobs, ctx)


def release_parked(
    _ctx: TaskContext = NULL_TASK,
    numbers: Sequence[str] | None = None,
    url: str | None = None,
    *,
    identity: Identity | None,
) -> int:
    require(identity, Permission.RUN_ZOHO)
    with disposing(central_engine(url)) as engine:
        return bridge.retry_parked(engine, numbers)
