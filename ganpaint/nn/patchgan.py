"""The PatchGAN discriminator of pix2pix/CycleGAN (``NLayerDiscriminator``), key-compatible.

With ``n_layers=3`` each output value sees a 70x70 patch of the input. ``model`` layout:
Conv4x4/2 in->ndf (bias), LeakyReLU; for each further layer Conv4x4/2 (width doubling, capped
at 8 ndf), norm, LeakyReLU; one Conv4x4/1 stage, norm, LeakyReLU; Conv4x4/1 -> 1 channel.
"""

from __future__ import annotations

import torch
from torch import nn

from ganpaint.nn.norms import NormKind, check_norm, conv_bias, norm_layer


class NLayerDiscriminator(nn.Module):
    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: NormKind = "batch") -> None:
        super().__init__()
        check_norm(norm)
        if n_layers < 1:
            raise ValueError("n_layers must be >= 1")
        bias = conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                norm_layer(norm, ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        # x: B x in_channels x H x W -> logits B x 1 x h x w (one per 70x70 patch)
        # with return_features: also the activation after each LeakyReLU (for feature matching)
        if not return_features:
            out: torch.Tensor = self.model(x)
            return out
        feats: list[torch.Tensor] = []
        h = x
        for layer in self.model:
            h = layer(h)
            if isinstance(layer, nn.LeakyReLU):
                # the next layer is a convolution (not in place), so h is not modified later
                feats.append(h)
        return h, feats
