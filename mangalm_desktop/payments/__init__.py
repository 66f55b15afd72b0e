"""Collections: payments collected from stores, promises to pay, approval, receipts
(docs/collections.md). Qt-free; the GUI and the CLI are faces over :mod:`.service`."""
