"""Which plugins the user switched off, remembered between runs in the user's
settings (``Settings.disabled_plugins`` in ganpaint.core.settings)."""

from __future__ import annotations

import logging
import os

from ganpaint.core.settings import Settings

log = logging.getLogger(__name__)

#: Environment variable: a comma-separated list of plugin names to skip this run.
DISABLE_ENV = "GANPAINT_DISABLE_PLUGINS"


def env_disabled() -> frozenset[str]:
    """Plugin names listed in ``$GANPAINT_DISABLE_PLUGINS`` (commas, spaces ignored)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def load_disabled(settings: Settings | None = None) -> frozenset[str]:
    """The remembered disabled list (from ``settings``, or read from the settings
    file). Never raises: a damaged file reads as the defaults."""
    current = settings if settings is not None else Settings.load()
    return frozenset(str(n) for n in current.disabled_plugins)


def save_disabled(names: frozenset[str], settings: Settings | None = None) -> bool:
    """Remember ``names`` as disabled. With the application's own ``settings`` object
    it is updated in place (so the app's next save keeps it) and saved; without,
    the file is read, changed and written. Returns False (and logs) if the file
    cannot be written: the choice then holds for this run only."""
    current = settings if settings is not None else Settings.load()
    current.disabled_plugins = sorted(names)
    try:
        current.save()
    except Exception as exc:  # an unwritable config folder must not break the Plugins dialog
        log.warning("could not remember disabled plugins: %s", exc)
        return False
    return True
