"""Where the official-format test vectors are (the repository's own tests use them).

They live outside the repository: ``../shared/compat`` beside the checkout (NVIDIA's pickles
embed non-commercial source and are never committed), or wherever ``GANPAINT_COMPAT_DIR``
points. Tests skip when the folder is absent::

    NV = compat_dir("nvlabs")
    needs_nvlabs = pytest.mark.skipif(not NV.is_dir(), reason="NVlabs test vectors not present")
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["compat_dir"]

#: the checkout's parent holds shared/ (ganpaint/testing/compat.py -> the repository -> its parent)
_BESIDE_CHECKOUT = Path(__file__).resolve().parents[3] / "shared" / "compat"


def compat_dir(name: str) -> Path:
    """``<compat>/<name>`` from ``$GANPAINT_COMPAT_DIR``, ``../shared/compat`` or
    ``/work/shared/compat``, the first that holds it; else a path that does not exist."""
    env = os.environ.get("GANPAINT_COMPAT_DIR")
    candidates = ([Path(env)] if env else []) + [_BESIDE_CHECKOUT, Path("/work/shared/compat")]
    for c in candidates:
        if (c / name).is_dir():
            return c / name
    return candidates[0] / name
