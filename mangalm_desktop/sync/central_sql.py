"""PostgreSQL-only objects of the central database, applied by ``mangalm central init``.

The shared Alembic history creates the tables on both back ends; what only PostgreSQL can do
lives here, applied idempotently after the history:

- a ``txid xid8`` column on every synced table, stamped by a trigger with
  ``pg_current_xact_id()`` and indexed, so a pull can ask for "everything changed since my
  cursor" and never skip a row (DESIGN §3); the same trigger bumps ``version``;
- deletes turned into tombstones (a deleted row must still reach every replica);
- ``applied_ops``: the op ids a push has applied, inserted in the same transaction as the
  change, which makes a retried push change nothing twice;
- ``scope_change``: one row per agent and store when a store changes hands, so the old agent
  deletes it and the new one backfills its history;
- group roles ``mangalm_agent`` / ``mangalm_manager`` and Row-Level Security policies: an agent
  sees and changes only its own stores and their rows (and all products and agents), and cannot
  write another agent's id; a manager sees all;
- what RLS alone cannot say (parent ownership, order states, Zoho-owned columns, order numbers,
  device codes, no table locks, timeouts, the audit actor): :mod:`.central_guards`.
"""

from __future__ import annotations

from ..db.models import SYNCED_TABLES
from .central_beats import beat_statements
from .central_guards import AGENT_ROLE as AGENT_ROLE  # the group roles (re-exported)
from .central_guards import MANAGER_ROLE as MANAGER_ROLE
from .central_guards import agent_write_grants, guard_statements
from .tables import STORE_SCOPED

# Tables an agent may write (rows of its own stores, with its own agent_id where there is one).
AGENT_WRITABLE: tuple[str, ...] = (
    "orders",
    "order_line",
    "store_stock_report",
    "call_log",
    "prediction",
    "suggestion_feedback",
)
# Store-scoped tables that carry an agent_id an agent must not forge.
AGENT_ID_CHECKED: tuple[str, ...] = (
    "orders",
    "store_stock_report",
    "call_log",
    "payment",
    "payment_promise",
)
# Tables an agent may only insert into (rows of its own stores): money collected and promises
# are never changed or deleted by an agent; a manager approves or rejects (docs/collections.md).
AGENT_APPEND_ONLY: tuple[str, ...] = ("payment", "payment_allocation", "payment_promise")

FUNCTIONS = """
CREATE TABLE IF NOT EXISTS applied_ops (
    op_id uuid PRIMARY KEY,
    db_user name NOT NULL DEFAULT session_user,
    table_name text,
    row_id uuid,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS scope_change (
    id bigserial PRIMARY KEY,
    agent_id uuid NOT NULL,
    store_id uuid NOT NULL,
    gained boolean NOT NULL,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_scope_change_agent_id_txid ON scope_change (agent_id, txid);

CREATE OR REPLACE FUNCTION mangalm_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id();
    NEW.updated_at := now();
    IF TG_OP = 'UPDATE' THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := 1;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION mangalm_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.%I SET deleted = true WHERE id = $1',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME) USING OLD.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION mangalm_store_scope() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.agent_id IS DISTINCT FROM OLD.agent_id THEN
        IF OLD.agent_id IS NOT NULL THEN
            INSERT INTO scope_change (agent_id, store_id, gained) VALUES (OLD.agent_id, NEW.id, false);
        END IF;
        IF NEW.agent_id IS NOT NULL THEN
            INSERT INTO scope_change (agent_id, store_id, gained) VALUES (NEW.agent_id, NEW.id, true);
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION mangalm_my_agent_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id FROM agent WHERE db_role = session_user AND NOT deleted LIMIT 1
$$;

CREATE OR REPLACE FUNCTION mangalm_my_store_ids() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id FROM store WHERE agent_id = mangalm_my_agent_id()
$$;

-- A scheme is visible to an agent when it is meant for at least one of the agent's stores
-- (regions and store classes: comma-separated, empty = all). Read-only to agents.
CREATE OR REPLACE FUNCTION mangalm_scheme_visible(regions text, classes text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM store s
        WHERE s.agent_id = mangalm_my_agent_id() AND NOT s.deleted
          AND (coalesce(btrim(regions), '') = ''
               OR lower(btrim(s.region)) IN (SELECT lower(btrim(x))
                                             FROM unnest(string_to_array(regions, ',')) x))
          AND (coalesce(btrim(classes), '') = ''
               OR lower(btrim(s.size_class)) IN (SELECT lower(btrim(x))
                                                 FROM unnest(string_to_array(classes, ',')) x)))
$$;

CREATE OR REPLACE FUNCTION mangalm_sees_all() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT r.rolsuper OR r.rolbypassrls OR pg_has_role(session_user, 'mangalm_manager', 'MEMBER')
           OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = 'store'
                      AND c.relnamespace = 'public'::regnamespace
                      AND c.relowner = r.oid)
    FROM pg_roles r WHERE r.rolname = session_user
$$;

DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mangalm_agent') THEN
        CREATE ROLE mangalm_agent NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mangalm_manager') THEN
        CREATE ROLE mangalm_manager NOLOGIN;
    END IF;
END $$;
"""


def _table_sql(table: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS txid xid8 NOT NULL '
        "DEFAULT pg_current_xact_id()",
        f'CREATE INDEX IF NOT EXISTS "ix_{table}_txid" ON "{table}" (txid)',
        f'DROP TRIGGER IF EXISTS mangalm_stamp ON "{table}"',
        f'CREATE TRIGGER mangalm_stamp BEFORE INSERT OR UPDATE ON "{table}" '
        "FOR EACH ROW EXECUTE FUNCTION mangalm_stamp()",
        f'DROP TRIGGER IF EXISTS mangalm_tombstone ON "{table}"',
        f'CREATE TRIGGER mangalm_tombstone BEFORE DELETE ON "{table}" '
        "FOR EACH ROW EXECUTE FUNCTION mangalm_tombstone()",
    ]


def _policies(table: str) -> list[str]:
    mine = "store_id IN (SELECT mangalm_my_store_ids())"
    stmts = [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS manager_all ON "{table}"',
        f'CREATE POLICY manager_all ON "{table}" FOR ALL TO {MANAGER_ROLE} '
        "USING (true) WITH CHECK (true)",
    ]
    for name in ("agent_read", "agent_insert", "agent_update"):
        stmts.append(f'DROP POLICY IF EXISTS {name} ON "{table}"')
    grants = [f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {MANAGER_ROLE}']
    if table in ("agent", "product", "no_order_reason"):  # read by all, written by managers
        read, write = "true", None
    elif table == "scheme":
        # Managed centrally: agents read the schemes meant for their stores and write none.
        read, write = "mangalm_scheme_visible(regions, store_classes)", None
    elif table == "scheme_rule":
        read, write = "scheme_id IN (SELECT id FROM scheme)", None  # scheme's RLS applies
    elif table == "beat":  # managed by managers; an agent reads its own (central_beats)
        read, write = "agent_id = mangalm_my_agent_id()", None
    elif table == "store":
        read = "agent_id = mangalm_my_agent_id()"
        write = read
        grants += agent_write_grants(table)  # new shops too
    elif table == "audit_log":
        # The guard trigger (central_guards) names the session's agent and actor on every
        # entry, also those the laptop wrote without an agent (e.g. a failed sign-in).
        # Append-only for everyone but the owner: no UPDATE policy for anyone (managers get
        # read + insert policies instead of manager_all), no DELETE/TRUNCATE grant. Push
        # inserts entries plainly (push.APPEND_ONLY) but locks rows with SELECT ... FOR UPDATE,
        # which needs UPDATE on one column: ``deleted`` only, and RLS lets no row be updated.
        read = "agent_id = mangalm_my_agent_id()"
        write = read
        stmts += [
            f'DROP POLICY IF EXISTS manager_all ON "{table}"',
            f'DROP POLICY IF EXISTS manager_read ON "{table}"',
            f'DROP POLICY IF EXISTS manager_insert ON "{table}"',
            f'CREATE POLICY manager_read ON "{table}" FOR SELECT TO {MANAGER_ROLE} USING (true)',
            f'CREATE POLICY manager_insert ON "{table}" FOR INSERT TO {MANAGER_ROLE} '
            "WITH CHECK (true)",
        ]
        grants = [
            f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM {AGENT_ROLE}, {MANAGER_ROLE}',
            f'GRANT SELECT, INSERT, UPDATE (deleted) ON "{table}" TO {MANAGER_ROLE}',
            *agent_write_grants(table, update=False),
            f'GRANT UPDATE (deleted) ON "{table}" TO {AGENT_ROLE}',
        ]
    elif table in AGENT_APPEND_ONLY:
        # Insert only. Push locks rows with SELECT ... FOR UPDATE, which needs UPDATE on one
        # column: ``deleted`` only, and no agent UPDATE policy lets any row be updated.
        read = mine
        write = mine
        if table in AGENT_ID_CHECKED:
            write += " AND agent_id = mangalm_my_agent_id()"
        grants += [
            *agent_write_grants(table, update=False),
            f'GRANT UPDATE (deleted) ON "{table}" TO {AGENT_ROLE}',
        ]
    elif table in STORE_SCOPED:
        read = mine
        write = None
        if table in AGENT_WRITABLE:
            write = mine
            if table in AGENT_ID_CHECKED:
                write += " AND agent_id = mangalm_my_agent_id()"
            grants += agent_write_grants(table)
    else:  # pragma: no cover - a new synced table must be given a policy here
        raise ValueError(f"no Row-Level Security rule for synced table {table!r}")
    grants.append(f'GRANT SELECT ON "{table}" TO {AGENT_ROLE}')
    stmts.append(f'CREATE POLICY agent_read ON "{table}" FOR SELECT TO {AGENT_ROLE} USING ({read})')
    if write is not None:
        stmts.append(
            f'CREATE POLICY agent_insert ON "{table}" FOR INSERT TO {AGENT_ROLE} '
            f"WITH CHECK ({write})"
        )
    if write is not None and table != "audit_log" and table not in AGENT_APPEND_ONLY:
        stmts.append(
            f'CREATE POLICY agent_update ON "{table}" FOR UPDATE TO {AGENT_ROLE} '
            f"USING ({read}) WITH CHECK ({write})"
        )
    return stmts + grants


def _bookkeeping_sql() -> list[str]:
    both = f"{AGENT_ROLE}, {MANAGER_ROLE}"
    return [
        "DROP TRIGGER IF EXISTS mangalm_store_scope ON store",
        "CREATE TRIGGER mangalm_store_scope AFTER UPDATE OF agent_id ON store "
        "FOR EACH ROW EXECUTE FUNCTION mangalm_store_scope()",
        "ALTER TABLE applied_ops ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS own_ops ON applied_ops",
        "CREATE POLICY own_ops ON applied_ops FOR ALL TO PUBLIC "
        "USING (db_user = session_user) WITH CHECK (db_user = session_user)",
        "ALTER TABLE scope_change ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS own_scope ON scope_change",
        "CREATE POLICY own_scope ON scope_change FOR SELECT TO PUBLIC "
        "USING (agent_id = mangalm_my_agent_id() OR mangalm_sees_all())",
        f"GRANT USAGE ON SCHEMA public TO {both}",
        f"GRANT SELECT ON applied_ops TO {both}",
        f"GRANT INSERT, DELETE ON applied_ops TO {MANAGER_ROLE}",
        f"GRANT SELECT ON scope_change TO {both}",
        f"GRANT SELECT ON alembic_version TO {both}",
        # Laptop-only bookkeeping tables exist centrally too (one history); nobody uses them.
        f"REVOKE ALL ON outbox, sync_state, number_sequence, activity_model FROM {both}",
        "REVOKE ALL ON FUNCTION mangalm_store_scope() FROM PUBLIC",
    ]


def central_statements() -> list[str]:
    """Every statement of ``central init`` after the Alembic history, in order."""
    stmts = [FUNCTIONS]
    for table in SYNCED_TABLES:
        stmts += _table_sql(table)
        stmts += _policies(table)
    return stmts + _bookkeeping_sql() + bridge_sql() + guard_statements() + beat_statements()


# ---- the Zoho bridge's group role (issue 22; owned by the Zoho bridge, kept apart) -------------
#
# The bridge is a program, not a person: it gets exactly what its jobs do and nothing else.
# Pulls upsert stores, products, invoices and their lines; the push reads orders and their
# lines and writes only the Zoho columns and the state of an order; its bookkeeping (cursors,
# runs, the shared rate-limit window and daily count, "maybe created" orders) lives in
# ``sync_state`` rows whose keys start with ``zoho:``. It deletes nothing (Books deletions
# become tombstones, which are updates) and cannot touch agents, audit entries or the
# laptops' bookkeeping. ``mangalm central add-bridge`` creates a login in this role.

BRIDGE_ROLE = "mangalm_bridge"
BRIDGE_UPSERTS: tuple[str, ...] = ("store", "product", "invoice", "invoice_line")
BRIDGE_READS: tuple[str, ...] = ("order_line", "payment_allocation")
# Customer payments (docs/collections.md): the push reads approved payments and their
# allocations and writes only the Zoho columns of a payment (and lowers the balance of the
# invoices it settles, which it may write as an upserted table).
BRIDGE_PAYMENT_COLUMNS: tuple[str, ...] = ("zoho_payment_id", "zoho_error", "version", "updated_at")
BRIDGE_ORDER_COLUMNS: tuple[str, ...] = (
    "state",
    "zoho_salesorder_id",
    "zoho_salesorder_number",
    "zoho_error",
    "version",
    "updated_at",
)


def bridge_sql() -> list[str]:
    role = BRIDGE_ROLE
    stmts = [
        """DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mangalm_bridge') THEN
        CREATE ROLE mangalm_bridge NOLOGIN;
    END IF;
END $$""",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON alembic_version TO {role}",
    ]
    for table in (*BRIDGE_UPSERTS, *BRIDGE_READS, "orders", "payment"):
        stmts += [
            f'DROP POLICY IF EXISTS bridge_all ON "{table}"',
            f'CREATE POLICY bridge_all ON "{table}" FOR ALL TO {role} USING (true) '
            "WITH CHECK (true)",
        ]
    for table in BRIDGE_UPSERTS:
        stmts.append(f'GRANT SELECT, INSERT, UPDATE ON "{table}" TO {role}')
    for table in BRIDGE_READS:
        stmts.append(f'GRANT SELECT ON "{table}" TO {role}')
    stmts += [
        f"GRANT SELECT, UPDATE ({', '.join(BRIDGE_ORDER_COLUMNS)}) ON orders TO {role}",
        f"GRANT SELECT, UPDATE ({', '.join(BRIDGE_PAYMENT_COLUMNS)}) ON payment TO {role}",
        # sync_state is the laptops' table centrally unused but for the bridge's zoho: rows.
        "ALTER TABLE sync_state ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS bridge_zoho ON sync_state",
        f"CREATE POLICY bridge_zoho ON sync_state FOR ALL TO {role} "
        "USING (key LIKE 'zoho:%') WITH CHECK (key LIKE 'zoho:%')",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON sync_state TO {role}",
    ]
    return stmts
