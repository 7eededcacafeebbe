"""The sketch generator's input, shared by training and the tool.

The generator sees 5 channels, all on the [-1, 1] scale the recipes use:

    0     the sketch, grey (1 = paper, -1 = ink)
    1..3  colour hints, RGB where a hint is, 0 elsewhere
    4     the hint mask, 1 where a hint is, -1 elsewhere

Training samples hints from the ground truth (`sample_hints`): often none, else a few
flat dots or short strokes of the true colour, as a user would paint them.
"""

from __future__ import annotations

import torch

IN_CHANNELS = 5


def make_input(sketch: torch.Tensor, hint_rgb: torch.Tensor, hint_mask: torch.Tensor) -> torch.Tensor:
    """sketch B x 1 x H x W in [-1, 1]; hint_rgb B x 3 x H x W in [-1, 1]; hint_mask
    B x 1 x H x W in [0, 1] -> the B x 5 x H x W generator input."""
    m = hint_mask.clamp(0, 1)
    return torch.cat([sketch, hint_rgb * m, m * 2 - 1], 1)


def sketch_channel(a_rgb: torch.Tensor) -> torch.Tensor:
    """A B x 3 x H x W line-art picture in [-1, 1] -> its grey B x 1 x H x W channel."""
    return a_rgb.mean(1, keepdim=True)


def sample_hints(
    target: torch.Tensor, generator: torch.Generator, *, p_none: float = 0.35, max_hints: int = 12
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random hints of the true colours of ``target`` (B x 3 x H x W in [-1, 1]).

    Returns (hint_rgb B x 3 x H x W, hint_mask B x 1 x H x W in {0, 1}). Each hint is a
    flat disc of the colour under its centre (radius 1-5 px); a third of them are
    strokes: 3-8 discs along a short straight line. Drawn from ``generator`` only, so
    a training step is a function of its seed (resume stays exact)."""
    b, _, h, w = target.shape
    dev = target.device
    rgb = torch.zeros_like(target)
    mask = torch.zeros(b, 1, h, w, device=dev, dtype=target.dtype)
    yy = torch.arange(h, device=dev).view(h, 1).float()
    xx = torch.arange(w, device=dev).view(1, w).float()

    def rand() -> float:
        return float(torch.rand((), generator=generator))

    for i in range(b):
        if rand() < p_none:
            continue
        n = 1 + int(rand() * max_hints)
        for _ in range(n):
            r = 1.0 + rand() * 4.0
            cy, cx = rand() * (h - 1), rand() * (w - 1)
            points = [(cy, cx)]
            if rand() < 0.33:  # a stroke
                length = 3 + int(rand() * 6)
                dy, dx = (rand() - 0.5) * 2 * r, (rand() - 0.5) * 2 * r
                points += [(min(max(cy + k * dy, 0.0), h - 1.0), min(max(cx + k * dx, 0.0), w - 1.0))
                           for k in range(1, length)]
            for py, px in points:
                disc = ((yy - py) ** 2 + (xx - px) ** 2) <= r * r
                colour = target[i, :, int(round(py)), int(round(px))]
                rgb[i] = torch.where(disc, colour.view(3, 1, 1), rgb[i])
                mask[i, 0] = torch.where(disc, torch.ones((), device=dev, dtype=mask.dtype), mask[i, 0])
    return rgb, mask
