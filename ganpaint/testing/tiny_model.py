"""A tiny deterministic torch model, for tests that need a real model file.

torch is imported inside the functions only, so importing ganpaint.testing (which
pytest does for every run) stays cheap.

The network is a 3x3 conv (3 -> 8), ReLU, a 1x1 conv (8 -> 3), added to the input
as a small residual and clamped to [0, 1]: (B, 3, H, W) in, same shape out. Its
weights come from a seeded generator, so a seed always gives the same file bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

#: the safetensors metadata key holding the model card (JSON)
CARD_KEY = "ganpaint.card"
ARCHITECTURE = "tiny-residual-conv"


def build_tiny_model(seed: int = 0) -> torch.nn.Module:
    """The tiny network with weights drawn from ``torch.Generator().manual_seed(seed)``."""
    import torch
    from torch import nn

    class TinyResidualConv(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # x: (B, 3, H, W) RGB in [0, 1]
            return (x + 0.1 * torch.tanh(self.conv2(torch.relu(self.conv1(x))))).clamp(0.0, 1.0)

    model = TinyResidualConv()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    return model.eval()


def save_tiny_model(path: str | Path, seed: int = 0, *, name: str = "tiny", tool: str = "tiny") -> Path:
    """Write the tiny model as safetensors with a model card in its metadata."""
    from safetensors.torch import save_file

    model = build_tiny_model(seed)
    card: dict[str, Any] = {
        "name": name,
        "tool": tool,
        "architecture": ARCHITECTURE,
        "seed": seed,
        "license": "CC0-1.0",
        "description": "A tiny deterministic network for tests (not a trained model).",
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(out), metadata={CARD_KEY: json.dumps(card, sort_keys=True)})
    return out


def load_tiny_model(path: str | Path) -> torch.nn.Module:
    """Build the network and load the weights of a file written by :func:`save_tiny_model`."""
    from safetensors.torch import load_file

    model = build_tiny_model(0)
    model.load_state_dict(load_file(str(path)))
    return model.eval()


def read_card(path: str | Path) -> dict[str, Any]:
    """The model card stored in the file's metadata."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    return dict(json.loads(meta.get(CARD_KEY, "{}")))
