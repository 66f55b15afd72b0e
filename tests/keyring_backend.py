"""The in-memory keyring backend the tests use (the OS keyring is never touched by the suite)."""

from mangalm_desktop.security.memory_keyring import MemoryKeyring

__all__ = ["MemoryKeyring"]
