"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:57:16.763669
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mangalm_desktop.db.types import Money, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "agent",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=16), server_default="agent", nullable=False),
        sa.Column("db_role", sa.String(length=63), nullable=True),
        sa.Column("zoho_user_name", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent")),
        sa.UniqueConstraint("code", name=op.f("uq_agent_code")),
        sa.UniqueConstraint("db_role", name=op.f("uq_agent_db_role")),
    )
    op.create_table(
        "number_sequence",
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_number_sequence")),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("op_id", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=32), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("op_id", name=op.f("uq_outbox_op_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_seq", ["status", "seq"], unique=False)

    op.create_table(
        "product",
        sa.Column("zoho_item_id", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("pack_size", sa.Integer(), server_default="1", nullable=False),
        sa.Column("case_qty", sa.Integer(), nullable=True),
        sa.Column("price", Money(scale=4, precision=16), nullable=True),
        sa.Column("mrp", Money(scale=4, precision=16), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("launched_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("pack_size >= 1", name=op.f("ck_product_pack_size_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_sku")),
        sa.UniqueConstraint("zoho_item_id", name=op.f("uq_product_zoho_item_id")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index("ix_product_brand", ["brand"], unique=False)
        batch_op.create_index("ix_product_category", ["category"], unique=False)
        batch_op.create_index("ix_product_name", ["name"], unique=False)

    op.create_table(
        "activity_model",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fitted_for", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("generated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_activity_model")),
    )
    op.create_table(
        "scheme",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("regions", sa.Text(), nullable=True),
        sa.Column("store_classes", sa.String(length=100), nullable=True),
        sa.Column("stackable", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_scheme_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme")),
        sa.UniqueConstraint("code", name=op.f("uq_scheme_code")),
    )
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.create_index("ix_scheme_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "scheme_rule",
        sa.Column("scheme_id", sa.Uuid(), nullable=False),
        sa.Column("min_qty", sa.Integer(), nullable=False),
        sa.Column("discount_pct", Money(scale=4, precision=16), nullable=False),
        sa.Column("free_qty", sa.Integer(), server_default="0", nullable=False),
        sa.Column("free_product_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("min_qty >= 1", name=op.f("ck_scheme_rule_min_qty_positive")),
        sa.CheckConstraint("free_qty >= 0", name=op.f("ck_scheme_rule_free_qty_not_negative")),
        sa.ForeignKeyConstraint(
            ["free_product_id"], ["product.id"], name=op.f("fk_scheme_rule_free_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_scheme_rule_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_rule")),
    )
    with op.batch_alter_table("scheme_rule", schema=None) as batch_op:
        batch_op.create_index("ix_scheme_rule_scheme_id", ["scheme_id"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("number", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "audit_log",
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_audit_log_agent_id_agent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)

    op.create_table(
        "store",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("zoho_customer_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_account_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("size_class", sa.String(length=2), nullable=True),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("call_cadence_days", sa.Integer(), nullable=True),
        sa.Column("credit_limit", Money(scale=2, precision=16), nullable=True),
        sa.Column("outstanding_balance", Money(scale=2, precision=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_store_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store")),
        sa.UniqueConstraint("code", name=op.f("uq_store_code")),
        sa.UniqueConstraint("zoho_account_id", name=op.f("uq_store_zoho_account_id")),
        sa.UniqueConstraint("zoho_customer_id", name=op.f("uq_store_zoho_customer_id")),
    )
    with op.batch_alter_table("store", schema=None) as batch_op:
        batch_op.create_index("ix_store_agent_id", ["agent_id"], unique=False)
        batch_op.create_index("ix_store_city", ["city"], unique=False)
        batch_op.create_index("ix_store_name", ["name"], unique=False)
        batch_op.create_index("ix_store_region", ["region"], unique=False)

    op.create_table(
        "invoice",
        sa.Column("zoho_invoice_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_modified_at", UTCDateTime(), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="invoice", nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("salesperson", sa.String(length=200), nullable=True),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("subtotal", Money(scale=2, precision=16), nullable=True),
        sa.Column("discount_amount", Money(scale=2, precision=16), nullable=True),
        sa.Column("total", Money(scale=2, precision=16), nullable=False),
        sa.Column("balance", Money(scale=2, precision=16), nullable=True),
        sa.Column("purchase_order", sa.String(length=100), nullable=True),
        sa.Column("sales_order_number", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_invoice_agent_id_agent")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_invoice_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
        sa.UniqueConstraint("zoho_invoice_id", name=op.f("uq_invoice_zoho_invoice_id")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_invoice_date", ["invoice_date"], unique=False)
        batch_op.create_index(
            "ix_invoice_store_id_invoice_date", ["store_id", "invoice_date"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="order", nullable=False),
        sa.Column("state", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("requested_delivery_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("discount_pct", Money(scale=4, precision=16), nullable=False),
        sa.Column("subtotal", Money(scale=2, precision=16), nullable=False),
        sa.Column("discount_total", Money(scale=2, precision=16), nullable=False),
        sa.Column("total", Money(scale=2, precision=16), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_salesorder_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_salesorder_number", sa.String(length=64), nullable=True),
        sa.Column("zoho_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_orders_agent_id_agent")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_orders_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
        sa.UniqueConstraint("zoho_salesorder_id", name=op.f("uq_orders_zoho_salesorder_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_agent_id_order_date", ["agent_id", "order_date"], unique=False
        )
        batch_op.create_index("ix_orders_order_date_number", ["order_date", "number"], unique=False)
        batch_op.create_index("ix_orders_state", ["state"], unique=False)
        batch_op.create_index(
            "ix_orders_store_id_order_date", ["store_id", "order_date"], unique=False
        )

    op.create_table(
        "prediction",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("horizon_start", sa.Date(), nullable=False),
        sa.Column("horizon_weeks", sa.Integer(), nullable=False),
        sa.Column("point", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("suggested_qty", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("generated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_prediction_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_prediction_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction")),
    )
    with op.batch_alter_table("prediction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_prediction_store_id_product_id",
            ["store_id", "product_id", "generated_at", "deleted", "probability", "suggested_qty"],
            unique=False,
        )

    op.create_table(
        "store_stock_report",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_store_stock_report_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_store_stock_report_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_store_stock_report_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_stock_report")),
    )
    with op.batch_alter_table("store_stock_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_store_stock_report_store_id_product_id",
            ["store_id", "product_id", "reported_on"],
            unique=False,
        )

    op.create_table(
        "no_order_reason",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_no_order_reason")),
        sa.UniqueConstraint("code", name=op.f("uq_no_order_reason_code")),
    )
    op.create_table(
        "call_log",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("called_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_call_date", sa.Date(), nullable=True),
        sa.Column("scheduled", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("reason_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_call_log_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["reason_id"],
            ["no_order_reason.id"],
            name=op.f("fk_call_log_reason_id_no_order_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_call_log_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_call_log_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_log")),
    )
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_log_agent_id_called_at", ["agent_id", "called_at"], unique=False
        )
        batch_op.create_index(
            "ix_call_log_store_id_called_at", ["store_id", "called_at"], unique=False
        )

    op.create_table(
        "invoice_line",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", Money(scale=4, precision=16), nullable=False),
        sa.Column("discount_amount", Money(scale=2, precision=16), nullable=True),
        sa.Column("line_total", Money(scale=2, precision=16), nullable=False),
        sa.Column("mrp", Money(scale=4, precision=16), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_line_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_invoice_line_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_invoice_line_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
    )
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        # A unique index, not a constraint, so the first sync can drop and rebuild it.
        batch_op.create_index(
            "uq_invoice_line_invoice_id_line_no", ["invoice_id", "line_no"], unique=True
        )
        # Covering indexes for the reports (see models.InvoiceLine).
        batch_op.create_index(
            "ix_invoice_line_invoice_date",
            ["invoice_date", "store_id", "product_id", "invoice_id"]
            + ["quantity", "line_total", "deleted"],
            unique=False,
        )
        batch_op.create_index(
            "ix_invoice_line_product_id_invoice_date",
            ["product_id", "invoice_date", "store_id", "invoice_id"]
            + ["quantity", "line_total", "deleted"],
            unique=False,
        )
        batch_op.create_index(
            "ix_invoice_line_store_id_invoice_date",
            ["store_id", "invoice_date", "invoice_id", "product_id"]
            + ["quantity", "line_total", "deleted"],
            unique=False,
        )

    op.create_table(
        "order_line",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", Money(scale=4, precision=16), nullable=False),
        sa.Column("discount_pct", Money(scale=4, precision=16), nullable=False),
        sa.Column("line_total", Money(scale=2, precision=16), nullable=False),
        sa.Column("suggested_qty", sa.Integer(), nullable=True),
        sa.Column("scheme_id", sa.Uuid(), nullable=True),  # loose: no FK (models.py)
        sa.Column("scheme_pct", Money(scale=4, precision=16), server_default="0", nullable=False),
        sa.Column("scheme_value", Money(scale=2, precision=16), server_default="0", nullable=False),
        sa.Column("free_goods", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("scheme_reason", sa.Text(), nullable=True),
        sa.Column("scheme_split", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_line_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_order_line_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_order_line_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line")),
        sa.UniqueConstraint("order_id", "line_no", name=op.f("uq_order_line_order_id_line_no")),
    )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_index("ix_order_line_product_id", ["product_id"], unique=False)

    op.create_table(
        "suggestion_feedback",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("prediction_id", sa.Uuid(), nullable=True),  # loose: no FK (models.py)
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("generated_at", UTCDateTime(), nullable=True),
        sa.Column("suggested_qty", sa.Integer(), nullable=False),
        sa.Column("ordered_qty", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_suggestion_feedback_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_suggestion_feedback_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_suggestion_feedback_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_feedback")),
    )
    with op.batch_alter_table("suggestion_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_feedback_store_id", ["store_id"], unique=False)

    op.create_table(
        "mail_queue",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment_name", sa.String(length=200), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')",
            name=op.f("ck_mail_queue_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_mail_queue_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_queue")),
    )
    with op.batch_alter_table("mail_queue", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mail_queue_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_mail_queue_order_id", ["order_id"], unique=False)

    _payments_upgrade()
    _beats_upgrade()


def downgrade() -> None:
    _beats_downgrade()
    _payments_downgrade()
    with op.batch_alter_table("mail_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_queue_order_id")
        batch_op.drop_index("ix_mail_queue_status_next_attempt_at")

    op.drop_table("mail_queue")

    with op.batch_alter_table("suggestion_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_feedback_store_id")

    op.drop_table("suggestion_feedback")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index("ix_order_line_product_id")

    op.drop_table("order_line")
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_line_store_id_invoice_date")
        batch_op.drop_index("ix_invoice_line_product_id_invoice_date")
        batch_op.drop_index("ix_invoice_line_invoice_date")
        batch_op.drop_index("uq_invoice_line_invoice_id_line_no")

    op.drop_table("invoice_line")
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_index("ix_call_log_store_id_called_at")
        batch_op.drop_index("ix_call_log_agent_id_called_at")

    op.drop_table("call_log")
    op.drop_table("no_order_reason")
    with op.batch_alter_table("store_stock_report", schema=None) as batch_op:
        batch_op.drop_index("ix_store_stock_report_store_id_product_id")

    op.drop_table("store_stock_report")
    with op.batch_alter_table("prediction", schema=None) as batch_op:
        batch_op.drop_index("ix_prediction_store_id_product_id")

    op.drop_table("prediction")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_store_id_order_date")
        batch_op.drop_index("ix_orders_state")
        batch_op.drop_index("ix_orders_order_date_number")
        batch_op.drop_index("ix_orders_agent_id_order_date")

    op.drop_table("orders")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_store_id_invoice_date")
        batch_op.drop_index("ix_invoice_invoice_date")

    op.drop_table("invoice")
    with op.batch_alter_table("store", schema=None) as batch_op:
        batch_op.drop_index("ix_store_region")
        batch_op.drop_index("ix_store_name")
        batch_op.drop_index("ix_store_city")
        batch_op.drop_index("ix_store_agent_id")

    op.drop_table("store")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
    op.drop_table("sync_state")
    op.drop_table("activity_model")
    with op.batch_alter_table("scheme_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_scheme_rule_scheme_id")

    op.drop_table("scheme_rule")
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.drop_index("ix_scheme_valid_from")

    op.drop_table("scheme")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("ix_product_name")
        batch_op.drop_index("ix_product_category")
        batch_op.drop_index("ix_product_brand")

    op.drop_table("product")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_seq")

    op.drop_table("outbox")
    op.drop_table("number_sequence")
    op.drop_table("agent")


def _payments_upgrade() -> None:
    """Collections (issue 19 item 4): payments, their allocations to invoices, promises."""
    op.create_table(
        "payment",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount", Money(scale=2, precision=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("cheque_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="collected", nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_payment_id", sa.String(length=64), nullable=True),
        sa.Column("zoho_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_amount_positive")),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_payment_agent_id_agent")),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_payment_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("number", name=op.f("uq_payment_number")),
        sa.UniqueConstraint("zoho_payment_id", name=op.f("uq_payment_zoho_payment_id")),
    )
    op.create_index("ix_payment_agent_id_received_on", "payment", ["agent_id", "received_on"])
    op.create_index("ix_payment_status", "payment", ["status"])
    op.create_index("ix_payment_store_id_received_on", "payment", ["store_id", "received_on"])
    op.create_table(
        "payment_promise",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", Money(scale=2, precision=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_promise_amount_positive")),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_payment_promise_agent_id_agent")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_payment_promise_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_promise")),
    )
    op.create_index("ix_payment_promise_store_id_due_on", "payment_promise", ["store_id", "due_on"])
    op.create_table(
        "payment_allocation",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount", Money(scale=2, precision=16), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_allocation_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_allocation_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payment_allocation_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_payment_allocation_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocation")),
        sa.UniqueConstraint(
            "payment_id", "invoice_id", name=op.f("uq_payment_allocation_payment_id_invoice_id")
        ),
    )
    op.create_index("ix_payment_allocation_invoice_id", "payment_allocation", ["invoice_id"])


def _payments_downgrade() -> None:
    op.drop_index("ix_payment_allocation_invoice_id", table_name="payment_allocation")
    op.drop_table("payment_allocation")
    op.drop_index("ix_payment_promise_store_id_due_on", table_name="payment_promise")
    op.drop_table("payment_promise")
    op.drop_index("ix_payment_store_id_received_on", table_name="payment")
    op.drop_index("ix_payment_status", table_name="payment")
    op.drop_index("ix_payment_agent_id_received_on", table_name="payment")
    op.drop_table("payment")


def _beats_upgrade() -> None:
    """Beats (routes) and their stores in visit order (issue 19 item 2)."""
    op.create_table(
        "beat",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("visit_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_beat_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beat")),
    )
    with op.batch_alter_table("beat", schema=None) as batch_op:
        batch_op.create_index("ix_beat_agent_id", ["agent_id"], unique=False)

    op.create_table(
        "beat_store",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("beat_id", sa.Uuid(), nullable=True),
        sa.Column("visit_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["beat_id"], ["beat.id"], name=op.f("fk_beat_store_beat_id_beat")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_beat_store_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beat_store")),
        sa.UniqueConstraint("store_id", name=op.f("uq_beat_store_store_id")),
    )
    with op.batch_alter_table("beat_store", schema=None) as batch_op:
        batch_op.create_index(
            "ix_beat_store_beat_id_visit_order", ["beat_id", "visit_order"], unique=False
        )


def _beats_downgrade() -> None:
    with op.batch_alter_table("beat_store", schema=None) as batch_op:
        batch_op.drop_index("ix_beat_store_beat_id_visit_order")

    op.drop_table("beat_store")
    with op.batch_alter_table("beat", schema=None) as batch_op:
        batch_op.drop_index("ix_beat_agent_id")

    op.drop_table("beat")
