"""Batch-norm statistics re-estimated at the end of a run (recipes.base.recalibrate_batch_norm)."""

from __future__ import annotations

import torch
from torch import nn

from ganpaint.train.recipes.base import recalibrate_batch_norm


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 1), nn.Dropout(0.5), nn.BatchNorm2d(3))


def test_statistics_become_the_plain_average_with_dropout_off() -> None:
    net = _net()
    bn = net[2]
    bn.running_mean.fill_(50.0)
    bn.running_var.fill_(1e-3)  # stale statistics, as after a long noisy run
    gen = torch.Generator().manual_seed(1)
    inputs = [torch.randn(4, 2, 8, 8, generator=gen) * 3 + 1 for _ in range(5)]
    assert recalibrate_batch_norm(net, inputs) == 1
    feats = torch.cat([net[0](x) for x in inputs])  # what BN sees without dropout
    with torch.no_grad():
        want_mean = feats.mean(dim=(0, 2, 3))
        want_var = torch.stack([net[0](x).var(dim=(0, 2, 3), unbiased=True) for x in inputs]).mean(0)
    assert torch.allclose(bn.running_mean, want_mean, atol=1e-5)
    assert torch.allclose(bn.running_var, want_var, rtol=1e-4)  # dropout would have inflated it
    assert bn.momentum == 0.1 and not net.training and not bn.training


def test_nothing_to_do_without_batch_norm() -> None:
    net = nn.Sequential(nn.Conv2d(2, 3, 1), nn.InstanceNorm2d(3))
    assert recalibrate_batch_norm(net, [torch.randn(1, 2, 4, 4)]) == 0
