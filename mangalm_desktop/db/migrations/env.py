"""Alembic environment: runs with the connection handed over by mangalm_desktop.db.migrate."""

from __future__ import annotations

from alembic import context

from mangalm_desktop.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through mangalm_desktop.db.migrate, not bare alembic")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
