"""The document model imports neither Qt nor torch (startup time and layering depend on it)."""

import json
import subprocess
import sys

CORE_MODULES = [
    "ganpaint",
    "ganpaint.core.geometry",
    "ganpaint.core.layers",
    "ganpaint.core.blend",
    "ganpaint.core.selection",
    "ganpaint.core.history",
    "ganpaint.core.commands",
    "ganpaint.core.brush",
    "ganpaint.core.transform",
    "ganpaint.core.document",
]
HEAVY = ("PySide6", "torch", "torchvision", "superqt", "shiboken6")


def test_core_imports_neither_qt_nor_torch():
    code = (
        "import sys, json\n"
        + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "from ganpaint.core.document import Document\n"
        + "import numpy as np\n"
        + "d = Document.from_array(np.zeros((8, 8, 4), np.uint8)); d.composite(); d.rotate(90)\n"
        + f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
