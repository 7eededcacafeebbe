"""Shared fixtures: a tiny inpainting model in a temporary model store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganpaint.engine.models.cards import ModelCard
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn.inpaint import InpaintConfig, InpaintGenerator
from ganpaint.testing import RecordingContext

TINY = "tiny-inpaint"


def _save_generator(store: ModelStore, name: str, g: torch.nn.Module, *, tool: str = "inpaint",
                   architecture: str = "inpaint_gated") -> Path:
    import ganpaint_inpaint.tool  # noqa: F401  (registers the architecture)

    config = g.config.to_dict()  # type: ignore[union-attr, operator]
    card = ModelCard(architecture=architecture, config=config, tool=tool)
    return store.add({f"forward.{k}": v for k, v in g.state_dict().items()}, card, name).path


@pytest.fixture(scope="session")
def tiny_inpaint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A width-4 generator with random (non-zero) output weights: its fill is not the
    push-pull fill, so tests see the network's own output."""
    torch.manual_seed(0)
    g = InpaintGenerator(InpaintConfig(width=4, dilations=(1, 2)))
    with torch.no_grad():
        for p in g.parameters():
            p.normal_(0.0, 0.2)
    store = ModelStore(root=tmp_path_factory.mktemp("store"))
    return _save_generator(store, TINY, g)


@pytest.fixture(scope="session")
def tiny_guided_inpaint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like tiny_inpaint, with the FSR guide (ganpaint.nn.inpaint_guide) as a second first stage."""
    torch.manual_seed(1)
    g = InpaintGenerator(InpaintConfig(width=4, dilations=(1, 2), guide="fsr"))
    with torch.no_grad():
        for p in g.parameters():
            p.normal_(0.0, 0.2)
    store = ModelStore(root=tmp_path_factory.mktemp("store-guided"))
    return _save_generator(store, TINY, g)


@pytest.fixture()
def guided_ctx(tiny_guided_inpaint: Path) -> RecordingContext:
    return RecordingContext(models={(TINY, "inpaint"): str(tiny_guided_inpaint)})


@pytest.fixture()
def ctx(tiny_inpaint: Path) -> RecordingContext:
    return RecordingContext(models={(TINY, "inpaint"): str(tiny_inpaint)})


def _picture(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """A smooth picture with some texture (float32 RGB in [0, 1])."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / max(w - 1, 1), y / max(h - 1, 1), 0.5 + 0.3 * np.sin(x / 7.0)], axis=-1)
    return np.clip(base + rng.normal(0, 0.03, (h, w, 3)), 0, 1).astype(np.float32)


@pytest.fixture()
def make_picture():  # type: ignore[no-untyped-def]
    return _picture


@pytest.fixture()
def save_generator():  # type: ignore[no-untyped-def]
    return _save_generator
