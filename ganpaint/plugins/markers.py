"""The pluggy markers. Plugin authors use ``ganpaint.hookimpl``."""

import pluggy

PROJECT_NAME = "ganpaint"
#: Entry-point group through which plugins are discovered.
ENTRY_POINT_GROUP = "ganpaint.plugins"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
