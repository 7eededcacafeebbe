"""Shared helpers of the sketch plugin's tests: tiny models in a temporary model store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganpaint.engine.models.cards import ModelCard
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn import UnetConfig, UnetGenerator
from ganpaint.testing import RecordingContext


class StoreContext(RecordingContext):
    """RecordingContext whose model_path is a real model store."""

    def __init__(self, store: ModelStore, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.store = store

    def model_path(self, name: str, tool: str) -> str:
        return self.store.path_for(name, tool)


def tiny_sketch_model(store: ModelStore, name: str = "tiny-sketch", seed: int = 0) -> None:
    """A random 5-channel U-Net (ngf 4, 64 px multiple, one dropout block) stored as a sketch model."""
    torch.manual_seed(seed)
    cfg = UnetConfig(in_channels=5, ngf=4, num_downs=6)
    g = UnetGenerator(cfg)
    for m in g.modules():  # break the zero-bias symmetry of a fresh net so outputs vary
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
    sd = {f"forward.{k}": v for k, v in g.state_dict().items()}
    card = ModelCard(architecture="unet_generator", config=cfg.to_dict(), tool="sketch", name=name,
                     licence="CC0-1.0")
    store.add(sd, card, name)


def line_sketch(h: int = 40, w: int = 56) -> np.ndarray:
    """Dark outline of a box and a diagonal on white, (H, W, 3) float32."""
    img = np.ones((h, w, 3), np.float32)
    img[5, 5 : w - 5] = img[h - 6, 5 : w - 5] = 0.0
    img[5 : h - 5, 5] = img[5 : h - 5, w - 6] = 0.0
    for i in range(min(h, w) - 12):
        img[6 + i, 6 + i] = 0.0
    return img


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    s = ModelStore(tmp_path / "models", include_resources=False)
    tiny_sketch_model(s)
    return s


@pytest.fixture
def ctx(store: ModelStore) -> StoreContext:
    return StoreContext(store)


@pytest.fixture
def sketch_img() -> np.ndarray:
    return line_sketch()


@pytest.fixture
def add_tiny_model():
    """The helper that stores another tiny sketch model: add_tiny_model(store, name, seed)."""
    return tiny_sketch_model
