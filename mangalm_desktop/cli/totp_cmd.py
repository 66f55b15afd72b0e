"""``mangalm totp``: set up or remove the optional second factor of a manager or admin.

``enrol USER --qr FILE`` creates a new secret in this computer's keyring and writes a QR code
(PNG) to scan with any authenticator app; from then on the desktop sign-in asks that user for
a 6-digit code after the password. ``check USER CODE`` tries a code; ``remove USER`` turns it
off. The secret itself is never printed or written anywhere but the keyring.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..domain.errors import UserError
from ..security import totp


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("totp", help="second factor (TOTP) for managers and admins")
    actions = p.add_subparsers(dest="totp_action", metavar="ACTION", required=True)
    enrol = actions.add_parser("enrol", help="create a secret and write its QR code")
    enrol.add_argument("user", help="the user name used to sign in (e.g. M01)")
    enrol.add_argument("--qr", metavar="FILE.png", required=True, help="where to write the QR")
    enrol.set_defaults(func=run_enrol)
    check = actions.add_parser("check", help="check a 6-digit code")
    check.add_argument("user")
    check.add_argument("code")
    check.set_defaults(func=run_check)
    remove = actions.add_parser("remove", help="turn the second factor off")
    remove.add_argument("user")
    remove.set_defaults(func=run_remove)


def run_enrol(args: argparse.Namespace) -> int:
    target = Path(args.qr)
    if target.suffix.lower() != ".png":
        raise UserError("The QR code file must end in .png.")
    if not target.parent.is_dir():
        raise UserError(f"The folder {target.parent} does not exist.")
    _uri, png = totp.enrol(args.user)
    target.write_bytes(png)
    print(f"second factor set up for {args.user}; scan {target} with an authenticator app,")
    print("then delete the image (it holds the secret)")
    return 0


def run_check(args: argparse.Namespace) -> int:
    totp.verify(args.user, args.code)
    print("code accepted")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    totp.remove(args.user)
    print(f"second factor removed for {args.user}")
    return 0
