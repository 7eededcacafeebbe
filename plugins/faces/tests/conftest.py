"""A tiny random StyleGAN2 generator stored in a temporary model store."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ganpaint.engine import stylegan_sampling as S
from ganpaint.engine.cards import METADATA_KEY
from ganpaint.engine.checkpoints import weights_sha256
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
    root = tmp_path_factory.mktemp("models")
    # written as the store writes it; ModelStore.add would cost ~3 s of one-time CPU here
    sd = {f"g_ema.{k}": v.contiguous() for k, v in g.state_dict().items()}
    card = dataclasses.replace(stylegan_card(config), sha256=weights_sha256(sd), name=TINY)
    save_file(sd, str(root / f"{TINY}.safetensors"), metadata={METADATA_KEY: card.to_json(indent=None)})
    return ModelStore(root=root, include_resources=False)


@pytest.fixture()
def ctx(tiny_store: ModelStore) -> RecordingContext:
    path = str(tiny_store.get(TINY).path)
    return RecordingContext(models={(TINY, "stylemix"): path, (TINY, "faces"): path})


@pytest.fixture()
def store_root(tiny_store: ModelStore) -> Path:
    return tiny_store.root
