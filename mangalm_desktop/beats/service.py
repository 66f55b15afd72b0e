"""Beats: create, rename, delete, set visit days, put stores on a beat in visit order, list, and
"today's beat" of an agent (issue 19 item 2).

Every function takes the signed-in :class:`~..security.roles.Identity` right after the engine
(``None``: a standalone laptop with nobody signed in, unrestricted, as ``security.roles.require``
says). Writes need ``MANAGE_BEATS`` (managers and admins); agents read only their own beats.
The central database enforces the same again (``sync.central_beats``), so a changed client gains
nothing.

Each write is one transaction: the rows, their ``version`` bump and their outbox upserts
(``base=`` the changed fields' old values, so a push merges field by field with another
manager's edit). A store has one ``beat_store`` row for good: moving it to another beat updates
that row, taking it off a beat makes it a tombstone, putting it back revives it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, false, func, or_, select
from sqlalchemy.orm import Session

from ..db import outbox
from ..db.engine import session_scope
from ..db.models import Agent, Beat, BeatStore, CallLog, Order, Store, new_id
from ..domain.changes import Changes
from ..domain.enums import OrderKind, OrderState, Role
from ..domain.errors import UserError
from ..security.roles import Identity, Permission, PermissionDenied, require
from . import days as weekdays

NAME_MAX = 100
CHANGES = Changes.of("beat", "beat_store")


@dataclass(frozen=True)
class BeatInfo:
    """One beat as lists show it."""

    id: uuid.UUID
    name: str
    agent_id: uuid.UUID
    agent_code: str
    agent_name: str
    visit_days: int
    region: str | None
    notes: str | None
    stores: int
    version: int

    @property
    def days_text(self) -> str:
        return weekdays.describe(self.visit_days)


@dataclass(frozen=True)
class BeatStop:
    """A store on a beat, at its place in the visit order (1 = first)."""

    beat_id: uuid.UUID
    beat_name: str
    position: int
    store_id: uuid.UUID
    store_code: str
    store_name: str
    locality: str | None
    phone: str | None
    visited: bool = False  # a call logged or an order taken on the day asked about
    ordered: bool = False  # an order (not a draft, not cancelled) on that day


@dataclass(frozen=True)
class BeatDetail:
    beat: BeatInfo
    stops: list[BeatStop]
    changes: Changes = CHANGES


@dataclass(frozen=True)
class TodaysBeat:
    """The beats an agent visits on ``day`` and their stores in visit order."""

    day: dt.date
    agent_id: uuid.UUID | None
    beats: list[BeatInfo]
    stops: list[BeatStop] = field(default_factory=list)

    @property
    def visited(self) -> int:
        return sum(1 for s in self.stops if s.visited)

    @property
    def ordered(self) -> int:
        return sum(1 for s in self.stops if s.ordered)

    def describe(self) -> str:
        """One line for a caption: "Kothrud Mon: 8 stores, 3 visited, 2 ordered"."""
        if not self.beats:
            return f"No beat on {self.day:%A}."
        names = ", ".join(b.name for b in self.beats)
        n = len(self.stops)
        return (
            f"{names}: {n} store{'s' if n != 1 else ''}, {self.visited} visited, "
            f"{self.ordered} ordered"
        )


# ---- reading -------------------------------------------------------------------------------


def _may_manage(identity: Identity | None) -> bool:
    return identity is None or identity.can(Permission.MANAGE_BEATS)


def _own_agent(identity: Identity | None) -> uuid.UUID | None:
    """The agent whose beats alone ``identity`` may read (None: all beats)."""
    if identity is None or identity.can(Permission.VIEW_ALL_STORES):
        return None
    if identity.agent_id is None:
        raise PermissionDenied(
            f"{identity.username} is not an agent and may not read beats.",
            hint="Ask a manager.",
        )
    return identity.agent_id


def _infos(session: Session, *conds: Any) -> list[BeatInfo]:
    counts = (
        select(BeatStore.beat_id, func.count().label("n"))
        .where(BeatStore.deleted == false())
        .group_by(BeatStore.beat_id)
        .subquery()
    )
    rows = session.execute(
        select(Beat, Agent.code, Agent.name, func.coalesce(counts.c.n, 0))
        .join(Agent, Agent.id == Beat.agent_id)
        .outerjoin(counts, counts.c.beat_id == Beat.id)
        .where(Beat.deleted == false(), *conds)
        .order_by(Agent.code, Beat.name)
    ).all()
    return [
        BeatInfo(
            b.id, b.name, b.agent_id, code, name, b.visit_days, b.region, b.notes, int(n), b.version
        )
        for b, code, name, n in rows
    ]


def _resolve_agent(session: Session, ref: uuid.UUID | str) -> Agent:
    agent: Agent | None = None
    if isinstance(ref, uuid.UUID):
        agent = session.get(Agent, ref)
    else:
        text = ref.strip()
        agent = session.scalar(
            select(Agent).where(
                or_(func.upper(Agent.code) == text.upper(), Agent.name == text),
                Agent.deleted == false(),
            )
        )
    if agent is None or agent.deleted:
        codes = session.scalars(
            select(Agent.code).where(Agent.deleted == false(), Agent.role == Role.AGENT.value)
        ).all()
        raise UserError(
            f"no agent {ref!s}",
            hint="agents: " + (", ".join(sorted(codes)) or "none yet"),
        )
    return agent


def _find(session: Session, model: type[Any], ref: uuid.UUID | str, by_text: Any) -> Any:
    """A row of ``model`` by id (a UUID or its text), else by ``by_text(text)``'s WHERE."""
    if isinstance(ref, uuid.UUID):
        return session.get(model, ref)
    text = ref.strip()
    try:
        return session.get(model, uuid.UUID(text))
    except ValueError:
        return session.scalar(select(model).where(by_text(text)))


def _resolve_beat(session: Session, ref: uuid.UUID | str) -> Beat:
    """A live beat by id or name (names are unique among live beats, case aside)."""
    beat: Beat | None = _find(
        session, Beat, ref, lambda t: (func.lower(Beat.name) == t.lower()) & ~Beat.deleted
    )
    if beat is None or beat.deleted:
        raise UserError(f"no beat {ref!s}", hint="see: mangalm beats list")
    return beat


def _resolve_store(session: Session, ref: uuid.UUID | str) -> Store:
    store: Store | None = _find(session, Store, ref, lambda t: Store.code == t)
    if store is None or store.deleted:
        raise UserError(f"no store {ref!s}", hint="give a store code, e.g. from: mangalm stores")
    return store


def _check_read(identity: Identity | None, beat: Beat) -> None:
    own = _own_agent(identity)
    if own is not None and beat.agent_id != own:
        raise UserError(f"no beat {beat.name}", hint="see: mangalm beats list")


def list_beats(
    engine: Engine, identity: Identity | None, *, agent: uuid.UUID | str | None = None
) -> list[BeatInfo]:
    """Live beats, by agent code then name; an agent sees only its own."""
    own = _own_agent(identity)
    with session_scope(engine) as session:
        conds: list[Any] = []
        if agent is not None:
            conds.append(Beat.agent_id == _resolve_agent(session, agent).id)
        if own is not None:
            conds.append(Beat.agent_id == own)
        return _infos(session, *conds)


def _stops(session: Session, beat_ids: Sequence[uuid.UUID]) -> list[BeatStop]:
    if not beat_ids:
        return []
    rows = session.execute(
        select(
            Beat.id,
            Beat.name,
            BeatStore.visit_order,
            Store.id,
            Store.code,
            Store.name,
            Store.city,
            Store.phone,
        )
        .join(Beat, Beat.id == BeatStore.beat_id)
        .join(Store, Store.id == BeatStore.store_id)
        .where(
            BeatStore.beat_id.in_(list(beat_ids)),
            BeatStore.deleted == false(),
            Store.deleted == false(),
        )
        .order_by(Beat.name, BeatStore.visit_order, Store.name)
    ).all()
    out: list[BeatStop] = []
    seen: dict[uuid.UUID, int] = {}
    for beat_id, beat_name, _order, sid, code, name, city, phone in rows:
        seen[beat_id] = seen.get(beat_id, 0) + 1
        out.append(BeatStop(beat_id, beat_name, seen[beat_id], sid, code, name, city, phone))
    return out


def show_beat(engine: Engine, identity: Identity | None, beat: uuid.UUID | str) -> BeatDetail:
    """A beat and its stores in visit order."""
    with session_scope(engine) as session:
        row = _resolve_beat(session, beat)
        _check_read(identity, row)
        info = _infos(session, Beat.id == row.id)[0]
        return BeatDetail(info, _stops(session, [row.id]))


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``day`` from local midnight to the next, as UTC instants (calls are stored in UTC)."""
    start = dt.datetime.combine(day, dt.time()).astimezone()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).astimezone()
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def todays_beat(
    engine: Engine,
    identity: Identity | None,
    day: dt.date,
    *,
    agent: uuid.UUID | str | None = None,
) -> TodaysBeat:
    """The beats ``agent`` visits on ``day``'s weekday and their stores in visit order, each
    marked visited (a call logged or an order taken that day) and ordered.

    An agent gets its own beats whatever ``agent`` says; a manager (or a standalone laptop)
    names the agent, or gets every agent's beats of the day (as Today's call list shows a
    manager every store).
    """
    own = _own_agent(identity)
    with session_scope(engine) as session:
        agent_id: uuid.UUID | None = own
        if own is None and agent is not None:
            agent_id = _resolve_agent(session, agent).id
        conds: list[Any] = [Beat.visit_days.op("&")(weekdays.bit(day)) != 0]
        if agent_id is not None:
            conds.append(Beat.agent_id == agent_id)
        beats = _infos(session, *conds)
        stops = _stops(session, [b.id for b in beats])
        if not stops:
            return TodaysBeat(day, agent_id, beats, stops)
        ids = [s.store_id for s in stops]
        start, end = local_day_bounds(day)
        called = set(
            session.scalars(
                select(CallLog.store_id).where(
                    CallLog.store_id.in_(ids),
                    CallLog.deleted == false(),
                    CallLog.called_at >= start,
                    CallLog.called_at < end,
                )
            )
        )
        orders = session.execute(
            select(Order.store_id, Order.state).where(
                Order.store_id.in_(ids),
                Order.deleted == false(),
                Order.kind == OrderKind.ORDER.value,
                Order.order_date == day,
                Order.state != OrderState.CANCELLED.value,
            )
        ).all()
        taken = {sid for sid, _state in orders}
        ordered = {sid for sid, state in orders if state != OrderState.DRAFT.value}
        marked = [
            BeatStop(
                s.beat_id,
                s.beat_name,
                s.position,
                s.store_id,
                s.store_code,
                s.store_name,
                s.locality,
                s.phone,
                visited=s.store_id in called or s.store_id in taken,
                ordered=s.store_id in ordered,
            )
            for s in stops
        ]
        return TodaysBeat(day, agent_id, beats, marked)


# ---- writing -------------------------------------------------------------------------------


def _require_manage(identity: Identity | None) -> None:
    require(identity, Permission.MANAGE_BEATS)


def _clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise UserError("A beat needs a name.")
    if len(text) > NAME_MAX:
        raise UserError(f"A beat's name is at most {NAME_MAX} characters.")
    return text


def _check_unique(session: Session, name: str, exclude: uuid.UUID | None = None) -> None:
    conds: list[Any] = [func.lower(Beat.name) == name.lower(), Beat.deleted == false()]
    if exclude is not None:
        conds.append(Beat.id != exclude)
    if session.scalar(select(func.count()).select_from(Beat).where(*conds)):
        raise UserError(
            f"There is already a beat called {name!r}.",
            hint="Beat names are unique; add the agent or the area, e.g. 'A01 Kothrud Mon'.",
        )


def _days(value: int | str) -> int:
    bits = weekdays.parse(value) if isinstance(value, str) else int(value)
    if not 0 <= bits <= weekdays.ALL_DAYS:
        raise UserError(f"not a set of weekdays: {value!r}")
    return bits


def _detail(session: Session, beat: Beat) -> BeatDetail:
    session.flush()
    return BeatDetail(_infos(session, Beat.id == beat.id)[0], _stops(session, [beat.id]))


def create_beat(
    engine: Engine,
    identity: Identity | None,
    *,
    name: str,
    agent: uuid.UUID | str,
    days: int | str = 0,
    region: str | None = None,
    notes: str | None = None,
) -> BeatDetail:
    """A new, empty beat of ``agent`` visited on ``days`` ("Mon,Thu" or a bit set)."""
    _require_manage(identity)
    clean, bits = _clean_name(name), _days(days)
    with session_scope(engine) as session:
        owner = _resolve_agent(session, agent)
        if owner.role != Role.AGENT.value:
            raise UserError(f"{owner.code} is a {owner.role}, not an agent; beats are agents'.")
        _check_unique(session, clean)
        beat = Beat(
            id=new_id(),
            name=clean,
            agent_id=owner.id,
            visit_days=bits,
            region=(region or "").strip() or None,
            notes=(notes or "").strip() or None,
        )
        session.add(beat)
        outbox.enqueue_row(session, beat)
        return _detail(session, beat)


def update_beat(
    engine: Engine,
    identity: Identity | None,
    beat: uuid.UUID | str,
    *,
    name: str | None = None,
    days: int | str | None = None,
    region: str | None = None,
    notes: str | None = None,
) -> BeatDetail:
    """Rename a beat and/or change its visit days, region or notes (None: leave as it is)."""
    _require_manage(identity)
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = _clean_name(name)
    if days is not None:
        values["visit_days"] = _days(days)
    if region is not None:
        values["region"] = region.strip() or None
    if notes is not None:
        values["notes"] = notes.strip() or None
    with session_scope(engine) as session:
        row = _resolve_beat(session, beat)
        if "name" in values:
            _check_unique(session, str(values["name"]), exclude=row.id)
        outbox.edit_row(session, row, **values)
        return _detail(session, row)


def rename_beat(
    engine: Engine, identity: Identity | None, beat: uuid.UUID | str, name: str
) -> BeatDetail:
    return update_beat(engine, identity, beat, name=name)


def set_visit_days(
    engine: Engine, identity: Identity | None, beat: uuid.UUID | str, days: int | str
) -> BeatDetail:
    return update_beat(engine, identity, beat, days=days)


def delete_beat(engine: Engine, identity: Identity | None, beat: uuid.UUID | str) -> Changes:
    """Tombstone a beat; its stores leave it (they stay the agent's, on no beat)."""
    _require_manage(identity)
    with session_scope(engine) as session:
        row = _resolve_beat(session, beat)
        members = session.scalars(
            select(BeatStore).where(BeatStore.beat_id == row.id, BeatStore.deleted == false())
        ).all()
        for member in members:
            outbox.edit_row(session, member, deleted=True)
        outbox.edit_row(session, row, deleted=True)
    return CHANGES


def assign_stores(
    engine: Engine,
    identity: Identity | None,
    beat: uuid.UUID | str,
    stores: Sequence[uuid.UUID | str],
    *,
    replace: bool = False,
) -> BeatDetail:
    """Put ``stores`` on ``beat`` in the order given.

    Appended after the beat's current stores (a store already on it moves to its new place),
    or, with ``replace``, ``stores`` become the beat's whole visit order and stores not listed
    leave it. A store on another beat moves (a store is on one beat). Every store must be the
    beat agent's: all are checked before anything is written.
    """
    _require_manage(identity)
    with session_scope(engine) as session:
        row = _resolve_beat(session, beat)
        wanted: list[Store] = []
        for ref in stores:
            store = _resolve_store(session, ref)
            if store.agent_id != row.agent_id:
                owner = session.get(Agent, store.agent_id) if store.agent_id else None
                whose = f"agent {owner.code}'s" if owner else "no agent's"
                raise UserError(
                    f"Store {store.code} ({store.name}) is {whose} store; beat {row.name!r} is "
                    f"agent {_agent_code(session, row.agent_id)}'s.",
                    hint="A beat holds its own agent's stores; move the store to that agent first.",
                )
            if store.id not in {s.id for s in wanted}:
                wanted.append(store)
        current = session.scalars(
            select(BeatStore)
            .where(BeatStore.beat_id == row.id, BeatStore.deleted == false())
            .order_by(BeatStore.visit_order)
        ).all()
        wanted_ids = {s.id for s in wanted}
        position = 0
        if not replace:  # the current stores keep their order, renumbered from 1
            for member in current:
                if member.store_id not in wanted_ids:
                    position += 1
                    outbox.edit_row(session, member, visit_order=position)
        else:
            for member in current:
                if member.store_id not in wanted_ids:
                    outbox.edit_row(session, member, deleted=True)
        for store in wanted:
            position += 1
            found = session.scalar(select(BeatStore).where(BeatStore.store_id == store.id))
            if found is None:
                member = BeatStore(
                    id=new_id(), store_id=store.id, beat_id=row.id, visit_order=position
                )
                session.add(member)
                outbox.enqueue_row(session, member)
            else:
                outbox.edit_row(
                    session,
                    found,
                    beat_id=row.id,
                    visit_order=position,
                    deleted=False,
                )
        return _detail(session, row)


def remove_stores(
    engine: Engine, identity: Identity | None, stores: Sequence[uuid.UUID | str]
) -> Changes:
    """Take ``stores`` off whatever beat they are on (they stay their agent's)."""
    _require_manage(identity)
    with session_scope(engine) as session:
        for ref in stores:
            store = _resolve_store(session, ref)
            member = session.scalar(select(BeatStore).where(BeatStore.store_id == store.id))
            if member is not None and not member.deleted:
                outbox.edit_row(session, member, deleted=True)
    return CHANGES


def beat_of_stores(
    engine: Engine, identity: Identity | None, store_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Store id → the name of its beat, for the stores given that are on one."""
    own = _own_agent(identity)
    if not store_ids:
        return {}
    with session_scope(engine) as session:
        conds: list[Any] = [
            BeatStore.store_id.in_(list(store_ids)),
            BeatStore.deleted == false(),
            Beat.deleted == false(),
        ]
        if own is not None:
            conds.append(Beat.agent_id == own)
        rows = session.execute(
            select(BeatStore.store_id, Beat.name)
            .join(Beat, Beat.id == BeatStore.beat_id)
            .where(*conds)
        ).all()
        return {sid: name for sid, name in rows}


def _agent_code(session: Session, agent_id: uuid.UUID) -> str:
    agent = session.get(Agent, agent_id)
    return agent.code if agent is not None else "?"


def may_manage(identity: Identity | None) -> bool:
    """Whether ``identity`` may create and assign beats (faces show the buttons only then)."""
    return _may_manage(identity)


@dataclass(frozen=True)
class AgentChoice:
    id: uuid.UUID
    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code} — {self.name}"


@dataclass(frozen=True)
class StoreChoice:
    """One of an agent's stores, with the beat it is on (None: on no beat)."""

    id: uuid.UUID
    code: str
    name: str
    city: str | None
    beat_id: uuid.UUID | None
    beat_name: str | None

    @property
    def label(self) -> str:
        where = f", {self.city}" if self.city else ""
        on = f"  [{self.beat_name}]" if self.beat_name else ""
        return f"{self.name}{where} ({self.code}){on}"


def beat_agents(engine: Engine, identity: Identity | None) -> list[AgentChoice]:
    """The agents a beat may be made for (active agents; an agent: itself only)."""
    own = _own_agent(identity)
    with session_scope(engine) as session:
        conds: list[Any] = [
            Agent.deleted == false(),
            Agent.active.is_(True),
            Agent.role == Role.AGENT.value,
        ]
        if own is not None:
            conds.append(Agent.id == own)
        rows = session.execute(
            select(Agent.id, Agent.code, Agent.name).where(*conds).order_by(Agent.code)
        ).all()
        return [AgentChoice(i, c, n) for i, c, n in rows]


def stores_of_agent(
    engine: Engine, identity: Identity | None, agent_id: uuid.UUID
) -> list[StoreChoice]:
    """``agent_id``'s live stores by town and name, each with its beat (what may be assigned)."""
    own = _own_agent(identity)
    if own is not None and own != agent_id:
        return []
    with session_scope(engine) as session:
        rows = session.execute(
            select(Store.id, Store.code, Store.name, Store.city, Beat.id, Beat.name)
            .outerjoin(BeatStore, (BeatStore.store_id == Store.id) & (BeatStore.deleted == false()))
            .outerjoin(Beat, (Beat.id == BeatStore.beat_id) & (Beat.deleted == false()))
            .where(Store.agent_id == agent_id, Store.deleted == false())
            .order_by(Store.city, Store.name)
        ).all()
        return [StoreChoice(*r) for r in rows]
