"""Which plugins the user switched off (remembered between runs).

Kept behind two functions so the manager does not care where the list lives.
"""

from __future__ import annotations

import json
import logging
import os

from ganpaint.core import paths

log = logging.getLogger(__name__)

#: Environment variable: a comma-separated list of plugin names to skip this run.
DISABLE_ENV = "GANPAINT_DISABLE_PLUGINS"
_FILE = "plugins.json"


def env_disabled() -> frozenset[str]:
    """Plugin names listed in ``$GANPAINT_DISABLE_PLUGINS`` (commas, spaces ignored)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def load_disabled() -> frozenset[str]:
    """The remembered disabled list; empty when nothing was saved or the file is unreadable."""
    path = paths.config_dir() / _FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data.get("disabled", [])
        return frozenset(str(n) for n in names if isinstance(n, str))
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError, AttributeError) as exc:
        # a damaged file must not stop the editor; the dialog can re-save it
        log.warning("ignoring unreadable %s: %s", path, exc)
        return frozenset()


def save_disabled(names: frozenset[str]) -> None:
    """Remember ``names`` as disabled (written atomically: beside, then renamed)."""
    path = paths.config_dir() / _FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"disabled": sorted(names)}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
