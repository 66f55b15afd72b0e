"""Frozen CLI entry point (PyInstaller runs this as __main__)."""

import sys

from mangalm_desktop.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
