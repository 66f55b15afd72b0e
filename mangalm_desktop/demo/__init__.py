"""The demo company: realistic, reproducible sales history for a first look, demos and tests."""

from .company import (
    DEFAULT_TODAY,
    DEMO_TODAY_KEY,
    SMALL,
    DemoSummary,
    build_demo,
    create_demo_company,
    demo_today,
    existing_data,
)

__all__ = [
    "DEFAULT_TODAY",
    "DEMO_TODAY_KEY",
    "SMALL",
    "DemoSummary",
    "build_demo",
    "create_demo_company",
    "demo_today",
    "existing_data",
]
