"""What the central PostgreSQL enforces against its own agents (applied by ``central init``).

An agent's password sits on a laptop, so assume it reaches psql. Row-Level Security
(:mod:`.central_sql`) decides which rows an agent sees and may write; this module adds the rest
of the protocol, so that nothing the sync client promises depends on the client:

- **Column grants instead of table grants.** Agents get INSERT/UPDATE on named columns only.
  Column privileges are enough for the push's upserts and ``SELECT ... FOR UPDATE``, but
  ``LOCK TABLE`` checks table-level privileges only (ROW EXCLUSIVE needs table INSERT, UPDATE,
  DELETE or TRUNCATE; stronger modes table UPDATE, DELETE or TRUNCATE), so an agent can take no
  lock that conflicts with another agent's writes. ``applied_ops`` rows are released through
  :func:`mangalm_release_ops` rather than a DELETE grant, for the same reason.
- **BEFORE triggers** (``mangalm_guard``, fired before ``mangalm_stamp``) that apply only to
  agent sessions: an order line, call or suggestion-feedback row must hang from one of the
  agent's own orders (same store); an order's state moves only as the protocol allows
  (draft/submitted/synced → … → cancelled, never to or from ``sent_to_zoho``/``invoiced``);
  columns owned by Zoho or by the office (the Zoho ids and error, a store's code and balance,
  an order's number, store and agent) are never set or changed by an agent; order numbers
  carry the agent's own code; audit entries get the agent and actor of the session's role.
- **Device codes** of order numbers are registered per agent through
  :func:`mangalm_claim_device_code` (SECURITY DEFINER; the table itself is private), so two
  laptops of one agent that drew the same code find out before either pushes an order.
- **Timeouts** on every agent login role (``ALTER ROLE ... SET``), so an honest client never
  waits for long on a lock, a statement or an abandoned transaction.

Every refusal is SQLSTATE 42501 (insufficient_privilege) with a message that names only the
rule, never another agent's row: the same words whether the row exists or not.
"""

from __future__ import annotations

from ..db.models import Base
from .central_handover import handover_statements

AGENT_ROLE = "mangalm_agent"
MANAGER_ROLE = "mangalm_manager"

# ALTER ROLE ... SET for every agent login role: the limits the sync client sets for its own
# session (connection.SESSION_LIMITS_MS), now the role's defaults for any session, psql too,
# plus a lock timeout so no honest client waits long behind a row lock.
AGENT_ROLE_SETTINGS: dict[str, str] = {
    "lock_timeout": "10s",
    "statement_timeout": "10min",
    "idle_in_transaction_session_timeout": "5min",
}

# Every model column may be named (mangalm_stamp overwrites version and updated_at whatever is
# sent, and txid is not a model column); an id never changes.
_NO_INSERT: frozenset[str] = frozenset()
_NO_UPDATE = frozenset({"id"})

# Order states an agent may put an order in, and the states that make it Zoho's.
AGENT_ORDER_STATES = ("draft", "submitted", "synced", "cancelled")
ZOHO_ORDER_STATES = ("sent_to_zoho", "invoiced")

GUARD_FUNCTIONS = """
-- The helpers below are plain (not SECURITY DEFINER, no SET clause): the guard triggers that
-- call them are SECURITY DEFINER, so they run as the owner there, and a switch of user and
-- search_path per call would cost more than the check (they run once per written row).
-- Called directly by an agent they run as the agent, under Row-Level Security.

-- Restricted: an agent login that is not also a manager (superusers are members of every role).
CREATE OR REPLACE FUNCTION mangalm_is_agent() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(session_user, 'mangalm_agent', 'MEMBER')
           AND NOT pg_has_role(session_user, 'mangalm_manager', 'MEMBER')
$$;

CREATE OR REPLACE FUNCTION mangalm_session_agent() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT id FROM agent WHERE db_role = session_user AND NOT deleted LIMIT 1
$$;

-- INSERT ... ON CONFLICT DO UPDATE (the push's upsert) fires the BEFORE INSERT trigger even
-- when the row exists and is then updated; the insert-only rules must not judge that attempt.
-- (If the row exists, a plain INSERT fails on the primary key; ids are random UUIDs.)
CREATE OR REPLACE FUNCTION mangalm_row_exists(tbl regclass, row_id uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE id = $1)', tbl) INTO found USING row_id;
    RETURN found;
END $$;

CREATE OR REPLACE FUNCTION mangalm_refuse(message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = message;
END $$;

-- The order a child row (line, call, feedback) points at must be the agent's own, for the same
-- store, and not yet Zoho's. One message for "not yours" and "does not exist".
CREATE OR REPLACE FUNCTION mangalm_check_parent_order(p_order uuid, p_store uuid, what text)
RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    o record;
BEGIN
    SELECT agent_id, store_id, state, zoho_salesorder_id INTO o FROM orders WHERE id = p_order;
    IF NOT FOUND OR o.agent_id IS DISTINCT FROM mangalm_session_agent()
       OR o.store_id IS DISTINCT FROM p_store THEN
        PERFORM mangalm_refuse(what || ' must belong to one of your own orders for the same store');
    END IF;
    IF o.state IN ('sent_to_zoho', 'invoiced') OR o.zoho_salesorder_id IS NOT NULL THEN
        PERFORM mangalm_refuse(what || ' of an order sent to Zoho cannot be changed; '
                               'the central version stands');
    END IF;
END $$;

-- Keys an agent creates (order numbers, new shops' codes) start with its own code: no agent
-- can take another's, and a unique-key error can only ever be about the agent's own rows,
-- because this check runs first and says the same whether the key exists or not.
CREATE OR REPLACE FUNCTION mangalm_check_own_prefix(val text, what text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    my_code text;
BEGIN
    SELECT upper(code) INTO my_code FROM agent WHERE id = mangalm_session_agent();
    IF my_code IS NULL OR upper(left(val, length(my_code) + 1)) IS DISTINCT FROM my_code || '-' THEN
        PERFORM mangalm_refuse(what || ' you create must start with your agent code '
                               || coalesce('"' || my_code || '-"', ''));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION mangalm_guard_orders() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT mangalm_is_agent() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND mangalm_row_exists('orders', NEW.id) THEN
        RETURN NEW;  -- an upsert's insert attempt: the UPDATE trigger judges the change
    ELSIF TG_OP = 'INSERT' AND mangalm_handing_over(NEW.id) THEN
        RETURN NEW;  -- mangalm_hand_over_order checked it (central_handover)
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM mangalm_check_own_prefix(NEW.number, 'order numbers');
        IF NEW.zoho_salesorder_id IS NOT NULL OR NEW.zoho_salesorder_number IS NOT NULL
           OR NEW.zoho_error IS NOT NULL THEN
            PERFORM mangalm_refuse('the Zoho columns of an order are set by the Zoho bridge');
        END IF;
    ELSE
        IF OLD.state IN ('sent_to_zoho', 'invoiced') OR OLD.zoho_salesorder_id IS NOT NULL THEN
            PERFORM mangalm_refuse('this order was sent to Zoho; the central version stands');
        END IF;
        IF OLD.state = 'cancelled' THEN
            PERFORM mangalm_refuse('a cancelled order cannot be changed');
        END IF;
        IF (NEW.number, NEW.store_id, NEW.agent_id, NEW.kind, NEW.deleted)
           IS DISTINCT FROM (OLD.number, OLD.store_id, OLD.agent_id, OLD.kind, OLD.deleted) THEN
            PERFORM mangalm_refuse('an order''s number, store, agent, kind and deletion '
                                   'cannot be changed by an agent');
        END IF;
        IF (NEW.zoho_salesorder_id, NEW.zoho_salesorder_number, NEW.zoho_error)
           IS DISTINCT FROM (OLD.zoho_salesorder_id, OLD.zoho_salesorder_number, OLD.zoho_error)
        THEN
            PERFORM mangalm_refuse('the Zoho columns of an order are set by the Zoho bridge');
        END IF;
    END IF;
    IF NEW.state NOT IN ('draft', 'submitted', 'synced', 'cancelled') THEN
        PERFORM mangalm_refuse('an agent may not put an order in state ' || quote_literal(NEW.state));
    END IF;
    RETURN NEW;
END $$;

-- order_line, call_log, suggestion_feedback: rows that may point at an order.
CREATE OR REPLACE FUNCTION mangalm_guard_order_child() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT mangalm_is_agent() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND TG_TABLE_NAME = 'order_line' AND mangalm_handing_over(NEW.order_id) THEN
        RETURN NEW;  -- the lines of an order mangalm_hand_over_order inserts
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.order_id, NEW.store_id)
                             IS DISTINCT FROM (OLD.order_id, OLD.store_id) THEN
        PERFORM mangalm_refuse('a row cannot be moved to another order or store');
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.order_id IS NOT NULL THEN
        PERFORM mangalm_check_parent_order(OLD.order_id, OLD.store_id, TG_TABLE_NAME);
    END IF;
    IF NEW.order_id IS NOT NULL THEN
        PERFORM mangalm_check_parent_order(NEW.order_id, NEW.store_id, TG_TABLE_NAME);
    END IF;
    IF TG_TABLE_NAME = 'order_line' THEN
        -- a line may credit only a scheme meant for the agent's stores (nested IF: only
        -- order_line has the column)
        IF NEW.scheme_id IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM scheme s WHERE s.id = NEW.scheme_id
               AND mangalm_scheme_visible(s.regions, s.store_classes)) THEN
            PERFORM mangalm_refuse('an order line may only name a scheme meant for your stores');
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION mangalm_guard_store() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT mangalm_is_agent() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND mangalm_row_exists('store', NEW.id) THEN
        RETURN NEW;  -- an upsert's insert attempt: the UPDATE trigger judges the change
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM mangalm_check_own_prefix(NEW.code, 'codes of shops');
        IF NEW.zoho_customer_id IS NOT NULL OR NEW.zoho_account_id IS NOT NULL
           OR coalesce(NEW.outstanding_balance, 0) <> 0 THEN
            PERFORM mangalm_refuse('Zoho ids and balances of a shop are set by the Zoho bridge');
        END IF;
    ELSIF (NEW.code, NEW.zoho_customer_id, NEW.zoho_account_id, NEW.outstanding_balance,
           NEW.deleted)
          IS DISTINCT FROM (OLD.code, OLD.zoho_customer_id, OLD.zoho_account_id,
                            OLD.outstanding_balance, OLD.deleted) THEN
        PERFORM mangalm_refuse('a shop''s code, Zoho ids, balance and deletion are set by the '
                               'office and the Zoho bridge');
    END IF;
    RETURN NEW;
END $$;

-- Audit entries of a signed-in role name that role: agent and actor come from the session,
-- what the laptop claimed as actor is kept in the details. A session with no agent row
-- (the owner, a bridge or service role) writes as it is; an agent role without one may not.
CREATE OR REPLACE FUNCTION mangalm_guard_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me uuid := mangalm_session_agent();
    my_code text;
    d jsonb;
BEGIN
    IF me IS NULL THEN
        IF mangalm_is_agent() THEN
            PERFORM mangalm_refuse('your database role has no agent; ask your administrator');
        END IF;
        RETURN NEW;
    END IF;
    SELECT code INTO my_code FROM agent WHERE id = me;
    IF NEW.agent_id IS NOT NULL AND NEW.agent_id <> me AND mangalm_is_agent() THEN
        PERFORM mangalm_refuse('audit entries are written in your own name');
    END IF;
    NEW.agent_id := me;
    IF NEW.actor IS DISTINCT FROM my_code THEN
        BEGIN
            d := coalesce(NEW.details::jsonb, '{}'::jsonb);
        EXCEPTION WHEN others THEN
            d := to_jsonb(NEW.details);
        END;
        IF jsonb_typeof(d) <> 'object' THEN
            d := jsonb_build_object('details', d);
        END IF;
        NEW.details := (d || jsonb_build_object('claimed_actor', NEW.actor))::text;
        NEW.actor := my_code;
    END IF;
    RETURN NEW;
END $$;

-- Payments (docs/collections.md): an agent inserts its own receipts, never changes them (RLS
-- gives it no UPDATE policy; this says so in words too); the office decides and the bridge
-- sends them to Zoho.
CREATE OR REPLACE FUNCTION mangalm_guard_payment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT mangalm_is_agent() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM mangalm_refuse('payments are append-only for agents; ask a manager');
    END IF;
    PERFORM mangalm_check_own_prefix(NEW.number, 'receipt numbers');
    IF NEW.status IS DISTINCT FROM 'collected' OR NEW.decided_by IS NOT NULL
       OR NEW.decided_at IS NOT NULL OR NEW.decision_note IS NOT NULL THEN
        PERFORM mangalm_refuse('a payment is approved or rejected by a manager, not by an agent');
    END IF;
    IF NEW.zoho_payment_id IS NOT NULL OR NEW.zoho_error IS NOT NULL THEN
        PERFORM mangalm_refuse('the Zoho columns of a payment are set by the Zoho bridge');
    END IF;
    IF NEW.deleted THEN
        PERFORM mangalm_refuse('payments are append-only for agents; ask a manager');
    END IF;
    RETURN NEW;
END $$;

-- An allocation hangs from one of the agent's own payments, still waiting for a decision, for
-- an invoice of the same store; together they never settle more than the payment's amount.
CREATE OR REPLACE FUNCTION mangalm_guard_payment_allocation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    p record;
    used numeric;
BEGIN
    IF NOT mangalm_is_agent() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' OR NEW.deleted THEN
        PERFORM mangalm_refuse('payments are append-only for agents; ask a manager');
    END IF;
    SELECT agent_id, store_id, status, amount INTO p FROM payment WHERE id = NEW.payment_id;
    IF NOT FOUND OR p.agent_id IS DISTINCT FROM mangalm_session_agent()
       OR p.store_id IS DISTINCT FROM NEW.store_id THEN
        PERFORM mangalm_refuse('an allocation must belong to one of your own payments '
                               'for the same store');
    END IF;
    IF p.status <> 'collected' THEN
        PERFORM mangalm_refuse('a payment already decided by a manager cannot be changed');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM invoice WHERE id = NEW.invoice_id
                   AND store_id = NEW.store_id AND NOT deleted) THEN
        PERFORM mangalm_refuse('a payment can settle only invoices of its own store');
    END IF;
    SELECT coalesce(sum(amount), 0) INTO used FROM payment_allocation
     WHERE payment_id = NEW.payment_id AND NOT deleted;
    IF used + NEW.amount > p.amount THEN
        PERFORM mangalm_refuse('the allocations of a payment cannot add up to more than '
                               'its amount');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION mangalm_guard_payment_promise() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF mangalm_is_agent() AND (TG_OP = 'UPDATE' OR NEW.deleted) THEN
        PERFORM mangalm_refuse('promises to pay are append-only for agents; ask a manager');
    END IF;
    RETURN NEW;
END $$;

CREATE TABLE IF NOT EXISTS device_code (
    agent_id uuid NOT NULL,
    code text NOT NULL,
    device_id uuid NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, code)
);

-- True if this device holds ``p_code`` for the session's agent (claiming it if free), false if
-- another device of the same agent holds it: that laptop draws again. Answers only about the
-- caller's own codes. Sessions without an agent row have no numbers to protect: true.
CREATE OR REPLACE FUNCTION mangalm_claim_device_code(p_code text, p_device uuid)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me uuid := mangalm_my_agent_id();
    holder uuid;
BEGIN
    IF p_code IS NULL OR p_code !~ '^[0-9A-Z]{1,16}$' OR p_device IS NULL THEN
        PERFORM mangalm_refuse('a device code is 1-16 capital letters or digits');
    END IF;
    IF me IS NULL THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM device_code WHERE agent_id = me AND code = p_code)
       AND (SELECT count(*) FROM device_code WHERE agent_id = me) >= 200 THEN
        PERFORM mangalm_refuse('this agent already holds 200 device codes; ask your administrator');
    END IF;
    INSERT INTO device_code (agent_id, code, device_id) VALUES (me, p_code, p_device)
    ON CONFLICT (agent_id, code) DO NOTHING;
    SELECT device_id INTO holder FROM device_code WHERE agent_id = me AND code = p_code;
    RETURN holder = p_device;
END $$;

-- A push claims op ids first and releases those it parks; releasing goes through here so that
-- no agent needs the DELETE privilege (which would allow LOCK TABLE applied_ops).
CREATE OR REPLACE FUNCTION mangalm_release_ops(ids uuid[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM applied_ops WHERE op_id = ANY(ids) AND db_user = session_user
$$;
"""

# Table -> guard function (each a BEFORE INSERT OR UPDATE row trigger named mangalm_guard).
GUARDED: dict[str, str] = {
    "orders": "mangalm_guard_orders",
    "order_line": "mangalm_guard_order_child",
    "call_log": "mangalm_guard_order_child",
    "suggestion_feedback": "mangalm_guard_order_child",
    "store": "mangalm_guard_store",
    "audit_log": "mangalm_guard_audit",
    "payment": "mangalm_guard_payment",
    "payment_allocation": "mangalm_guard_payment_allocation",
    "payment_promise": "mangalm_guard_payment_promise",
}


def _columns(table: str, leave_out: frozenset[str]) -> str:
    cols = [c.name for c in Base.metadata.tables[table].columns if c.name not in leave_out]
    return ", ".join(f'"{c}"' for c in cols)


def agent_write_grants(table: str, *, update: bool = True) -> list[str]:
    """Column-level INSERT (and UPDATE) for agents; table-level write privileges revoked.

    Revoking the table privilege first also drops column privileges of earlier runs, so the
    grants always match the current model's columns.
    """
    stmts = [
        f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "{table}" FROM {AGENT_ROLE}',
        f'GRANT INSERT ({_columns(table, _NO_INSERT)}) ON "{table}" TO {AGENT_ROLE}',
    ]
    if update:
        stmts.append(f'GRANT UPDATE ({_columns(table, _NO_UPDATE)}) ON "{table}" TO {AGENT_ROLE}')
    return stmts


def guard_statements() -> list[str]:
    """Guard functions and their triggers, the device registry and the release function."""
    stmts = [GUARD_FUNCTIONS]
    for table, function in GUARDED.items():
        stmts += [
            f'DROP TRIGGER IF EXISTS mangalm_guard ON "{table}"',
            f'CREATE TRIGGER mangalm_guard BEFORE INSERT OR UPDATE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]
    both = f"{AGENT_ROLE}, {MANAGER_ROLE}"
    stmts += [
        # Nobody but the owner creates objects in public (the default before PostgreSQL 15):
        # a function planted there with a closer argument type (say upper(varchar)) would run
        # as the owner inside every SECURITY DEFINER function above.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        # Helpers of the triggers run as the owner; nobody calls them directly.
        "REVOKE ALL ON FUNCTION mangalm_row_exists(regclass, uuid) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION mangalm_check_parent_order(uuid, uuid, text) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION mangalm_check_own_prefix(text, text) FROM PUBLIC",
        f"REVOKE ALL ON device_code FROM PUBLIC, {both}",
        "REVOKE ALL ON FUNCTION mangalm_claim_device_code(text, uuid) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION mangalm_claim_device_code(text, uuid) TO {both}",
        "REVOKE ALL ON FUNCTION mangalm_release_ops(uuid[]) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION mangalm_release_ops(uuid[]) TO {both}",
        # applied_ops: claim by INSERT of three columns (db_user defaults to the session's
        # role), release through mangalm_release_ops; no table-level write privilege.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON applied_ops FROM {AGENT_ROLE}",
        f"GRANT INSERT (op_id, table_name, row_id) ON applied_ops TO {AGENT_ROLE}",
        _timeouts_for_existing_agents(),
    ]
    return stmts + handover_statements()


def _timeouts_for_existing_agents() -> str:
    """Agent login roles made by an older version get the timeouts on the next init."""
    sets = "\n".join(
        f"        EXECUTE format('ALTER ROLE %I SET {k} = %L', r.rolname, '{v}');"
        for k, v in AGENT_ROLE_SETTINGS.items()
    )
    return (
        "DO $$ DECLARE r record; BEGIN\n"  # noqa: S608 - constants only
        "    FOR r IN SELECT m.rolname FROM pg_auth_members a\n"
        "             JOIN pg_roles g ON g.oid = a.roleid AND g.rolname = 'mangalm_agent'\n"
        "             JOIN pg_roles m ON m.oid = a.member AND m.rolcanlogin\n"
        f"    LOOP\n{sets}\n    END LOOP;\nEND $$"
    )


def role_settings_sql(*, reset: bool = False) -> list[str]:
    """``ALTER ROLE {} SET ...`` templates (psycopg ``sql.SQL``) for one agent login role;
    ``reset`` gives the statements that take them off again (an agent made a manager)."""
    if reset:
        return [f"ALTER ROLE {{}} RESET {k}" for k in AGENT_ROLE_SETTINGS]
    return [f"ALTER ROLE {{}} SET {k} = '{v}'" for k, v in AGENT_ROLE_SETTINGS.items()]
