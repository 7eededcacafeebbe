"""pytest fixtures for plugin authors (registered through ``ganpaint.testing.plugin``).

Tests never see the plugins installed on the machine unless they ask for them:
``plugin_host`` has discovery off and its own empty data folder.
"""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from ganpaint.core.document import Document
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.plugins.records import PluginRecord

_counter = itertools.count(1)


@pytest.fixture
def isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty user data folder (``GANPAINT_DATA_DIR``) for this test; also
    clears ``GANPAINT_DISABLE_PLUGINS`` so the caller's shell cannot leak in."""
    folder = tmp_path_factory.mktemp("ganpaint-data")
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(folder))
    monkeypatch.delenv("GANPAINT_DISABLE_PLUGINS", raising=False)
    return folder


@pytest.fixture
def plugin_host(isolated_data_dir: Path) -> Iterator[PluginManager]:
    """A loaded PluginManager with discovery off (no entry points, no user folders).

    Add plugins with ``register_plugin`` or ``plugin_host.register(obj, name)``.
    """
    from ganpaint.plugins.manager import PluginManager

    host = PluginManager(discover=False, user_dirs=False)
    host.load()
    yield host


@pytest.fixture
def register_plugin(
    plugin_host: PluginManager, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., PluginRecord]]:
    """``register_plugin(plugin, name=None) -> PluginRecord``

    ``plugin`` is a module or object with ``@hookimpl`` functions, or the source
    text of a plugin module. Source text is written to a temporary ``<name>.py``
    and loaded as a single-file plugin, so ``ToolSpec(run="<name>:run")`` resolves
    and an import error comes back as a ``failed`` record, exactly as in the app.
    Modules it created are removed from ``sys.modules`` afterwards.
    """
    created: list[str] = []

    def register(plugin: object, name: str | None = None, *, host: PluginManager | None = None) -> PluginRecord:
        target = host if host is not None else plugin_host
        if isinstance(plugin, str):
            module_name = name or f"ganpaint_test_plugin_{next(_counter)}"
            folder = tmp_path_factory.mktemp("plugin-src")
            path = folder / f"{module_name}.py"
            path.write_text(textwrap.dedent(plugin), encoding="utf-8")
            created.append(module_name)
            importlib.invalidate_caches()
            return target.load_file(path, module_name)
        return target.register(plugin, name)

    yield register
    for module_name in created:
        for key in [k for k in sys.modules if k == module_name or k.startswith(module_name + ".")]:
            del sys.modules[key]


def _tiny_pixels(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.empty((height, width, 4), np.uint8)
    background[..., 0] = (xx * 255 // max(width - 1, 1)).astype(np.uint8)
    background[..., 1] = (yy * 255 // max(height - 1, 1)).astype(np.uint8)
    background[..., 2] = 128
    background[..., 3] = 255
    paint = np.zeros((height, width, 4), np.uint8)
    paint[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = (220, 30, 30, 160)
    return background, paint


@pytest.fixture
def tiny_document() -> Document:
    """A 32x24 Document with two layers: "Background" (an opaque colour ramp) and
    "Paint" (a half-transparent red rectangle in the middle), bottom to top;
    "Paint" is active, the history is empty."""
    from ganpaint.core.document import Document
    from ganpaint.core.layers import Layer

    background, paint = _tiny_pixels(32, 24)
    layers = [Layer(background, name="Background"), Layer(paint, name="Paint")]
    # from_layers: history empty and the document clean, as if just opened
    doc = Document.from_layers(32, 24, layers)
    return doc


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny deterministic torch model saved as safetensors (seed 0),
    with a model card in its metadata; see ``ganpaint.testing.tiny_model`` for
    ``load_tiny_model`` and ``read_card``. Importing torch happens here only."""
    from ganpaint.testing.tiny_model import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny.safetensors", seed=0)
