"""Inversion into W+: beats the mean-latent start, resumes after cancel, refuses tiny pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganpaint.core.specs import JobCancelled
from ganpaint.latent.inversion import (
    InversionCache,
    InversionError,
    invert,
    psnr,
    reconstruction_loss,
    resize_picture,
)
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, ModulatedConv2d


def _picture(G: Generator, seed: int) -> np.ndarray:
    with torch.inference_mode():
        return S.to_pictures(S.generate(G, S.sample_z(G, 1, seed), psi=0.7))[0]


def _render(G: Generator, ws: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return S.to_pictures(S.synthesize(G, ws))[0]


def test_inversion_beats_the_mean_latent_and_reports_progress(G: Generator) -> None:
    target = _picture(G, 5)
    baseline = psnr(_render(G, S.w_avg(G)[None]), target)
    calls: list[float] = []
    st = invert(G, target, steps=25, progress=lambda f, m: calls.append(f))
    assert st.ws is not None and st.ws.shape == (1, G.n_styles, G.style_dim) and not st.ws.requires_grad
    assert calls == pytest.approx([(i + 1) / 25 for i in range(25)])
    assert psnr(_render(G, st.ws), target) > baseline + 2.0
    assert all(p.grad is None for p in G.parameters())  # the (shared) generator is untouched
    assert all(m.fused is None for m in G.modules() if isinstance(m, ModulatedConv2d))  # form restored


def test_a_larger_picture_is_resized_and_the_multiscale_loss_is_zero_on_itself(G: Generator) -> None:
    big = resize_picture(_picture(G, 3), 40, 24)
    assert big.shape == (24, 40, 3)
    st = invert(G, big, steps=2)
    assert st.steps_done == 2
    x = torch.rand(1, 3, 16, 16)
    assert float(reconstruction_loss(x, x)) == 0.0 and float(reconstruction_loss(x, x.flip(-1))) > 0


def test_too_small_picture_gets_a_clear_message(G: Generator) -> None:
    with pytest.raises(InversionError, match=r"10x12 px: inversion needs at least 16 px"):
        invert(G, np.zeros((12, 10, 3), np.float32), steps=5)


def test_cancelled_inversion_resumes_where_it_stopped(G: Generator) -> None:
    cache = InversionCache(capacity=2)
    target = _picture(G, 9)
    st = cache.state("k")

    def cancel_at_4(f: float, m: str) -> None:
        if f >= 4 / 10:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        invert(G, target, steps=10, state=st, progress=cancel_at_4)
    assert cache.state("k") is st and st.steps_done == 4
    calls: list[float] = []
    invert(G, target, steps=10, state=st, progress=lambda f, m: calls.append(f))
    assert st.steps_done == 10 and len(calls) == 6  # only the remaining steps ran
    cache.state("a"), cache.state("b")
    assert cache.state("k") is not st  # evicted: capacity 2
