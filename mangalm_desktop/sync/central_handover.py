"""Handing an unsent order over to a store's new agent (central side; applied by ``central init``).

When a store is moved away from agent A while A's laptop holds an order for it that the server
never received, A's push is refused and the order is parked (``store_moved``). If the store does
not come back, A can hand the order over: :func:`mangalm_hand_over_order` (SECURITY DEFINER,
EXECUTE for agents only) inserts it as an order of the store's current agent, with a number in
that agent's hand-over series ``<B's code>-HO-<6 digits>`` (numbers keep carrying the owning
agent's code; no laptop draws the device code ``HO``: device codes are three Crockford
characters, which never include ``O``), and its notes name A's original number.

It is the one step by which an agent writes an order that is not its own, so it checks what the
protocol allows and nothing more: the caller is an agent; the order says it is the caller's
(its agent and its number prefix); the server has never received it; its store was moved away
from the caller (a ``scope_change`` loss) and is now another agent's; the order was created
before the caller's latest loss of the store. Exactly once per op id: ``order_handover`` records
every hand-over (op id and order id unique); a retry after a cut connection gets the number of
the first call back and writes nothing. The op id also goes into ``applied_ops``, so the same op
can never be pushed afterwards. An audit entry names the caller as actor (the audit guard binds
it to the session's role).

The guard triggers of ``orders`` and ``order_line`` let only these inserts through, recognised by
an ``order_handover`` row of the same transaction (:func:`mangalm_handing_over`); agents cannot
write that table. Every refusal uses one message, whether another agent's row exists or not.
"""

from __future__ import annotations

AGENT_ROLE = "mangalm_agent"
MANAGER_ROLE = "mangalm_manager"
# The device code of hand-over numbers: never drawn by a laptop (not Crockford base-32).
HANDOVER_DEVICE = "HO"

REFUSED = (
    "this order cannot be handed over: only an order you took for a store that was moved "
    "away from you, before the move, and that the server has never received"
)

HANDOVER_SQL = f"""
CREATE TABLE IF NOT EXISTS order_handover (
    op_id uuid PRIMARY KEY,
    order_id uuid NOT NULL UNIQUE,
    from_agent uuid NOT NULL,
    to_agent uuid NOT NULL,
    old_number text NOT NULL,
    number text NOT NULL,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    handed_over_at timestamptz NOT NULL DEFAULT now()
);

-- True while mangalm_hand_over_order inserts this order (same transaction): the guard
-- triggers let exactly that insert through.
CREATE OR REPLACE FUNCTION mangalm_handing_over(p_order uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM order_handover
                   WHERE order_id = p_order AND txid = pg_current_xact_id())
$$;

CREATE OR REPLACE FUNCTION mangalm_hand_over_order(p_op uuid, p_order jsonb, p_lines jsonb)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me uuid := mangalm_my_agent_id();
    my_code text;
    done record;
    o_id uuid;
    s_id uuid;
    owner_id uuid;
    owner_code text;
    moved_at timestamptz;
    created timestamptz;
    prefix text;
    last_n integer;
    new_number text;
BEGIN
    IF me IS NULL OR NOT mangalm_is_agent() THEN
        PERFORM mangalm_refuse('only an agent hands over its own orders');
    END IF;
    IF p_op IS NULL OR jsonb_typeof(p_order) IS DISTINCT FROM 'object'
       OR jsonb_typeof(p_lines) IS DISTINCT FROM 'array' THEN
        PERFORM mangalm_refuse('a hand-over needs the op id, the order and its lines');
    END IF;
    SELECT * INTO done FROM order_handover WHERE op_id = p_op;
    IF FOUND THEN
        IF done.from_agent = me THEN
            RETURN done.number;  -- a retry: the first call's answer, nothing written twice
        END IF;
        PERFORM mangalm_refuse('{REFUSED}');
    END IF;
    BEGIN
        o_id := (p_order->>'id')::uuid;
        s_id := (p_order->>'store_id')::uuid;
        created := (p_order->>'created_at')::timestamptz;
    EXCEPTION WHEN others THEN
        PERFORM mangalm_refuse('{REFUSED}');
    END;
    SELECT code INTO my_code FROM agent WHERE id = me;
    SELECT agent_id INTO owner_id FROM store WHERE id = s_id AND NOT deleted;
    SELECT max(created_at) INTO moved_at FROM scope_change
        WHERE agent_id = me AND store_id = s_id AND NOT gained;
    IF o_id IS NULL OR created IS NULL
       OR (p_order->>'agent_id')::uuid IS DISTINCT FROM me
       OR upper(left(p_order->>'number', length(my_code) + 1)) IS DISTINCT FROM upper(my_code) || '-'
       OR coalesce(p_order->>'state', '') NOT IN ('submitted', 'synced')
       OR EXISTS (SELECT 1 FROM orders WHERE id = o_id)
       OR owner_id IS NULL OR owner_id = me
       OR moved_at IS NULL OR created >= moved_at THEN
        PERFORM mangalm_refuse('{REFUSED}');
    END IF;
    SELECT code INTO owner_code FROM agent WHERE id = owner_id AND NOT deleted;
    IF owner_code IS NULL OR owner_code !~ '^[A-Za-z0-9]+$' THEN
        PERFORM mangalm_refuse('{REFUSED}');
    END IF;
    prefix := upper(owner_code) || '-{HANDOVER_DEVICE}';
    PERFORM pg_advisory_xact_lock(hashtext('mangalm_handover:' || prefix));
    SELECT coalesce(max(substring(number FROM length(prefix) + 2)::integer), 0) INTO last_n
        FROM orders WHERE number ~ ('^' || prefix || '-[0-9]{{1,9}}$');
    new_number := prefix || '-' || lpad((last_n + 1)::text, 6, '0');

    INSERT INTO order_handover (op_id, order_id, from_agent, to_agent, old_number, number)
        VALUES (p_op, o_id, me, owner_id, p_order->>'number', new_number);
    INSERT INTO applied_ops (op_id, table_name, row_id) VALUES (p_op, 'orders', o_id);
    INSERT INTO orders SELECT * FROM jsonb_populate_record(NULL::orders, p_order
        || jsonb_build_object(
            'agent_id', owner_id, 'number', new_number, 'state', 'synced', 'deleted', false,
            'zoho_salesorder_id', NULL, 'zoho_salesorder_number', NULL, 'zoho_error', NULL,
            'notes', concat_ws(E'\\n', nullif(p_order->>'notes', ''),
                               'Handed over by ' || my_code || ' (was ' || (p_order->>'number')
                               || ')')));
    INSERT INTO order_line SELECT * FROM jsonb_populate_recordset(NULL::order_line,
        (SELECT coalesce(jsonb_agg(l || jsonb_build_object('order_id', o_id, 'store_id', s_id)),
                         '[]'::jsonb)
         FROM jsonb_array_elements(p_lines) l));
    INSERT INTO audit_log (id, at, actor, agent_id, action, entity, entity_id, details)
        VALUES (gen_random_uuid(), now(), my_code, me, 'order.hand_over', 'orders', o_id::text,
                jsonb_build_object('number', new_number, 'was', p_order->>'number',
                                   'to_agent', owner_code, 'op_id', p_op)::text);
    RETURN new_number;
END $$;
"""  # noqa: S608 - module constants only


def handover_statements() -> list[str]:
    """The hand-over table and functions, and who may use them (run after the guards)."""
    both = f"{AGENT_ROLE}, {MANAGER_ROLE}"
    return [
        HANDOVER_SQL,
        f"REVOKE ALL ON order_handover FROM PUBLIC, {both}",
        f"GRANT SELECT ON order_handover TO {MANAGER_ROLE}",
        "REVOKE ALL ON FUNCTION mangalm_handing_over(uuid) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION mangalm_hand_over_order(uuid, jsonb, jsonb) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION mangalm_hand_over_order(uuid, jsonb, jsonb) TO {AGENT_ROLE}",
    ]
