"""A real local SMTP server for the confirmation tests (aiosmtpd), with TLS and AUTH.

``running_server(mode, pki)`` starts aiosmtpd on 127.0.0.1 with the test PKI's certificate:
``starttls`` (STARTTLS required before AUTH/MAIL) or ``tls`` (implicit TLS from the first
byte). It accepts one user/password, records every message it accepted (``messages``), every
RCPT it was asked (``rcpt_asked``) and can misbehave on purpose:
``refuse`` answers RCPT for those addresses with 550; ``drop_data`` closes the connection after
the DATA payload arrived without accepting it (the client sees the link drop mid-DATA);
``on_accept`` runs when a message was accepted (before the 250 reaches the client).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .tls import Pki

USER = "orders@mangalm.test"
PASSWORD = "s3cret-Smtp-pa55!"


@dataclass
class Recorder:
    refuse: set[str] = field(default_factory=set)
    drop_data: int = 0  # drop the connection at the next N DATA payloads
    on_accept: Callable[[], None] | None = None
    messages: list[EmailMessage] = field(default_factory=list)
    rcpt_asked: list[str] = field(default_factory=list)
    dropped: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpt_asked.append(address)
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.drop_data:
            self.drop_data -= 1
            self.dropped += 1
            server.transport.abort()  # gone before any answer to the DATA
            return "250 never seen"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        if self.on_accept is not None:
            self.on_accept()
        return "250 2.0.0 Ok: queued"


def _auth(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    host: str
    port: int
    mode: str
    recorder: Recorder


@contextlib.contextmanager
def running_server(
    mode: str, pki: Pki, recorder: Recorder | None = None
) -> Iterator[RunningServer]:
    recorder = recorder or Recorder()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    port = free_port()
    common = dict(
        hostname="127.0.0.1",
        port=port,
        authenticator=_auth,
        auth_required=True,
        server_hostname="localhost",
    )
    if mode == "tls":
        # aiosmtpd counts only STARTTLS as TLS for AUTH; here every byte is TLS already
        controller = Controller(recorder, ssl_context=ctx, auth_require_tls=False, **common)
    else:
        controller = Controller(recorder, tls_context=ctx, require_starttls=True, **common)
    controller.start()
    try:
        yield RunningServer("localhost", port, mode, recorder)
    finally:
        controller.stop()
