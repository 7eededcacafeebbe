"""Shared fixtures: tiny season pairs in a temporary model store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganpaint.engine.models.cards import ModelCard
from ganpaint.engine.models.store import ModelStore, pack_components
from ganpaint.nn import ResnetConfig, ResnetGenerator
from ganpaint.testing import RecordingContext

TINY = "tiny-season"
ONE_WAY = "one-way"


def tiny_generator(seed: int) -> ResnetGenerator:
    torch.manual_seed(seed)
    return ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1))


def save_pair(store: ModelStore, name: str, components: dict[str, torch.nn.Module]) -> Path:
    cfg = next(iter(components.values())).config.to_dict()  # type: ignore[operator, union-attr]
    card = ModelCard("resnet_generator", cfg, "season", components=tuple(components))
    sd = pack_components({k: g.state_dict() for k, g in components.items()})
    return store.add(sd, card, name).path


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    store = ModelStore(root=tmp_path_factory.mktemp("season-store"))
    return {
        TINY: save_pair(store, TINY, {"forward": tiny_generator(1), "reverse": tiny_generator(2)}),
        ONE_WAY: save_pair(store, ONE_WAY, {"forward": tiny_generator(3)}),
    }


@pytest.fixture()
def ctx(tiny_store: dict[str, Path], tiny_model: Path) -> RecordingContext:
    models = {(name, "season"): str(p) for name, p in tiny_store.items()}
    models[("tiny", "season")] = str(tiny_model)  # ganpaint.testing's tiny network: the wrong kind
    return RecordingContext(models=models)


@pytest.fixture()
def picture():  # type: ignore[no-untyped-def]
    return make_picture


def make_picture(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth picture with texture: sky-blue top, green bottom (float32 RGB in [0, 1])."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    top = (y < h * 0.4)[..., None]
    base = np.where(top, [0.45, 0.65, 0.95], [0.25, 0.55, 0.2]).astype(np.float32)
    base = base * (0.85 + 0.15 * np.sin(x / 5.0 + y / 7.0))[..., None]
    return np.clip(base + rng.normal(0, 0.03, (h, w, 3)), 0, 1).astype(np.float32)
