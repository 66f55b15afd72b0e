"""Managing schemes: list, show, create, end (docs/orders.md "Schemes").

Schemes are managed centrally and read-only to agents: a manager creates and ends them on the
central database (``engine`` is then a PostgreSQL engine signed in as the manager; Row-Level
Security and grants refuse an agent whatever this code does), and the laptops receive them
at their next sync. A standalone laptop (no central server) keeps its own schemes locally.
Each write is one transaction; every problem with the input is reported at once, in words.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Product, Scheme, SchemeRule, new_id
from ..domain import formatting as fmt
from ..domain.errors import UserError
from ..security.roles import Identity, Permission, require
from .pricing import SchemeKind
from .queries import split_list

KIND_WORDS = {
    SchemeKind.PERCENT: "% off",
    SchemeKind.SLAB: "quantity slabs",
    SchemeKind.FREE_GOODS: "buy X get Y free",
}


@dataclass
class RuleInput:
    """One step: from ``min_qty`` on, ``discount_pct`` off, or ``free_qty`` free per whole
    ``min_qty`` of ``free_product`` (a SKU or id; None: the line's own product)."""

    min_qty: int
    discount_pct: Decimal = Decimal(0)
    free_qty: int = 0
    free_product: str | None = None


@dataclass
class SchemeInput:
    code: str
    name: str
    kind: SchemeKind | str
    valid_from: dt.date
    valid_to: dt.date | None = None
    product: str | None = None  # SKU or id
    brand: str | None = None
    category: str | None = None
    regions: list[str] = field(default_factory=list)
    store_classes: list[str] = field(default_factory=list)
    stackable: bool = False
    rules: list[RuleInput] = field(default_factory=list)
    notes: str | None = None


@dataclass(frozen=True)
class SchemeInfo:
    """A scheme as a person reads it (list, show, the Schemes view)."""

    id: uuid.UUID
    code: str
    name: str
    kind: str
    scope: str
    valid_from: dt.date
    valid_to: dt.date | None
    regions: str
    store_classes: str
    stackable: bool
    rules: tuple[str, ...]
    status: str  # "active" | "upcoming" | "ended"
    notes: str | None = None

    @property
    def validity(self) -> str:
        end = fmt.day(self.valid_to) if self.valid_to else "open-ended"
        return f"{fmt.day(self.valid_from)} – {end}"

    @property
    def rules_text(self) -> str:
        return "; ".join(self.rules)


def _status(s: Scheme, on: dt.date) -> str:
    if s.valid_to is not None and s.valid_to < on:
        return "ended"
    if s.valid_from > on:
        return "upcoming"
    return "active"


def _rule_words(kind: str, r: SchemeRule, names: dict[uuid.UUID, str]) -> str:
    if kind == SchemeKind.FREE_GOODS:
        what = names.get(r.free_product_id, "?") if r.free_product_id else "same product"
        return f"buy {r.min_qty:,} get {r.free_qty:,} free ({what})"
    pct = fmt.percent_points(r.discount_pct)
    return f"{pct} off" if r.min_qty <= 1 else f"{pct} off at {r.min_qty:,}+"


def _scope(s: Scheme, names: dict[uuid.UUID, str]) -> str:
    if s.product_id:
        return names.get(s.product_id, "a product")
    if s.brand:
        return f"brand {s.brand}"
    if s.category:
        return f"category {s.category}"
    return "all products"


def _infos(session: Session, rows: list[Scheme], on: dt.date) -> list[SchemeInfo]:
    ids = [s.id for s in rows]
    rules: dict[uuid.UUID, list[SchemeRule]] = {i: [] for i in ids}
    if ids:
        stmt = select(SchemeRule).where(
            SchemeRule.scheme_id.in_(ids), SchemeRule.deleted.is_(False)
        )
        for r in session.scalars(stmt.order_by(SchemeRule.min_qty)):
            rules[r.scheme_id].append(r)
    pids = {s.product_id for s in rows if s.product_id}
    pids |= {r.free_product_id for rs in rules.values() for r in rs if r.free_product_id}
    names: dict[uuid.UUID, str] = {}
    if pids:
        for pid, sku, name in session.execute(
            select(Product.id, Product.sku, Product.name).where(Product.id.in_(pids))
        ):
            names[pid] = f"{sku} {name}" if sku else name
    return [
        SchemeInfo(
            id=s.id,
            code=s.code,
            name=s.name,
            kind=KIND_WORDS.get(SchemeKind(s.kind), s.kind),
            scope=_scope(s, names),
            valid_from=s.valid_from,
            valid_to=s.valid_to,
            regions=", ".join(sorted(split_list(s.regions))) or "all regions",
            store_classes=", ".join(sorted(split_list(s.store_classes))) or "all classes",
            stackable=bool(s.stackable),
            rules=tuple(_rule_words(s.kind, r, names) for r in rules[s.id]),
            status=_status(s, on),
            notes=s.notes,
        )
        for s in rows
    ]


def list_schemes(
    engine: Engine,
    identity: Identity | None,
    *,
    on: dt.date,
    include_ended: bool = False,
) -> list[SchemeInfo]:
    """The schemes this database holds (an agent's: those meant for its stores), active and
    upcoming first by start date; ended ones only when asked."""
    require(identity, Permission.VIEW_OWN_STORES)
    with session_scope(engine) as session:
        stmt = select(Scheme).where(Scheme.deleted.is_(False))
        if not include_ended:
            stmt = stmt.where(or_(Scheme.valid_to.is_(None), Scheme.valid_to >= on))
        rows = list(session.scalars(stmt.order_by(Scheme.valid_from, Scheme.code)))
        return _infos(session, rows, on)


def show_scheme(engine: Engine, identity: Identity | None, code: str, *, on: dt.date) -> SchemeInfo:
    require(identity, Permission.VIEW_OWN_STORES)
    with session_scope(engine) as session:
        return _infos(session, [_by_code(session, code)], on)[0]


def _by_code(session: Session, code: str) -> Scheme:
    s = session.scalar(
        select(Scheme).where(func.upper(Scheme.code) == code.strip().upper(), ~Scheme.deleted)
    )
    if s is None:
        raise UserError(
            f"There is no scheme {code!r}.", hint="`mangalm schemes list` shows their codes."
        )
    return s


def _product(session: Session, ref: str) -> Product | None:
    ref = ref.strip()
    try:
        p = session.get(Product, uuid.UUID(ref))
    except ValueError:
        p = None
    if p is None:
        p = session.scalar(select(Product).where(func.upper(Product.sku) == ref.upper()))
    if p is None or p.deleted:
        return None
    return p


def _pct(value: object) -> Decimal | None:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _check(session: Session, inp: SchemeInput) -> tuple[list[str], Product | None]:
    """Every problem with ``inp`` in words (empty: fine) and the scoped product."""
    problems: list[str] = []
    code = inp.code.strip()
    if not code:
        problems.append("Give the scheme a code (e.g. DIWALI-ATTA).")
    elif len(code) > 32:
        problems.append(f"The code {code!r} is longer than 32 characters.")
    elif session.scalar(select(Scheme.id).where(func.upper(Scheme.code) == code.upper())):
        problems.append(f"A scheme with code {code!r} exists already; choose another code.")
    if not inp.name.strip():
        problems.append("Give the scheme a name the agents will read.")
    try:
        kind = SchemeKind(inp.kind)
    except ValueError:
        problems.append(f"Kind {inp.kind!r} is not one of percent, slab, free_goods.")
        kind = None
    scoped = [x for x in (inp.product, inp.brand, inp.category) if x and x.strip()]
    if len(scoped) > 1:
        problems.append(
            "A scheme covers one product, one brand or one category (or all): pick one."
        )
    product = None
    if inp.product and inp.product.strip():
        product = _product(session, inp.product)
        if product is None:
            problems.append(f"Unknown product {inp.product!r}.")
    if inp.valid_to is not None and inp.valid_to < inp.valid_from:
        problems.append(
            f"The scheme ends ({fmt.day(inp.valid_to)}) before it starts "
            f"({fmt.day(inp.valid_from)})."
        )
    if not inp.rules:
        problems.append("Add at least one rule (a % off, a slab, or buy X get Y).")
    if kind is SchemeKind.PERCENT and len(inp.rules) > 1:
        problems.append("A % off scheme has one rule; use kind slab for steps by quantity.")
    seen: set[int] = set()
    for n, r in enumerate(inp.rules, start=1):
        if not isinstance(r.min_qty, int) or isinstance(r.min_qty, bool) or r.min_qty < 1:
            problems.append(f"Rule {n}: the quantity must be a whole number of at least 1.")
            continue
        if r.min_qty in seen:
            problems.append(f"Rule {n}: two rules start at {r.min_qty}; keep one.")
        seen.add(r.min_qty)
        if kind is SchemeKind.FREE_GOODS:
            if not isinstance(r.free_qty, int) or r.free_qty < 1:
                problems.append(f"Rule {n}: the free quantity must be at least 1.")
            if r.free_product:
                fp = _product(session, r.free_product)
                if fp is None or not fp.active or fp.price is None:
                    problems.append(
                        f"Rule {n}: the free product {r.free_product!r} is unknown, not sold "
                        "or has no price."
                    )
        elif kind is not None:
            pct = _pct(r.discount_pct)
            if pct is None or pct <= 0 or pct > 100:
                problems.append(
                    f"Rule {n}: the discount must be more than 0 and at most 100% "
                    f"(got {r.discount_pct})."
                )
    return problems, product


def create_scheme(engine: Engine, identity: Identity | None, inp: SchemeInput) -> SchemeInfo:
    """Create a scheme with its rules in one transaction (managers; a standalone laptop)."""
    require(identity, Permission.MANAGE_SCHEMES)
    with session_scope(engine) as session:
        problems, product = _check(session, inp)
        if problems:
            raise UserError(
                "The scheme was not created: " + " ".join(problems),
                hint="Fix these and try again; nothing was saved.",
            )
        kind = SchemeKind(inp.kind)
        scheme = Scheme(
            id=new_id(),
            code=inp.code.strip(),
            name=inp.name.strip(),
            kind=kind.value,
            product_id=product.id if product is not None else None,
            brand=(inp.brand or "").strip() or None,
            category=(inp.category or "").strip() or None,
            valid_from=inp.valid_from,
            valid_to=inp.valid_to,
            regions=",".join(x.strip() for x in inp.regions if x.strip()) or None,
            store_classes=",".join(x.strip() for x in inp.store_classes if x.strip()) or None,
            stackable=inp.stackable,
            notes=(inp.notes or "").strip() or None,
        )
        session.add(scheme)
        session.flush()
        for r in inp.rules:
            fp = _product(session, r.free_product) if r.free_product else None
            session.add(
                SchemeRule(
                    id=new_id(),
                    scheme_id=scheme.id,
                    min_qty=r.min_qty,
                    discount_pct=Decimal(0)
                    if kind is SchemeKind.FREE_GOODS
                    else (_pct(r.discount_pct) or Decimal(0)),
                    free_qty=r.free_qty if kind is SchemeKind.FREE_GOODS else 0,
                    free_product_id=fp.id if fp is not None else None,
                )
            )
        session.flush()
        return _infos(session, [scheme], inp.valid_from)[0]


def end_scheme(
    engine: Engine, identity: Identity | None, code: str, *, last_day: dt.date
) -> SchemeInfo:
    """End a scheme: ``last_day`` is the last day it applies (orders already taken keep it)."""
    require(identity, Permission.MANAGE_SCHEMES)
    with session_scope(engine) as session:
        s = _by_code(session, code)
        if s.valid_to is not None and s.valid_to <= last_day:
            raise UserError(
                f"Scheme {s.code} already ends on {fmt.day(s.valid_to)}.",
                hint="A scheme can be ended earlier, not extended; create a new one instead.",
            )
        s.valid_to = last_day
        session.flush()
        return _infos(session, [s], last_day)[0]
