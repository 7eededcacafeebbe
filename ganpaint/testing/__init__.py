"""Helpers and pytest fixtures for testing GANPaint plugins (ours and yours).

The fixtures (``plugin_host``, ``register_plugin``, ``tiny_document``,
``tiny_model``, ``isolated_data_dir``) are registered automatically as a pytest
plugin when GANPaint is installed; see docs/plugins.md. The helpers below are
plain functions for building a request and running a tool without the editor.

Nothing here imports torch or Qt at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ganpaint.core.specs import JobCancelled, OutputMode, Role, ToolError, ToolRequest, ToolResult, ToolSpec

if TYPE_CHECKING:
    from ganpaint.plugins.manager import PluginManager

__all__ = ["RecordingContext", "make_request", "run_tool", "write_dist_info"]


class RecordingContext:
    """A ``RunContext`` for tests: records every progress call, can cancel.

    ``cancel_after=n`` makes the (n+1)-th progress call raise ``JobCancelled``,
    like the host does when the user presses Cancel. ``models`` maps
    ``(name, tool)`` to a file path for ``model_path``.
    """

    def __init__(
        self,
        *,
        cancel_after: int | None = None,
        models: Mapping[tuple[str, str], str] | None = None,
        device: str = "cpu",
        precision: Literal["full", "fast"] = "full",
    ) -> None:
        self.device = device
        self.precision: Literal["full", "fast"] = precision
        self.calls: list[tuple[float, str]] = []
        self.previews: list[np.ndarray] = []
        self._cancel_after = cancel_after
        self._cancelled = False
        self._models = dict(models or {})

    def progress(self, fraction: float, message: str = "", preview: np.ndarray | None = None) -> None:
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValueError(f"progress fraction {fraction!r} is outside [0, 1]")
        self.calls.append((float(fraction), message))
        if preview is not None:
            self.previews.append(preview)
        if self._cancel_after is not None and len(self.calls) > self._cancel_after:
            self._cancelled = True
        if self._cancelled:
            raise JobCancelled()

    def cancel(self) -> None:
        """Request cancel: the next ``progress`` call raises ``JobCancelled``."""
        self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled

    def model_path(self, name: str, tool: str) -> str:
        try:
            return self._models[(name, tool)]
        except KeyError:
            raise ToolError(f"no model {name!r} for tool {tool!r}") from None


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, dtype=np.float32, copy=True)
    out.setflags(write=False)
    return out


def make_request(
    image: np.ndarray,
    *,
    spec: ToolSpec | None = None,
    params: Mapping[str, Any] | None = None,
    mask: np.ndarray | None = None,
    alpha: np.ndarray | None = None,
    extra: Mapping[Role, np.ndarray] | None = None,
    source_name: str = "Layer",
    preview: bool = False,
) -> ToolRequest:
    """A ToolRequest as the host builds it: read-only float32 copies; with ``spec``
    the params are the tool's defaults overlaid with ``params`` (checked). ``preview``:
    a draft run, as while a live slider is dragged."""
    img = np.asarray(image)
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {img.shape}")
    images = {Role.IMAGE: _frozen(img)}
    for role, arr in (extra or {}).items():
        images[Role(role)] = _frozen(arr)
    resolved = spec.resolve_params(params or {}) if spec is not None else dict(params or {})
    return ToolRequest(
        tool_id=spec.id if spec is not None else "",
        images=MappingProxyType(images),
        params=MappingProxyType(resolved),
        alpha=None if alpha is None else _frozen(alpha),
        mask=None if mask is None else _frozen(mask),
        source_name=source_name,
        preview=bool(preview),
    )


def run_tool(
    host: PluginManager,
    tool_id: str,
    image: np.ndarray,
    params: Mapping[str, Any] | None = None,
    ctx: RecordingContext | None = None,
    **request_kw: Any,
) -> ToolResult:
    """Run a registered tool on ``image`` the way the host would: resolve its lazy
    code, call it, and check the result against the pixel convention."""
    from ganpaint.core.toolio import validate_result

    spec = host.tool(tool_id)
    request = make_request(image, spec=spec, params=params, **request_kw)
    fn = host.resolve(spec.run)
    result = fn(request, ctx if ctx is not None else RecordingContext())
    return validate_result(request, result, any_size=spec.output is OutputMode.RESIZE)


def write_dist_info(
    folder: str | Path,
    dist_name: str,
    version: str = "0.1.0",
    entry_points: Mapping[str, str] | None = None,
    group: str = "ganpaint.plugins",
) -> Path:
    """Write ``<dist>-<version>.dist-info`` (METADATA + entry_points.txt) into
    ``folder``: what pip leaves behind, so ``importlib.metadata`` finds the entry
    points once ``folder`` is on sys.path (or scanned with ``path=[folder]``)."""
    root = Path(folder)
    info = root / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]"] + [f"{name} = {target}" for name, target in (entry_points or {}).items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return info
