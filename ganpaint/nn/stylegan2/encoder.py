"""A small encoder that guesses a StyleGAN2 latent from a picture: the starting point of an
inversion (the optimisation then refines it), instead of the mean latent.

Picture (N, 3, S, S) in [-1, 1] -> w (N, style_dim): strided 3x3 convolutions halve the
side down to 4 px (widths double from ``width`` up to ``max_width``), then two linear layers.
The output is ``w_avg + delta``, so an untrained encoder starts at the mean latent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class EncoderConfig:
    size: int  # the generator's resolution (pictures are resized to it)
    style_dim: int
    width: int = 32
    max_width: int = 256

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderConfig:
        return cls(**{k: int(v) for k, v in data.items() if k in ("size", "style_dim", "width", "max_width")})


class LatentEncoder(nn.Module):
    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        if config.size < 8 or config.size & (config.size - 1):
            raise ValueError(f"encoder size must be a power of two >= 8, got {config.size}")
        self.config = config
        layers: list[nn.Module] = [nn.Conv2d(3, config.width, 3, padding=1), nn.LeakyReLU(0.2)]
        ch, side = config.width, config.size
        while side > 4:
            out = min(ch * 2, config.max_width)
            layers += [nn.Conv2d(ch, out, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                       nn.Conv2d(out, out, 3, padding=1), nn.LeakyReLU(0.2)]
            ch, side = out, side // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(ch * 16, 512), nn.LeakyReLU(0.2),
                                  nn.Linear(512, config.style_dim))
        nn.init.zeros_(self.head[-1].weight)  # type: ignore[arg-type]
        nn.init.zeros_(self.head[-1].bias)  # type: ignore[arg-type]
        self.register_buffer("w_avg", torch.zeros(config.style_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.config.size or x.shape[-2] != self.config.size:
            x = F.interpolate(x, size=(self.config.size, self.config.size), mode="bilinear",
                              align_corners=False, antialias=True)
        delta: torch.Tensor = self.head(self.features(x))
        return self.w_avg + delta
