"""Where GANPaint keeps user data (platformdirs), and how to move it.

``GANPAINT_DATA_DIR`` moves everything (portable installs, tests).
Folders are created on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ganpaint"


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def data_dir() -> Path:
    """The root of user data: ``$GANPAINT_DATA_DIR`` or the platform's user data folder."""
    override = os.environ.get("GANPAINT_DATA_DIR")
    if override:
        return _ensure(Path(override).expanduser())
    return _ensure(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def config_dir() -> Path:
    """Settings (settings.json, disabled plugins, window layout)."""
    override = os.environ.get("GANPAINT_DATA_DIR")
    if override:
        return _ensure(Path(override).expanduser() / "config")
    return _ensure(Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)))


def cache_dir() -> Path:
    override = os.environ.get("GANPAINT_DATA_DIR")
    if override:
        return _ensure(Path(override).expanduser() / "cache")
    return _ensure(Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)))


def plugins_dir() -> Path:
    """Single-file plugins (``*.py``) dropped here are loaded at start."""
    return _ensure(data_dir() / "plugins")


def plugin_packages_dir() -> Path:
    """A folder ``pip install --target`` can fill; added to sys.path at start."""
    return _ensure(data_dir() / "plugin-packages")


def models_dir() -> Path:
    """The user's model store (imported and trained models)."""
    return _ensure(data_dir() / "models")


def runs_dir() -> Path:
    """Training runs: checkpoints and logs, resumable."""
    return _ensure(data_dir() / "runs")


def recovery_dir() -> Path:
    """Autosaved documents, offered for recovery after a crash."""
    return _ensure(data_dir() / "recovery")


def resources_dir() -> Path:
    """The read-only resources shipped with GANPaint (samples, icons, default models)."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "resources", here.parent / "resources"):
        if cand.is_dir():
            return cand
    return here.parent / "resources"
