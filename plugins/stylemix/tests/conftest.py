"""A tiny random StyleGAN2 generator stored in a temporary model store."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganpaint.engine import stylegan_sampling as S
from ganpaint.engine.store import ModelStore
from ganpaint.engine.stylegan_import import stylegan_card
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config
from ganpaint.testing import RecordingContext

TINY = "tiny-gan"


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    torch.manual_seed(0)
    config = StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))
    g = Generator(config).eval()
    with torch.no_grad():
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.3)  # visible noise, so const and random noise differ
        g.latent_avg.copy_(S.mean_latent(g, 1024))
    store = ModelStore(root=tmp_path_factory.mktemp("models"), include_resources=False)
    store.add({f"g_ema.{k}": v for k, v in g.state_dict().items()}, stylegan_card(config), TINY)
    return store


@pytest.fixture()
def ctx(tiny_store: ModelStore) -> RecordingContext:
    path = str(tiny_store.get(TINY).path)
    return RecordingContext(models={(TINY, "stylemix"): path, (TINY, "faces"): path})


@pytest.fixture()
def store_root(tiny_store: ModelStore) -> Path:
    return tiny_store.root
