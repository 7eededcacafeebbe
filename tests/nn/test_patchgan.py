"""The 70x70 PatchGAN discriminator."""

from __future__ import annotations

import torch

from ganpaint.nn import NLayerDiscriminator


def test_official_key_layout() -> None:
    d = NLayerDiscriminator(3, ndf=64, n_layers=3, norm="batch")
    shapes = {k: tuple(v.shape) for k, v in d.state_dict().items() if k.endswith("weight")}
    assert shapes == {
        "model.0.weight": (64, 3, 4, 4),
        "model.2.weight": (128, 64, 4, 4),
        "model.3.weight": (128,),
        "model.5.weight": (256, 128, 4, 4),
        "model.6.weight": (256,),
        "model.8.weight": (512, 256, 4, 4),
        "model.9.weight": (512,),
        "model.11.weight": (1, 512, 4, 4),
    }
    sd = d.state_dict()
    assert "model.0.bias" in sd and "model.2.bias" not in sd and "model.11.bias" in sd


def test_patch_grid_for_256px_is_30x30() -> None:
    d = NLayerDiscriminator(6, ndf=8)
    assert d(torch.zeros(2, 6, 256, 256)).shape == (2, 1, 30, 30)


def test_receptive_field_is_70px() -> None:
    d = NLayerDiscriminator(1, ndf=4, norm="none")
    x = torch.zeros(1, 1, 140, 140, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
    assert int(rows.max() - rows.min() + 1) == 70


def test_features_are_returned_when_asked() -> None:
    d = NLayerDiscriminator(3, ndf=4, n_layers=3, norm="instance")
    x = torch.rand(1, 3, 64, 64)
    logits, feats = d(x, return_features=True)
    assert torch.allclose(logits, d(x))
    assert [f.shape[1] for f in feats] == [4, 8, 16, 32]
