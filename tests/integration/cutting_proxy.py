"""A loopback TCP proxy in front of PostgreSQL that cuts connections on purpose.

Each accepted connection gets a cut plan from ``proxy.plan`` (a callable, or None for "never"):

- ``("time", seconds)``: cut that long after the connection opened (mid-query, anywhere);
- ``("bytes", n)``: cut once n bytes went from server to client (mid-result);
- ``("commit",)``: cut when the server's ``COMMIT`` completion arrives, *without* passing it
  on: the transaction is committed but the client never hears so (the lost-ack case).

- ``("silent", n)``: once n bytes went from server to client, pass nothing more either way
  but keep both connections open (a stuck middlebox: no error, no data, ever).

Cutting means both sockets are shut down at once, as a dropped Wi-Fi link or a NAT timeout
would look to both ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Plan = tuple | None


class CuttingProxy:
    def __init__(self, upstream: Callable[[], socket.socket]) -> None:
        self.upstream = upstream
        self.plan: Callable[[], Plan] | None = None
        self.cuts = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            plan = self.plan() if self.plan else None
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client, plan), daemon=True).start()

    def _serve(self, client: socket.socket, plan: Plan) -> None:
        try:
            server = self.upstream()
        except OSError:
            client.close()
            return
        done = threading.Event()

        def cut() -> None:
            if done.is_set():
                return
            done.set()
            with self._lock:
                self.cuts += 1
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

        def close_quietly() -> None:
            if done.is_set():
                return
            done.set()
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.close()

        sent_to_client = 0
        silent = threading.Event()

        def pump(src: socket.socket, dst: socket.socket, to_client: bool) -> None:
            nonlocal sent_to_client
            try:
                while not done.is_set():
                    data = src.recv(65536)
                    if not data:
                        break
                    if silent.is_set():
                        continue  # swallowed: the link carries nothing any more
                    going_silent = plan is not None and plan[0] == "silent"
                    if to_client and going_silent and sent_to_client + len(data) >= plan[1]:
                        keep = max(0, plan[1] - sent_to_client)
                        dst.sendall(data[:keep])
                        silent.set()
                        with self._lock:
                            self.cuts += 1
                        continue
                    if to_client and plan is not None:
                        if plan[0] == "commit" and b"COMMIT\x00" in data:
                            cut()
                            return
                        if plan[0] == "bytes" and sent_to_client + len(data) >= plan[1]:
                            keep = max(0, plan[1] - sent_to_client)
                            dst.sendall(data[:keep])
                            cut()
                            return
                        sent_to_client += len(data)
                    dst.sendall(data)
            except OSError:
                pass
            close_quietly()

        if plan is not None and plan[0] == "time":
            timer = threading.Timer(plan[1], cut)
            timer.daemon = True
            timer.start()
        threading.Thread(target=pump, args=(server, client, True), daemon=True).start()
        pump(client, server, False)


def unix_upstream(socket_path: str) -> Callable[[], socket.socket]:
    def connect() -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(socket_path)
        return s

    return connect


def pg_proxy(pg_server: object) -> CuttingProxy:
    """A proxy in front of the test session's PostgreSQL (its Unix socket)."""
    from urllib.parse import parse_qsl, urlsplit

    uri = pg_server.get_uri()  # type: ignore[attr-defined]
    socket_dir = dict(parse_qsl(urlsplit(uri).query))["host"]
    port = pg_server.get_postmaster_info().port or 5432  # type: ignore[attr-defined]
    return CuttingProxy(unix_upstream(f"{socket_dir}/.s.PGSQL.{port}"))
