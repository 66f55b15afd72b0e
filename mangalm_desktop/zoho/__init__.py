"""The Zoho bridge (DESIGN §4): keeps the central PostgreSQL and Zoho CRM/Books in step.

Pieces, each small and Qt-free: :mod:`.config` (data centres, settings), :mod:`.clock`
(injectable time so limits and backoff are testable), :mod:`.ratelimit`, :mod:`.auth`
(OAuth refresh-token flow, tokens in the keyring), :mod:`.client` (httpx, retries,
pagination), :mod:`.mapping` (Zoho JSON ↔ our rows), :mod:`.jobs` (pull/push) and
:mod:`.bridge` (one run under a PostgreSQL advisory lock, status, parked records).
"""
