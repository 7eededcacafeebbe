"""What the host knows about each plugin it saw: shown in the Plugins dialog and by
``ganpaint plugins``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PluginStatus = Literal["loaded", "failed", "disabled", "incompatible", "not responding", "loading"]
#: Where a plugin came from.
PluginSource = Literal["entry point", "packages", "file", "registered"]


@dataclass
class PluginRecord:
    """One plugin the host discovered or was given.

    status:
      ``loaded``        registered; its tools are available (``error`` may still hold a
                        non-fatal problem, e.g. a tool id another plugin already took, or
                        an event hook that raised);
      ``failed``        it raised at import, in a contribution hook, or returned malformed
                        descriptors, or its probe process crashed while loading it
                        (ganpaint.plugins.probe): nothing of it is active;
      ``not responding`` loading it in the probe process took longer than the time limit
                        (``plugin_load_timeout_s``, 10 s): it is not imported;
      ``loading``       found, being probed or imported (only seen while ``load()`` runs);
      ``disabled``      switched off (Plugins dialog, ``GANPAINT_DISABLE_PLUGINS``, safe mode);
      ``incompatible``  its ``GANPAINT_API_VERSION`` is missing or another major version.
    """

    name: str
    version: str = ""
    source: PluginSource = "registered"
    status: PluginStatus = "loaded"
    error: str = ""
    traceback: str = ""
    tools: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    recipes: list[str] = field(default_factory=list)
    #: the distribution name ("ganpaint-classic"), or "" for single-file/registered plugins
    dist: str = ""
    #: a built-in plugin (loaded in safe mode too)
    builtin: bool = False
    #: where it lives (module file or distribution folder), for the dialog's tooltip
    location: str = ""

    def add_error(self, message: str, traceback: str = "") -> None:
        """Append a problem (several may accumulate) without losing the earlier ones."""
        self.error = f"{self.error}; {message}" if self.error else message
        if traceback:
            self.traceback = f"{self.traceback}\n{traceback}" if self.traceback else traceback
