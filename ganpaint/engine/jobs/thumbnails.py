"""Seed thumbnails: the pictures a seed parameter's ``thumbnails`` function draws, as a job.

A ``seed`` ParamSpec may name ``thumbnails="module:function"``; the function is

    fn(params: Mapping[str, Any], seeds: Sequence[int], size: int, ctx) -> list[np.ndarray]

one (h, w, 3) float32 RGB picture in [0, 1] per seed, about ``size`` pixels a side. ``params``
holds the tool's current values of ``ParamSpec.thumbnail_params`` (by default every parameter
but the seeds with thumbnails); ``ctx`` is the job's RunContext plus ``ctx.tool_id``, the tool
whose panel asked (for ``ctx.model_path(name, ctx.tool_id)``).

:func:`render_thumbnails` calls the function a few seeds at a time, checks what it returns and
hands every chunk, as (h, w, 3) uint8 pictures, to ``deliver`` as soon as it is ready, so a grid
can fill in while the rest renders; :func:`make_thumbnail_job` wraps that in a
:class:`~ganpaint.engine.jobs.Job` for the interactive lane. No Qt and no torch here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ganpaint.core.specs import ParamSpec, ToolError, ToolSpec
from ganpaint.engine.jobs import INTERACTIVE, Job

__all__ = [
    "CHUNK",
    "MAX_SIZE",
    "ThumbnailContext",
    "ThumbnailError",
    "Deliver",
    "load_thumbnail_function",
    "make_thumbnail_job",
    "render_thumbnails",
    "thumbnail_params",
]

#: seeds per call of the thumbnails function (pictures show up this many at a time)
CHUNK = 4
#: the largest ``size`` asked for
MAX_SIZE = 1024

#: ``deliver(seeds, pictures)``: one chunk is ready (called in the worker thread)
Deliver = Callable[[tuple[int, ...], list[np.ndarray]], None]
Resolver = Callable[[str], Callable[..., Any]]


class ThumbnailError(ToolError):
    """The thumbnails function could not be loaded, or returned something unusable."""


class ThumbnailContext:
    """The RunContext a thumbnails function receives: the job's context, with ``tool_id``
    (the tool whose parameter asked) and progress mapped into the current chunk's share."""

    def __init__(self, ctx: Any, tool_id: str = "", span: tuple[float, float] = (0.0, 1.0)) -> None:
        self._ctx = ctx
        self.tool_id = tool_id
        self.span = span

    @property
    def device(self) -> str:
        return str(getattr(self._ctx, "device", "cpu") or "cpu")

    @property
    def precision(self) -> Literal["full", "fast"]:
        return getattr(self._ctx, "precision", "full")  # type: ignore[no-any-return]

    def progress(self, fraction: float, message: str = "", preview: np.ndarray | None = None) -> None:
        a, b = self.span
        f = min(max(float(fraction), 0.0), 1.0) if np.isfinite(fraction) else 0.0
        self._ctx.progress(a + (b - a) * f, message, preview)

    def cancelled(self) -> bool:
        return bool(self._ctx.cancelled())

    def model_path(self, name: str, tool: str) -> str:
        return str(self._ctx.model_path(name, tool))


def thumbnail_params(spec: ToolSpec, param: ParamSpec | str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters ``param``'s thumbnails function gets from the tool's ``values``:
    its ``thumbnail_params``, or every parameter except the seeds that have thumbnails."""
    p = spec.param(param) if isinstance(param, str) else param
    if p.thumbnail_params is not None:
        names = list(p.thumbnail_params)
    else:
        names = [q.name for q in spec.params if not (q.kind == "seed" and q.thumbnails)]
    return {n: values[n] for n in names if n in values}


def load_thumbnail_function(ref: str, resolver: Resolver | None = None) -> Callable[..., Any]:
    """Import ``"module:function"`` (through ``resolver``, the plugin manager's ``resolve``,
    when given). A :class:`ThumbnailError` saying why otherwise."""
    try:
        if resolver is not None:
            obj: Any = resolver(ref)
        else:
            module_name, sep, attr = ref.partition(":")
            if not sep:
                raise ValueError("not a 'module:function' string")
            obj = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
    except Exception as exc:  # noqa: BLE001 - any import problem becomes one clear message
        message = getattr(exc, "message", None)
        raise ThumbnailError(message if isinstance(message, str) else
                             f"cannot load the thumbnails function {ref!r}: {type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise ThumbnailError(f"the thumbnails function {ref!r} is not callable")
    return obj  # type: ignore[no-any-return]


def _to_uint8(picture: Any, ref: str, seed: int) -> np.ndarray:
    arr = np.asarray(picture)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ThumbnailError(f"{ref}: the picture of seed {seed} has shape {arr.shape}, expected (h, w, 3)")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ThumbnailError(f"{ref}: the picture of seed {seed} is {arr.dtype}, expected float32 in [0, 1]")
    arr = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    return np.ascontiguousarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8))


def render_thumbnails(
    ref: str,
    params: Mapping[str, Any],
    seeds: Sequence[int],
    size: int,
    ctx: Any,
    *,
    tool_id: str = "",
    deliver: Deliver | None = None,
    chunk: int = CHUNK,
    resolver: Resolver | None = None,
) -> list[np.ndarray]:
    """Draw the pictures of ``seeds`` with the thumbnails function ``ref``, ``chunk`` seeds per
    call; every chunk goes to ``deliver`` when ready. Returns every picture, (h, w, 3) uint8.
    Cancel takes effect between chunks (``ctx.progress`` raises ``JobCancelled``); anything the
    function returns that breaks the contract raises :class:`ThumbnailError`."""
    seeds = tuple(int(s) for s in seeds)
    size = max(1, min(int(size), MAX_SIZE))
    chunk = max(1, int(chunk))
    ctx.progress(0.0, "loading")
    fn = load_thumbnail_function(ref, resolver)
    out: list[np.ndarray] = []
    n = len(seeds)
    for start in range(0, n, chunk):
        part = seeds[start:start + chunk]
        sub = ThumbnailContext(ctx, tool_id, (start / n, (start + len(part)) / n))
        pictures = fn(params, part, size, sub)
        if isinstance(pictures, np.ndarray) and pictures.ndim == 4:
            pictures = list(pictures)
        if not isinstance(pictures, (list, tuple)) or len(pictures) != len(part):
            got = len(pictures) if isinstance(pictures, (list, tuple)) else type(pictures).__name__
            raise ThumbnailError(f"{ref} returned {got} for {len(part)} seeds: one (h, w, 3) picture per seed")
        ready = [_to_uint8(pic, ref, seed) for pic, seed in zip(pictures, part, strict=True)]
        out.extend(ready)
        if deliver is not None:
            deliver(part, ready)
        ctx.progress((start + len(part)) / n, f"{len(out)} of {n} pictures")
    return out


def make_thumbnail_job(
    ref: str,
    params: Mapping[str, Any],
    seeds: Sequence[int],
    size: int,
    *,
    tool_id: str = "",
    deliver: Deliver | None = None,
    key: str | None = None,
    title: str = "",
    chunk: int = CHUNK,
    resolver: Resolver | None = None,
) -> Job:
    """A job (interactive lane) drawing the thumbnails of ``seeds``; ``deliver`` gets each chunk
    from the worker thread. The job's result is None (the pictures went to ``deliver``)."""
    seeds = tuple(int(s) for s in seeds)

    def work(inputs: Any, ctx: Any) -> None:
        render_thumbnails(ref, inputs, seeds, size, ctx, tool_id=tool_id, deliver=deliver, chunk=chunk,
                          resolver=resolver)

    span = f"{seeds[0]}-{seeds[-1]}" if seeds else "none"
    return Job(kind="thumbnails", lane=INTERACTIVE, fn=work, inputs=dict(params),
               key=key if key is not None else f"thumbnails:{tool_id}", title=title or f"Seed thumbnails {span}")
