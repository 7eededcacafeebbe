"""A tiny random StyleGAN2 generator stored the way the model store stores one, for the
tests of StyleGAN2 tools (stylemix, faces). Imports torch: import this module only from
tests that need it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from safetensors.torch import save_file

from ganpaint.engine.models.cards import METADATA_KEY
from ganpaint.engine.models.checkpoints import weights_sha256
from ganpaint.engine.models.store import ModelStore
from ganpaint.engine.models.stylegan_import import stylegan_card
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

#: the store name of the tiny generator
TINY_STYLEGAN = "tiny-gan"


def make_tiny_stylegan_store(root: Path, name: str = TINY_STYLEGAN) -> ModelStore:
    """A ModelStore at ``root`` holding one 16 px StyleGAN2 generator (seeded, with visible
    noise strength so const and random noise differ, and a computed mean latent)."""
    torch.manual_seed(0)
    config = StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))
    g = Generator(config).eval()
    with torch.no_grad():
        for pname, p in g.named_parameters():
            if pname.endswith("noise.weight"):
                p.fill_(0.3)
        g.latent_avg.copy_(S.mean_latent(g, 1024))
    # written as the store writes it; ModelStore.add would cost ~3 s of one-time CPU here
    sd = {f"g_ema.{k}": v.contiguous() for k, v in g.state_dict().items()}
    card = dataclasses.replace(stylegan_card(config), sha256=weights_sha256(sd), name=name)
    save_file(sd, str(root / f"{name}.safetensors"), metadata={METADATA_KEY: card.to_json(indent=None)})
    return ModelStore(root=root, include_resources=False)
