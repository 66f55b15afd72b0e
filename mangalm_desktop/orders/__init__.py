"""Offline order entry: drafts, validation, exact money, numbering, submit/amend/cancel via the
outbox, call log, store stock capture and the order confirmation PDF (docs/orders.md).

Everything here is Qt-free; the GUI and the ``mangalm orders`` CLI call the same functions.
"""
