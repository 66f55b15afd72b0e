"""Field mapping between Zoho records and our rows (both directions), as pure functions.

Kept apart from the jobs so the mapping table in docs/zoho.md can be checked against one
place, and so it is unit-testable without a database or a server. Functions return plain
dicts of model attribute → value; money becomes ``Decimal`` (never float), Zoho timestamps
become aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ..domain.date_window import is_plausible, window_text

Json = dict[str, Any]

CRM_ACCOUNT_FIELDS = [
    "Account_Name",
    "Account_Number",
    "Phone",
    "Billing_Street",
    "Billing_City",
    "Billing_State",
    "Billing_Code",
    "Billing_Country",
    "Modified_Time",
]


class MappingError(ValueError):
    """A record that cannot be mapped; its message is shown to the person who fixes it."""


def parse_time(value: str | None) -> dt.datetime | None:
    """Zoho time (``2013-11-18T02:02:51-0800`` or ``…+05:30``) → aware UTC datetime.

    A time that is no time (``2024-13-45T…``, typed into Zoho or sent by a broken integration)
    raises :class:`MappingError`, which the jobs turn into a warning about that one record."""
    if not value:
        return None
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise MappingError(f"{value!r} is not a date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def books_time(value: dt.datetime) -> str:
    """Books filter format: ``yyyy-MM-ddTHH:mm:ss±hhmm`` (no colon in the offset)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def crm_time(value: dt.datetime) -> str:
    """CRM ``If-Modified-Since``: ISO 8601 with a colon in the offset."""
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def money(value: Any, places: int = 2) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation as exc:
        raise MappingError(f"not an amount: {value!r}") from exc
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_date(value: str | None) -> dt.date | None:
    """Zoho date (``yyyy-mm-dd``) → date; an impossible one (``2024-13-45``) raises
    :class:`MappingError` (never a bare ValueError, which would stop the whole pull)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise MappingError(f"{value!r} is not a date (yyyy-mm-dd)") from None


def _clip(value: Any, size: int) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:size]


# ---- Zoho → us ------------------------------------------------------------------------------


def account_to_store(rec: Json) -> Json:
    """CRM Account → ``store`` columns (the code falls back to ``ZA-<account id>``)."""
    if not rec.get("id") or not rec.get("Account_Name"):
        raise MappingError(f"CRM account without id or name: {rec.get('id')!r}")
    account_id = str(rec["id"])
    return {
        "zoho_account_id": account_id,
        "code": _clip(rec.get("Account_Number"), 64) or f"ZA-{account_id}",
        "name": _clip(rec["Account_Name"], 300),
        "address": _clip(rec.get("Billing_Street"), 2000),
        "city": _clip(rec.get("Billing_City"), 100),
        "state": _clip(rec.get("Billing_State"), 100),
        "postal_code": _clip(rec.get("Billing_Code"), 20),
        "country": _clip(rec.get("Billing_Country"), 100),
        "phone": _clip(rec.get("Phone"), 40),
    }


@dataclass(frozen=True)
class BooksCustomer:
    contact_id: str
    name: str
    crm_account_id: str | None
    email: str | None
    phone: str | None


def contact_to_customer(rec: Json) -> BooksCustomer:
    if not rec.get("contact_id"):
        raise MappingError("Books contact without contact_id")
    return BooksCustomer(
        contact_id=str(rec["contact_id"]),
        name=str(rec.get("company_name") or rec.get("contact_name") or rec["contact_id"])[:300],
        crm_account_id=str(rec["zcrm_account_id"]) if rec.get("zcrm_account_id") else None,
        email=_clip(rec.get("email"), 254),
        phone=_clip(rec.get("phone"), 40),
    )


def item_to_product(rec: Json) -> Json:
    """Books Item → ``product`` columns."""
    if not rec.get("item_id") or not rec.get("name"):
        raise MappingError(f"Books item without id or name: {rec.get('item_id')!r}")
    out: Json = {
        "zoho_item_id": str(rec["item_id"]),
        "name": _clip(rec["name"], 300),
        "sku": _clip(rec.get("sku"), 64),
        "unit": _clip(rec.get("unit"), 20),
        "price": money(rec.get("rate"), 4),
        "active": str(rec.get("status", "active")).lower() == "active",
    }
    if rec.get("brand"):
        out["brand"] = _clip(rec["brand"], 100)
    if rec.get("category_name"):
        out["category"] = _clip(rec["category_name"], 100)
    return out


@dataclass
class InvoiceData:
    header: Json
    customer_id: str
    customer_name: str
    modified: dt.datetime | None
    lines: list[Json] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _quantity(value: Any, warnings: list[str], where: str) -> int:
    q = Decimal(str(value if value not in (None, "") else 0))
    whole = int(q.to_integral_value(rounding=ROUND_HALF_UP))
    if q != whole:
        warnings.append(f"{where}: quantity {q} rounded to {whole}")
    return whole


def invoice_to_rows(rec: Json) -> InvoiceData:
    """Books Invoice (from GET /invoices/{id}, with ``line_items``) → header + line columns."""
    for key in ("invoice_id", "invoice_number", "customer_id", "date"):
        if not rec.get(key):
            raise MappingError(f"invoice {rec.get('invoice_id')!r} has no {key}")
    status = str(rec.get("status") or "")
    name = f"invoice {rec['invoice_number']} (id {rec['invoice_id']})"
    try:
        day = parse_date(rec["date"])
        due_day = parse_date(rec.get("due_date"))
        modified = parse_time(rec.get("last_modified_time"))
    except MappingError as exc:
        # skipped with a warning naming it; pulled again once corrected in Zoho
        raise MappingError(f"{name} skipped: {exc}") from None
    if day is not None and not is_plausible(day):
        # a typo in Zoho (0001-01-01, 9999-12-31) would reach the forecast and the reports;
        # skipped with a warning naming it, and pulled again once corrected (modified time)
        raise MappingError(
            f"invoice {rec['invoice_number']} (id {rec['invoice_id']}) skipped: its date "
            f"{day.isoformat()} is outside the plausible range {window_text()}"
        )
    header: Json = {
        "zoho_invoice_id": str(rec["invoice_id"]),
        "number": _clip(rec["invoice_number"], 64),
        "kind": "invoice",
        "status": _clip(status, 32),
        "salesperson": _clip(rec.get("salesperson_name"), 200),
        "invoice_date": day,
        "due_date": due_day,
        "subtotal": money(rec.get("sub_total")),
        "discount_amount": money(rec.get("discount_amount") or rec.get("discount_total")),
        "total": money(rec.get("total")) or Decimal("0.00"),
        "balance": money(rec.get("balance")),
        "purchase_order": _clip(rec.get("reference_number"), 100),
        "sales_order_number": _clip(rec.get("salesorder_number"), 64),
        "source": "zoho",
    }
    data = InvoiceData(
        header=header,
        customer_id=str(rec["customer_id"]),
        customer_name=str(rec.get("customer_name") or rec["customer_id"]),
        modified=modified,
    )
    due = header["due_date"]
    if due is not None and not is_plausible(due):
        header["due_date"] = None  # due on its invoice date, as an invoice without a due date
        data.warnings.append(
            f"invoice {header['number']}: due date {due.isoformat()} is outside the plausible "
            f"range {window_text()}; treated as due on the invoice date"
        )
    for i, li in enumerate(rec.get("line_items") or [], start=1):
        where = f"invoice {header['number']} line {i}"
        if not li.get("item_id"):
            data.warnings.append(f"{where}: no item_id (free-text line) skipped")
            continue
        data.lines.append(
            {
                "line_no": i,
                "item_id": str(li["item_id"]),
                "item_name": str(li.get("name") or li["item_id"]),
                "sku": li.get("sku"),
                "quantity": _quantity(li.get("quantity"), data.warnings, where),
                "unit_price": money(li.get("rate"), 4) or Decimal("0"),
                "discount_amount": money(li.get("discount_amount")),
                "line_total": money(li.get("item_total")) or Decimal("0.00"),
            }
        )
    return data


# ---- us → Zoho ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInfo:
    item_id: str | None
    product_name: str
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    # schemes (docs/orders.md "Schemes"): a free-goods line (price 0; ``list_price`` is what
    # the goods are worth) and the scheme's reason, sent as the line's description
    free: bool = False
    list_price: Decimal | None = None
    reason: str | None = None


LINE_DISCOUNT_FORMS = ("percent", "net_rate")
FREE_GOODS_FORMS = ("zero_rate", "full_discount")


def _line_item(ln: OrderLineInfo, line_discount: str, free_goods: str) -> Json:
    """One ``line_items[]`` entry. The line discount goes as Books' ``"<pct>%"`` (default) or,
    with ``line_discount = net_rate``, folded into the rate; a free-goods line goes at rate 0
    (default) or, with ``free_goods = full_discount``, at its list price less 100%
    (docs/zoho.md "Configurable because unconfirmed")."""
    item: Json = {"item_id": ln.item_id, "quantity": ln.quantity}
    if ln.free and free_goods == "full_discount" and ln.list_price:
        item["rate"] = float(ln.list_price)
        item["discount"] = "100%"
    elif ln.free:
        item["rate"] = 0.0
    elif ln.discount_pct and line_discount == "net_rate":
        net = ln.unit_price * (Decimal(100) - ln.discount_pct) / Decimal(100)
        item["rate"] = float(net.quantize(Decimal("0.01")))
    else:
        item["rate"] = float(ln.unit_price)
        if ln.discount_pct:
            item["discount"] = f"{ln.discount_pct.normalize():f}%"
    if ln.reason:
        item["description"] = ln.reason[:2000]
    return item


def salesorder_payload(
    *,
    number: str,
    customer_id: str | None,
    store_name: str,
    order_date: dt.date,
    delivery_date: dt.date | None,
    notes: str | None,
    lines: list[OrderLineInfo],
    order_discount_pct: Decimal | None = None,
    line_discount: str = "percent",
    free_goods: str = "zero_rate",
) -> Json:
    """Our order → the body of ``POST /salesorders``; our number goes in ``reference_number``,
    which is what makes the push idempotent (it is looked up before any create)."""
    if not customer_id:
        raise MappingError(
            f"Store '{store_name}' has no Zoho Books customer id; link it to a Books customer "
            "(pull CRM accounts and Books contacts) and retry."
        )
    if not lines:
        raise MappingError(f"Order {number} has no lines.")
    missing = [ln.product_name for ln in lines if not ln.item_id]
    if missing:
        raise MappingError(
            "Products without a Zoho item id: " + ", ".join(sorted(set(missing))[:10])
        )
    payload: Json = {
        "customer_id": customer_id,
        "reference_number": number,
        "date": order_date.isoformat(),
        "line_items": [_line_item(ln, line_discount, free_goods) for ln in lines],
    }
    if order_discount_pct:  # a discount on the whole order, in Books' "10%" form
        payload["discount"] = f"{order_discount_pct.normalize():f}%"
        payload["discount_type"] = "entity_level"
    if delivery_date:
        payload["shipment_date"] = delivery_date.isoformat()
    if notes:
        payload["notes"] = notes[:5000]
    return payload
