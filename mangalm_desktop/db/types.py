"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no exact decimal type: a NUMERIC column silently becomes a float. ``Money`` therefore
stores integer minor units on SQLite and ``NUMERIC(p, s)`` on PostgreSQL, and both give back a
``Decimal`` with exactly ``scale`` places. SUM() over a Money column keeps the type, so reports
aggregate in SQL and still get exact Decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class Money(TypeDecorator[Decimal]):
    """Exact money: integer minor units in SQLite, NUMERIC in PostgreSQL."""

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int = 2, precision: int = 16) -> None:
        super().__init__()
        self.scale = scale
        self.precision = precision
        self._factor = Decimal(10) ** scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: object, dialect: Dialect) -> object:
        if value is None:
            return None
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        d = d.quantize(self._quantum)
        if dialect.name == "sqlite":
            return int(d * self._factor)
        return d

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            # SUM() of integers stays an integer; AVG() may give a float.
            return (Decimal(str(value)) / self._factor).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)  # type: ignore[arg-type]

    def stored_per_unit(self, dialect: Dialect) -> float:
        """What a stored amount is divided by to give rupees, for readers that do the sums
        themselves (raw rows, floats): minor units on SQLite, the amount on PostgreSQL."""
        return float(self._factor) if dialect.name == "sqlite" else 1.0

    @property
    def python_type(self) -> type:
        return Decimal

    def __repr__(self) -> str:
        # Alembic renders types with repr(); the scale must survive into migrations.
        return f"Money(scale={self.scale}, precision={self.precision})"


def money_type(column: Any) -> Money:
    """The :class:`Money` type of a model's money column (``Product.price``)."""
    money = column.type
    assert isinstance(money, Money), f"{column} is not a Money column"
    return money


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both back ends (SQLite keeps them as naive UTC text)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        value = value.astimezone(dt.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if not isinstance(value, dt.datetime):
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
