"""``python -m mangalm_desktop`` opens the desktop app."""

import sys

from mangalm_desktop.gui.app import main

sys.exit(main())
