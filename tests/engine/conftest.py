"""Fixtures shared by the engine tests."""

from __future__ import annotations

import pytest
import torch

from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config


@pytest.fixture(scope="module")
def G() -> Generator:
    """A random 16 px StyleGAN2 with its mean latent computed (the inversion's start).
    A test module may define its own ``G`` instead."""
    torch.manual_seed(0)
    g = Generator(StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))).eval()
    with torch.no_grad():
        g.latent_avg.copy_(S.mean_latent(g, 1024))
    return g
