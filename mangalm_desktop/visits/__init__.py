"""The visit (call screen): order, no-order reason, shelf stock, collection and next call, saved
in one local transaction (docs/visits.md)."""
