"""Handing one message to the store's mail server with :mod:`smtplib` — failures in words.

Why the standard library: ``smtplib`` and ``email`` speak SMTP, STARTTLS, AUTH and MIME
correctly and are maintained with Python; nothing here writes protocol by hand. What this
module adds is the classification the send queue needs (:class:`SendFailure`):

- **permanent** (a person must act; the queue does not retry by itself): the server refused
  the recipient, the sender or the message (5xx), refused the user name or password, offers no
  STARTTLS, or its certificate could not be verified;
- **transient** (the queue retries later with backoff): the server cannot be reached, timed
  out, closed the connection before accepting the message, or answered 4xx (try later).

Messages never contain the password (the server's answer to a refused login does not echo it,
and nothing here logs the conversation).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from .settings import MailSettings

log = logging.getLogger(__name__)


@dataclass
class SendFailure(Exception):
    """Why a message was not accepted, in words; ``permanent`` stops automatic retries."""

    message: str
    permanent: bool

    def __str__(self) -> str:
        return self.message


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


def _by_code(code: int, what: str, text: bytes | str) -> SendFailure:
    if code >= 500:
        return SendFailure(f"{what} ({_answer(code, text)}); it will not be retried.", True)
    return SendFailure(f"{what} for now ({_answer(code, text)}); it will be retried.", False)


def _open(settings: MailSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_s, context=context
        )
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    try:
        client.ehlo()
        if not client.has_extn("starttls"):
            raise SendFailure(
                f"The mail server {settings.host}:{settings.port} does not offer STARTTLS, so "
                "nothing was sent (mail is never sent unencrypted). Check the port and the "
                "security setting (tls is usually port 465, starttls port 587).",
                True,
            )
        client.starttls(context=context)
        client.ehlo()
    except BaseException:
        client.close()
        raise
    return client


def deliver(settings: MailSettings, password: str | None, message: EmailMessage) -> None:
    """Send ``message`` (its To: is the one recipient) or raise :class:`SendFailure`.

    Returns once the server accepted the message (``250`` after DATA); a failure to say
    goodbye after that (QUIT) does not make it undelivered."""
    recipient = str(message["To"])
    where = f"{settings.host}:{settings.port}"
    try:
        context = settings.ssl_context()
        client = _open(settings, context)
        try:
            if settings.user:
                client.login(settings.user, password or "")
            client.send_message(message, from_addr=settings.from_address, to_addrs=[recipient])
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except SendFailure:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (550, b""))
        raise _by_code(code, f"The mail server refused the recipient {recipient}", text) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _by_code(
            exc.smtp_code,
            f"The mail server refused the sender {settings.from_address}",
            exc.smtp_error,
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SendFailure(
            f"The mail server {where} refused the user name or password for {settings.user} "
            f"({_answer(exc.smtp_code, exc.smtp_error)}). Correct them in the mail settings, "
            "then Retry.",
            True,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendFailure(
            f"The mail server {where} cannot do what was asked: {exc}.", True
        ) from None
    except smtplib.SMTPDataError as exc:
        raise _by_code(
            exc.smtp_code, "The mail server refused the message", exc.smtp_error
        ) from None
    except smtplib.SMTPServerDisconnected:
        raise SendFailure(
            f"The mail server {where} closed the connection before accepting the message; "
            "it will be retried.",
            False,
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, f"The mail server {where} said no", exc.smtp_error) from None
    except ssl.SSLCertVerificationError as exc:
        raise SendFailure(
            f"The mail server {where} could not be verified ({exc.verify_message}); nothing was "
            "sent. Give the company's CA certificate in the mail settings.",
            True,
        ) from None
    except ssl.SSLError as exc:
        raise SendFailure(
            f"A secure connection to {where} could not be made ({exc.reason or exc}); nothing "
            "was sent. Check the port and the security setting.",
            True,
        ) from None
    except TimeoutError:
        raise SendFailure(
            f"The mail server {where} did not answer within {settings.timeout_s:.0f} s; "
            "it will be retried.",
            False,
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SendFailure(
            f"Cannot reach the mail server {where} ({reason}); it will be retried.", False
        ) from None
    log.info("mail to %s accepted by %s", recipient, where)
