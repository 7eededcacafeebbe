"""ganpaint.testing.random_weights: the benchmarks' full-size networks with seeded weights."""

from __future__ import annotations

import torch

from ganpaint.testing.random_weights import random_model


def test_same_seed_same_weights_and_batch_norm_statistics_are_neutral() -> None:
    cfg = {"ngf": 4, "num_downs": 6, "norm": "batch"}
    a, b, c = (random_model("unet_generator", cfg, seed=s) for s in (0, 0, 1))
    assert not a.training and next(a.parameters()).device.type == "cpu"
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa if sa[k].is_floating_point())
    variances = [v for k, v in sa.items() if k.endswith("running_var")]
    assert variances and all(torch.equal(v, torch.ones_like(v)) for v in variances)
    weights = torch.cat([v.flatten() for k, v in sa.items() if k.endswith("weight")])
    assert 0.03 < float(weights.std()) < 0.07  # drawn at scale 0.05
    with torch.inference_mode():
        out = a(torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 3, 64, 64) and torch.isfinite(out).all()
