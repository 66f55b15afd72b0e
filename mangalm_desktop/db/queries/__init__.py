"""Read-only queries behind the GUI's views: plain functions returning dataclasses.

They take an engine, run parameterized SQL and never import Qt, so they are tested headless and
called from GUI workers (never on the UI thread).
"""
