"""Confirmations to the store after an order is submitted (issue 19 item 5), Qt-free.

- :mod:`.settings` — the SMTP settings (a small JSON file) and the password (OS keyring only);
- :mod:`.smtp` — one message through :mod:`smtplib` with verified TLS, failures in words;
- :mod:`.service` — the laptop's visible send queue (``mail_queue``): queue, send, retry;
- :mod:`.whatsapp` — a ``wa.me`` click-to-chat link with the order summary (no paid API).
"""
