"""Beats on the central database (issue 19 item 2; applied by ``central init``).

Managers create beats and put stores on them; agents only read their own (the policies are in
:func:`..central_sql._policies`: ``beat`` rows whose agent is the session's, ``beat_store``
rows of the agent's own stores; agents get SELECT and no write privilege on either table, so an
agent with psql can neither make a beat nor move a store between beats).

What the policies cannot say, enforced here for every role (a manager's psql too, since a
broken row would break an agent's sync):

- a live membership joins a store to a beat **of the store's own agent**, and a beat's agent
  never changes. Otherwise an agent's laptop would receive a membership pointing at a beat it
  cannot see (its foreign key would fail the pull) or keep a beat that moved to another agent
  (RLS hides the change, so the old laptop never hears of it);
- when a store changes agent, its membership becomes a tombstone with no beat, so the old
  agent's laptop drops it with the store and the new agent receives nothing that points at the
  old agent's beat.
"""

from __future__ import annotations

BEAT_SQL = """
CREATE OR REPLACE FUNCTION mangalm_guard_beat() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.agent_id IS DISTINCT FROM OLD.agent_id THEN
        PERFORM mangalm_refuse('a beat''s agent cannot change; make a new beat for the other '
                               'agent and move the stores to it');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION mangalm_guard_beat_store() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    beat_agent uuid;
    store_agent uuid;
BEGIN
    IF NEW.deleted OR NEW.beat_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT agent_id INTO beat_agent FROM beat WHERE id = NEW.beat_id AND NOT deleted;
    SELECT agent_id INTO store_agent FROM store WHERE id = NEW.store_id;
    IF beat_agent IS NULL OR beat_agent IS DISTINCT FROM store_agent THEN
        PERFORM mangalm_refuse('a store can only be put on a live beat of its own agent');
    END IF;
    RETURN NEW;
END $$;

-- A store that changes agent leaves its beat (a tombstone without a beat).
CREATE OR REPLACE FUNCTION mangalm_beat_store_scope() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.agent_id IS DISTINCT FROM OLD.agent_id THEN
        UPDATE beat_store SET deleted = true, beat_id = NULL
        WHERE store_id = NEW.id AND (NOT deleted OR beat_id IS NOT NULL);
    END IF;
    RETURN NEW;
END $$;
"""


def beat_statements() -> list[str]:
    """The functions above, their triggers, and who may call them (nobody directly)."""
    return [
        BEAT_SQL,
        'DROP TRIGGER IF EXISTS mangalm_guard ON "beat"',
        'CREATE TRIGGER mangalm_guard BEFORE INSERT OR UPDATE ON "beat" '
        "FOR EACH ROW EXECUTE FUNCTION mangalm_guard_beat()",
        'DROP TRIGGER IF EXISTS mangalm_guard ON "beat_store"',
        'CREATE TRIGGER mangalm_guard BEFORE INSERT OR UPDATE ON "beat_store" '
        "FOR EACH ROW EXECUTE FUNCTION mangalm_guard_beat_store()",
        "DROP TRIGGER IF EXISTS mangalm_beat_store_scope ON store",
        "CREATE TRIGGER mangalm_beat_store_scope AFTER UPDATE OF agent_id ON store "
        "FOR EACH ROW EXECUTE FUNCTION mangalm_beat_store_scope()",
        "REVOKE ALL ON FUNCTION mangalm_guard_beat() FROM PUBLIC",
        "REVOKE ALL ON FUNCTION mangalm_guard_beat_store() FROM PUBLIC",
        "REVOKE ALL ON FUNCTION mangalm_beat_store_scope() FROM PUBLIC",
    ]
