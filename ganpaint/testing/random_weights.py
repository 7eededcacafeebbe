"""A registered architecture with seeded random weights, built without running its init
kernels, for benchmarks and tests that need a full-size network but no trained file.

torch is imported inside the function only (importing ganpaint.testing stays cheap).
"""

from __future__ import annotations

from typing import Any


def random_model(arch: str, config: dict[str, Any], *, seed: int = 0, scale: float = 0.05) -> Any:
    """``build_model(arch, config)`` on the CPU in eval mode, every floating-point tensor drawn
    from N(0, scale^2) with ``torch.Generator().manual_seed(seed)`` (the same seed gives the
    same weights), batch-norm running variances 1, integer buffers 0. Built on the meta
    device first, so nothing is initialised twice (a 1024 px generator builds in well under
    a second)."""
    import torch

    from ganpaint.engine.models.loading import build_model

    meta = build_model(arch, config, device="meta")
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for k, v in meta.state_dict().items():
        if "running_var" in k:
            sd[k] = torch.ones(v.shape)
        elif v.is_floating_point():
            sd[k] = torch.randn(v.shape, generator=gen) * scale
        else:
            sd[k] = torch.zeros(v.shape, dtype=v.dtype)
    meta.load_state_dict(sd, assign=True)
    return meta.eval()
