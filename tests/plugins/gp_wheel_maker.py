"""Build tiny plugin wheels in tests (a wheel is a zip: the package, a .dist-info with METADATA,
WHEEL, entry_points.txt and RECORD), like packaging/testdata/ganpaint-posterize-demo would be."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

TOOL_SOURCE = '''
import numpy as np

from ganpaint import ToolResult, ToolSpec, hookimpl

__version__ = "{version}"
GANPAINT_API_VERSION = 1


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="{tool}", title="Invert (test wheel)", run="{module}:run")]


def run(request, ctx):
    return ToolResult(image=(1.0 - request.image).astype(np.float32))
'''


def make_wheel(folder: Path, module: str = "tp_invert", dist: str = "tp-invert", version: str = "1.0",
               tool: str = "tp_invert", requires: tuple[str, ...] = (), tag: str = "py3-none-any",
               licence: str = "License-Expression: MIT", extra_files: dict[str, bytes] | None = None) -> Path:
    """Write ``<dist>-<version>-<tag>.whl`` into ``folder`` and return its path."""
    info = f"{dist.replace('-', '_')}-{version}.dist-info"
    files: dict[str, bytes] = {
        f"{module}/__init__.py": TOOL_SOURCE.format(version=version, tool=tool, module=module).encode(),
        f"{info}/METADATA": "\n".join(
            ["Metadata-Version: 2.4", f"Name: {dist}", f"Version: {version}", licence]
            + [f"Requires-Dist: {r}" for r in requires]
        ).encode() + b"\n",
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
        f"{info}/entry_points.txt": f"[ganpaint.plugins]\n{tool} = {module}\n".encode(),
        f"{info}/top_level.txt": f"{module}\n".encode(),
    }
    files.update(extra_files or {})
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out = folder / f"{dist.replace('-', '_')}-{version}-{tag}.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out
