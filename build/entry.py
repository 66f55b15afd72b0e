"""Frozen entry point: one executable for the GUI and the CLI.

Started as ``mangalm`` (a link or wrapper next to the app) or with ``--cli`` as its first
argument it runs the command line; otherwise the desktop app.
"""

import sys
from pathlib import Path


def _wants_cli(argv: list[str]) -> bool:
    return Path(argv[0]).stem.lower() == "mangalm" or argv[1:2] == ["--cli"]


if __name__ == "__main__":
    if _wants_cli(sys.argv):
        if sys.argv[1:2] == ["--cli"]:
            del sys.argv[1]
        from mangalm_desktop.cli.main import main
    else:
        from mangalm_desktop.gui.app import main
    sys.exit(main())
