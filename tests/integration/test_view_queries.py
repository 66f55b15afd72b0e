"""The Qt-free queries and services behind the Stores/Products views, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Invoice, InvoiceLine, Product, Store
from mangalm_desktop.db.queries.products import ProductFilter, product_sales, search_products
from mangalm_desktop.db.queries.store_detail import invoice_lines, load_store_detail
from mangalm_desktop.db.queries.stores import (
    StoreFilter,
    StoreIndex,
    fetch_store_rows,
    fts_query,
)
from mangalm_desktop.db.search import ensure_search_schema, rebuild_search, refresh_store_stats
from mangalm_desktop.db.store_profile import (
    ProfileEdit,
    ProfileInvalid,
    save_store_profile,
    validate,
)
from mangalm_desktop.domain.errors import UserError

AS_OF = dt.date(2026, 6, 1)


@pytest.fixture
def shop(engine):
    """Five stores in two regions, two agents, a product and a few invoices."""
    ensure_search_schema(engine, AS_OF)
    a1, a2 = Agent(code="A01", name="Ravi Kumar"), Agent(code="A02", name="Sunita Rao")
    stores = [
        Store(code="MUM-0001", name="Shree Ganesh Traders", city="Mumbai", region="West"),
        Store(code="MUM-0002", name="Balaji Kirana", city="Mumbai", region="West"),
        Store(code="PUN-0003", name="Ganesh Super Market", city="Pune", region="West"),
        Store(code="BLR-0004", name="Café Lakshmi Stores", city="Bengaluru", region="South"),
        Store(code="BLR-0005", name="Never Ordered Mart", city="Mysuru", region="South"),
    ]
    product = Product(sku="SKU-1", name="Parle-G 250 g", brand="Parle", category="Biscuits")
    with session_scope(engine) as s:
        s.add_all([a1, a2, product])
        s.flush()
        for i, store in enumerate(stores):
            store.agent_id = (a1 if i % 2 == 0 else a2).id
            store.outstanding_balance = Decimal(i * 100)
        s.add_all(stores)
        s.flush()
        # store 0: invoices 10 and 400 days ago; store 2: 100 days ago; store 3: 3 days ago
        for n, (store, days, amount) in enumerate(
            [
                (stores[0], 10, "120.50"),
                (stores[0], 400, "999.00"),
                (stores[2], 100, "50.00"),
                (stores[3], 3, "75.25"),
            ]
        ):
            day = AS_OF - dt.timedelta(days=days)
            inv = Invoice(
                number=f"INV-{n}",
                store_id=store.id,
                invoice_date=day,
                total=Decimal(amount),
                source="test",
                kind="invoice",
                status="paid",
            )
            s.add(inv)
            s.flush()
            s.add(
                InvoiceLine(
                    invoice_id=inv.id,
                    line_no=1,
                    store_id=store.id,
                    invoice_date=day,
                    product_id=product.id,
                    quantity=5,
                    unit_price=Decimal(amount) / 5,
                    line_total=Decimal(amount),
                )
            )
        void = Invoice(
            number="INV-V",
            store_id=stores[1].id,
            invoice_date=AS_OF - dt.timedelta(days=5),
            total=Decimal("500"),
            source="test",
            kind="invoice",
            status="void",
        )
        s.add(void)
    refresh_store_stats(engine, AS_OF)
    return {"stores": stores, "agents": (a1, a2), "product": product}


def names(engine, flt: StoreFilter) -> list[str]:
    index = StoreIndex(engine, AS_OF, identity=None)
    rows = fetch_store_rows(engine, [int(i) for i in index.match(flt)], AS_OF, identity=None)
    return [r.name for r in rows]


def test_fts_query_never_passes_syntax_through():
    assert fts_query("") is None and fts_query('  -*" ') is None
    assert fts_query('ganesh "OR" NEAR(') == '"ganesh"* "OR"* "NEAR"*'
    assert fts_query("MUM-00") == '"MUM"* "00"*'


def test_search_by_name_city_and_code_prefix(engine, shop):
    assert names(engine, StoreFilter(text="ganesh")) == [
        "Ganesh Super Market",
        "Shree Ganesh Traders",
    ]
    assert names(engine, StoreFilter(text="gan sup")) == ["Ganesh Super Market"]
    assert names(engine, StoreFilter(text="mumbai")) == ["Balaji Kirana", "Shree Ganesh Traders"]
    assert names(engine, StoreFilter(text="BLR-000")) == [
        "Café Lakshmi Stores",
        "Never Ordered Mart",
    ]
    assert names(engine, StoreFilter(text="cafe")) == ["Café Lakshmi Stores"]  # diacritics folded
    assert names(engine, StoreFilter(text='") OR *')) == names(engine, StoreFilter(text="or"))


def test_index_follows_edits_inserts_and_deletes(engine, shop):
    with engine.begin() as conn:
        conn.execute(text("UPDATE store SET name = 'Om Sai Stores' WHERE code = 'MUM-0002'"))
    with session_scope(engine) as s:
        s.add(Store(code="NSK-0006", name="Nashik Ganesh Bhandar", city="Nashik", region="West"))
    assert names(engine, StoreFilter(text="balaji")) == []
    assert names(engine, StoreFilter(text="om sai")) == ["Om Sai Stores"]
    assert "Nashik Ganesh Bhandar" in names(engine, StoreFilter(text="ganesh"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM store WHERE code = 'NSK-0006'"))
    assert "Nashik Ganesh Bhandar" not in names(engine, StoreFilter(text="ganesh"))
    rebuild_search(engine)  # after a rebuild the answers are the same
    assert names(engine, StoreFilter(text="ganesh")) == [
        "Ganesh Super Market",
        "Shree Ganesh Traders",
    ]


def test_filters_and_figures(engine, shop):
    a1, _ = shop["agents"]
    assert names(engine, StoreFilter(region="South")) == [
        "Café Lakshmi Stores",
        "Never Ordered Mart",
    ]
    assert names(engine, StoreFilter(agent_id=a1.id)) == [
        "Ganesh Super Market",
        "Never Ordered Mart",
        "Shree Ganesh Traders",
    ]
    # dormant > 8 weeks: last order 100 days ago, never ordered, and the void-only store
    assert names(engine, StoreFilter(dormant_weeks=8)) == [
        "Balaji Kirana",
        "Ganesh Super Market",
        "Never Ordered Mart",
    ]
    index = StoreIndex(engine, AS_OF, identity=None)
    rows = {
        r.code: r
        for r in fetch_store_rows(
            engine, [int(i) for i in index.match(StoreFilter())], AS_OF, identity=None
        )
    }
    assert rows["MUM-0001"].sales_12m == Decimal("120.50")  # the 400-day-old invoice is out
    assert rows["MUM-0001"].days_since == 10
    assert rows["MUM-0002"].sales_12m == Decimal("0.00") and rows["MUM-0002"].last_order is None
    # What each owes, as the call screen and the credit check count it: BLR-0004's invoice is
    # paid, so not the 300 stored on the store; a store without invoice rows shows that figure.
    assert rows["BLR-0004"].balance == Decimal("0.00")
    assert rows["BLR-0005"].balance == Decimal("400.00")
    assert rows["MUM-0001"].agent == "Ravi Kumar"


def test_sorting_keeps_never_ordered_last(engine, shop):
    by_days = names(engine, StoreFilter(sort="days_since"))
    assert by_days[:3] == ["Café Lakshmi Stores", "Shree Ganesh Traders", "Ganesh Super Market"]
    assert set(by_days[3:]) == {"Balaji Kirana", "Never Ordered Mart"}
    by_sales = names(engine, StoreFilter(sort="sales_12m", descending=True))
    assert by_sales[:3] == ["Shree Ganesh Traders", "Café Lakshmi Stores", "Ganesh Super Market"]


def test_store_detail_figures(engine, shop):
    store = shop["stores"][0]
    detail = load_store_detail(engine, store.id, AS_OF, identity=None)
    assert detail is not None
    assert detail.sales_12m == Decimal("120.50")
    assert detail.last_order == AS_OF - dt.timedelta(days=10)
    assert sum(w.value for w in detail.weekly) == Decimal("1119.50")
    assert all(w.week.weekday() == 0 for w in detail.weekly)
    assert [i.number for i in detail.invoices] == ["INV-0", "INV-1"]
    lines = invoice_lines(engine, detail.invoices[0].id, identity=None)
    assert [(line.product, line.quantity, line.line_total) for line in lines] == [
        ("Parle-G 250 g", 5, Decimal("120.50"))
    ]
    assert detail.top_products[0].quantity_12m == 5
    assert load_store_detail(engine, uuid.uuid4(), AS_OF, identity=None) is None


def test_products_search_and_sales(engine, shop):
    assert [
        p.name for p in search_products(engine, ProductFilter(text="parle"), identity=None)
    ] == ["Parle-G 250 g"]
    assert search_products(engine, ProductFilter(brand="Amul"), identity=None) == []
    sales = product_sales(engine, shop["product"].id, AS_OF, identity=None)
    assert sales.stores_buying == 3 and sales.quantity_12m == 15
    assert sales.top_stores[0].name == "Shree Ganesh Traders"


def test_profile_validation_lists_every_problem():
    with pytest.raises(ProfileInvalid) as err:
        validate(
            ProfileEdit(
                phone="call me",
                email="x@",
                size_class="Q",
                call_cadence_days="two",
                credit_limit="-5",
            )
        )
    fields = [p.field for p in err.value.problems]
    assert fields == ["phone", "email", "size_class", "call_cadence_days", "credit_limit"]
    assert "not saved" in err.value.message
    ok = validate(
        ProfileEdit(
            phone="+91 98200 12345",
            size_class="m",
            call_cadence_days="14",
            credit_limit="₹1,50,000.50",
        )
    )
    assert (ok.size_class, ok.call_cadence_days, ok.credit_limit) == ("M", 14, Decimal("150000.50"))
    with pytest.raises(ProfileInvalid):
        validate(ProfileEdit(credit_limit="1.005"))


def test_save_bumps_version_and_queues_one_outbox_op(engine, shop):
    store = shop["stores"][1]
    result = save_store_profile(
        engine,
        store.id,
        ProfileEdit(phone="+91 90000 11111", notes="Closed Sundays"),
        expected_version=1,
        identity=None,
    )
    assert (
        result.version == 2 and result.changes.touches("store") and store.id in result.changes.ids
    )
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT phone, notes, version FROM store WHERE id = :i"), {"i": store.id.hex}
        ).one()
        ops = conn.execute(text("SELECT op, base_version, table_name FROM outbox")).all()
    assert row == ("+91 90000 11111", "Closed Sundays", 2)
    assert ops == [("upsert", 1, "store")]
    # the same values again change nothing and queue nothing
    again = save_store_profile(
        engine,
        store.id,
        ProfileEdit(phone="+91 90000 11111", notes="Closed Sundays"),
        expected_version=2,
        identity=None,
    )
    assert again.version == 2 and not again.changes.tables
    # an edit made against an old version is refused, nothing written
    with pytest.raises(UserError, match="changed elsewhere"):
        save_store_profile(
            engine,
            store.id,
            ProfileEdit(phone="+91 90000 22222"),
            expected_version=1,
            identity=None,
        )
    # invalid input: refused, nothing written
    with pytest.raises(ProfileInvalid):
        save_store_profile(
            engine, store.id, ProfileEdit(email="nope"), expected_version=2, identity=None
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
        assert (
            conn.execute(
                text("SELECT version FROM store WHERE id = :i"), {"i": store.id.hex}
            ).scalar()
            == 2
        )


def test_search_schema_is_created_for_an_existing_database(db_path):
    """A database made before the search tables existed gets them (and its rows indexed)."""
    from mangalm_desktop.db.migrate import open_local_database

    engine = open_local_database(db_path)
    with session_scope(engine) as s:
        s.add(Store(code="OLD-0001", name="Old Town Provisions", city="Goa", region="West"))
    assert ensure_search_schema(engine, AS_OF) is True
    assert ensure_search_schema(engine, AS_OF) is False  # idempotent
    assert names(engine, StoreFilter(text="old town")) == ["Old Town Provisions"]
    engine.dispose()


def test_figures_recomputed_when_invoices_changed_while_the_app_was_closed(engine, shop):
    """An import by the CLI between two app starts must not leave stale figures."""
    store = shop["stores"][4]  # never ordered
    assert ensure_search_schema(engine, AS_OF) is False
    with session_scope(engine) as s:
        s.add(
            Invoice(
                number="INV-CLI",
                store_id=store.id,
                invoice_date=AS_OF - dt.timedelta(days=2),
                total=Decimal("42.00"),
                source="csv",
                kind="invoice",
                status="sent",
            )
        )
    ensure_search_schema(engine, AS_OF)  # the next start
    index = StoreIndex(engine, AS_OF, identity=None)
    rows = fetch_store_rows(
        engine, [int(i) for i in index.match(StoreFilter(text="never"))], AS_OF, identity=None
    )
    assert (rows[0].sales_12m, rows[0].days_since) == (Decimal("42.00"), 2)


def test_quick_open_only_for_a_database_already_at_head(tmp_path):
    """The fast path never skips a migration, a backup or a refusal."""
    import sqlite3

    from mangalm_desktop.db.migrate import head_revision, open_local_database
    from mangalm_desktop.db.quickopen import open_if_current, script_head

    assert script_head() == head_revision()
    path = tmp_path / "app.sqlite"
    assert open_if_current(path) is None  # no file: the full path creates it
    open_local_database(path).dispose()
    engine = open_if_current(path)
    assert engine is not None
    engine.dispose()
    with sqlite3.connect(path) as conn:  # an older or newer stamp goes the full way
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    assert open_if_current(path) is None
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all")
    assert open_if_current(junk) is None
