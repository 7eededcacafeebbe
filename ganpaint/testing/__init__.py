"""Helpers and pytest fixtures for testing GANPaint plugins (ours and yours).

The fixtures (``plugin_host``, ``register_plugin``, ``tiny_document``,
``tiny_model``, ``isolated_data_dir``) are registered automatically as a pytest
plugin when GANPaint is installed; see docs/plugins.md. The helpers below are
plain functions for building a request and running a tool without the editor.

Nothing here imports torch or Qt at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ganpaint.core.specs import (
    JobCancelled,
    ModelSpec,
    OutputMode,
    Role,
    ToolError,
    ToolRequest,
    ToolResult,
    ToolSpec,
)

if TYPE_CHECKING:
    from ganpaint.plugins.manager import PluginManager

__all__ = ["RecordingContext", "ToolRun", "make_request", "run_tool", "write_dist_info"]


class RecordingContext:
    """A ``RunContext`` for tests: records every progress call, can cancel.

    ``calls`` is the list of ``(fraction, message)`` of every ``progress`` call, in order;
    ``previews`` the preview pictures passed to it. ``cancel_after=n`` makes the (n+1)-th
    progress call raise ``JobCancelled``, like the host does when the user presses Cancel
    (``cancel()`` does so at the next call).

    ``model_path(name, tool)`` looks in ``models`` (``{(name, tool): path}``) first, then in
    the model store the way the host does (``ganpaint.engine.models.store.ModelStore``: the user's
    models in the data folder, then the models plugins ship): those of ``host`` (a
    PluginManager; ``run_tool`` sets it) and of ``plugin`` (a plugin module or object: its
    ``ganpaint_register_models()`` is called), so a test finds the models its plugin ships.
    """

    def __init__(
        self,
        *,
        cancel_after: int | None = None,
        models: Mapping[tuple[str, str], str] | None = None,
        device: str = "cpu",
        precision: Literal["full", "fast"] = "full",
        host: PluginManager | None = None,
        plugin: object | None = None,
    ) -> None:
        self.device = device
        self.precision: Literal["full", "fast"] = precision
        self.calls: list[tuple[float, str]] = []
        self.previews: list[np.ndarray] = []
        self.host = host
        self.plugin = plugin
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
        if (name, tool) in self._models:
            return self._models[(name, tool)]
        if self.host is None and self.plugin is None:
            raise ToolError(f"no model {name!r} for tool {tool!r} (give RecordingContext models={{...}}, "
                            "host= or plugin=)")
        from ganpaint.engine.models.store import ModelStore

        return ModelStore(defaults=self.shipped_models()).path_for(name, tool)

    def shipped_models(self) -> list[ModelSpec]:
        """The ModelSpecs of ``host`` and ``plugin`` (what ``model_path`` offers besides ``models``)."""
        specs: list[ModelSpec] = list(self.host.models()) if self.host is not None else []
        register = getattr(self.plugin, "ganpaint_register_models", None)
        if callable(register):
            specs += [m for m in register() if m not in specs]
        return specs


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
    m = None if mask is None else np.asarray(mask)
    if m is not None and m.dtype == np.uint8:  # a selection as the document holds it
        m = m.astype(np.float32) * np.float32(1 / 255)  # = Selection.as_float()
    return ToolRequest(
        tool_id=spec.id if spec is not None else "",
        images=MappingProxyType(images),
        params=MappingProxyType(resolved),
        alpha=None if alpha is None else _frozen(alpha),
        mask=None if m is None else _frozen(m),
        source_name=source_name,
        canvas=(int(img.shape[1]), int(img.shape[0])),
        preview=bool(preview),
    )


@dataclass(frozen=True)
class ToolRun(ToolResult):
    """What :func:`run_tool` returns: the tool's result as the editor applies it.

    ``image`` and ``alpha`` are the result after the host composited it through the mask
    (``core.toolio.composite_result``, the function the editor uses; ``alpha`` stays None
    when the tool kept the source's). ``pixels`` is the (H, W, 4) uint8 RGBA of the result
    layer the editor would make (``core.toolio.result_pixels``). ``raw`` is the tool's own
    result, checked but not composited; ``request`` what the tool was given.
    Without a mask (or with ``composited=True``) ``image`` is the tool's own picture.
    """

    raw: ToolResult | None = None
    pixels: np.ndarray | None = None
    request: ToolRequest | None = None


def run_tool(
    host: PluginManager,
    tool_id: str,
    image: np.ndarray,
    params: Mapping[str, Any] | None = None,
    ctx: RecordingContext | None = None,
    **request_kw: Any,
) -> ToolRun:
    """Run a registered tool on ``image`` the way the host does: build the request
    (:func:`make_request`; ``mask=``, ``alpha=``, ``extra=``, ``preview=``, ``source_name=``
    pass through), refuse a run without a mask when the tool requires one (``ToolError``, as
    the editor does), import the tool's lazy code, call it, check the result against the pixel
    convention (``core.toolio.validate_result``) and composite it through the mask with the
    editor's own functions. A RecordingContext without a host gets ``host``, so
    ``ctx.model_path`` finds the models the registered plugins ship."""
    from ganpaint.core.toolio import composite_result, result_pixels, validate_result

    spec = host.tool(tool_id)
    if request_kw.get("mask") is None and any(i.role is Role.MASK and i.required for i in spec.inputs):
        raise ToolError(f"{spec.title} needs a mask: make a selection or choose a mask layer")
    request = make_request(image, spec=spec, params=params, **request_kw)
    fn = host.resolve(spec.run)
    if ctx is None:
        ctx = RecordingContext(host=host)
    elif isinstance(ctx, RecordingContext) and ctx.host is None:
        ctx.host = host
    any_size = spec.output is OutputMode.RESIZE
    raw = validate_result(request, fn(request, ctx), any_size=any_size)
    if any_size and raw.image.shape[:2] != request.size[::-1]:
        rgb, alpha = raw.image, raw.alpha  # another size: the host takes it as it is
    else:
        rgb, alpha = composite_result(request, raw)
    return ToolRun(
        image=rgb,
        alpha=None if raw.alpha is None else alpha,
        name=raw.name,
        metadata=raw.metadata,
        attachments=raw.attachments,
        composited=raw.composited,
        raw=raw,
        pixels=result_pixels(request, raw, any_size=any_size),
        request=request,
    )


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
