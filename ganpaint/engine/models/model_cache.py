"""Loaded models kept per device, least recently used first out, within a memory budget.

Keyed by (file path, its size and modification time, component, device, dtype), so a model
file replaced in the store is reloaded, never served stale. The model used last is always
kept, even when it alone exceeds the budget.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["ModelCache", "default_cache", "model_bytes"]

Loader = Callable[..., nn.Module]
CacheKey = tuple[str, int, int, int, str | None, str, str]

#: default budget: 1.5 GB of weights (a full-width ResNet-9 is ~45 MB, a U-Net-256 ~210 MB)
DEFAULT_BUDGET = 1536 * 1024 * 1024


def model_bytes(model: nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])


class ModelCache:
    def __init__(self, budget_bytes: int | None = None) -> None:
        env = os.environ.get("GANPAINT_MODEL_CACHE_MB")
        if budget_bytes is None:
            budget_bytes = int(float(env) * 1024 * 1024) if env else DEFAULT_BUDGET
        self.budget_bytes = int(budget_bytes)
        self._items: OrderedDict[CacheKey, tuple[nn.Module, int]] = OrderedDict()
        self._lock = threading.RLock()
        # one lock per key so two jobs do not load the same file twice at once
        self._loading: dict[CacheKey, threading.Lock] = {}

    def _key(self, path: str | os.PathLike[str], component: str | None, device: str, dtype: torch.dtype | None) -> CacheKey:
        p = Path(path).resolve()
        st = p.stat()
        return (str(p), st.st_ino, st.st_size, st.st_mtime_ns, component, str(torch.device(device)), str(dtype))

    def get(
        self,
        path: str | os.PathLike[str],
        *,
        component: str | None = None,
        device: str = "cpu",
        dtype: torch.dtype | None = None,
        ctx: Any = None,
        loader: Loader | None = None,
    ) -> nn.Module:
        """The loaded model (loading it on first use, reporting progress to ``ctx``)."""
        key = self._key(path, component, device, dtype)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._items.get(key)
                if hit is not None:
                    self._items.move_to_end(key)
                    return hit[0]
            if ctx is not None:
                ctx.progress(0.0, f"Loading {Path(path).name}")
            if loader is None:
                from ganpaint.engine.models.loading import load_model

                loader = load_model
            model = loader(path, component=component, device=device, dtype=dtype)
            with self._lock:
                self._items[key] = (model, model_bytes(model))
                self._evict()
                self._loading.pop(key, None)
            return model

    def _evict(self) -> None:
        while len(self._items) > 1 and self.total_bytes() > self.budget_bytes:
            self._items.popitem(last=False)

    def total_bytes(self) -> int:
        with self._lock:
            return sum(size for _, size in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def forget(self, path: str | os.PathLike[str]) -> None:
        """Drop every cached model loaded from ``path`` (after a model was removed)."""
        target = str(Path(path).resolve())
        with self._lock:
            for key in [k for k in self._items if k[0] == target]:
                del self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_default: ModelCache | None = None
_default_lock = threading.Lock()


def default_cache() -> ModelCache:
    """The process-wide cache tools share."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ModelCache()
        return _default
