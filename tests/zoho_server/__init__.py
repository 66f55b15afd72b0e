"""A strict, stateful, local Zoho-compatible HTTP server for the bridge's tests and benchmark."""

from .server import Fault, ZohoServer

__all__ = ["Fault", "ZohoServer"]
