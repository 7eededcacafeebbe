"""Load one of the repository's ``tools/*.py`` scripts as a module, for its tests.

The scripts are not a package (they run as ``python tools/NAME.py``), so tests import them by
path: ``load_tool_script("eval_stylegan")`` returns the module, loaded once per process under
``<name>_under_test`` (registered in ``sys.modules`` first, as dataclasses look their module up
while the file runs). Only in a source checkout: an installed GANPaint has no tools folder.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["TOOLS_DIR", "load_tool_script"]

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools"


def load_tool_script(name: str) -> ModuleType:
    """``tools/<name>.py`` as a module (cached)."""
    key = f"{name}_under_test"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, TOOLS_DIR / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no tools/{name}.py in {TOOLS_DIR.parent}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[key] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[key]
        raise
    return mod
