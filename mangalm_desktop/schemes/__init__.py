"""Schemes (trade promotions): % off, quantity slabs, buy X get Y free (docs/orders.md "Schemes").

``pricing`` is pure (no SQL, no Qt): the order services and the call screen price lines with
it; ``service`` loads, creates and ends schemes; ``report`` measures their uptake and cost.
"""
