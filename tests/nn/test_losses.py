"""Losses: values on known inputs and gradients that point the right way."""

from __future__ import annotations

import math

import pytest
import torch

from ganpaint.nn import NLayerDiscriminator
from ganpaint.nn import losses as L


def test_nonsaturating_values() -> None:
    z = torch.zeros(4, 1, 3, 3)
    assert math.isclose(float(L.d_nonsaturating(z, z)), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(float(L.g_nonsaturating(z)), math.log(2), rel_tol=1e-6)
    big = torch.full((2,), 20.0)
    assert float(L.d_nonsaturating(big, -big)) < 1e-6


def test_lsgan_and_hinge_and_wasserstein_values() -> None:
    one, zero = torch.ones(5), torch.zeros(5)
    assert float(L.d_lsgan(one, zero)) == 0.0
    assert float(L.g_lsgan(zero)) == 1.0
    assert float(L.d_hinge(one, -one)) == 0.0
    assert float(L.d_hinge(zero, zero)) == 2.0
    assert float(L.g_hinge(torch.tensor([2.0, 4.0]))) == -3.0
    assert float(L.d_wasserstein(torch.tensor([3.0]), torch.tensor([1.0]))) == -2.0
    assert float(L.g_wasserstein(torch.tensor([3.0]))) == -3.0


@pytest.mark.parametrize("g_loss", [L.g_nonsaturating, L.g_lsgan, L.g_hinge, L.g_wasserstein])
def test_generator_losses_push_logits_up(g_loss) -> None:
    logits = torch.zeros(3, requires_grad=True)
    g_loss(logits).backward()
    assert (logits.grad < 0).all()


def test_gradient_penalty_of_a_linear_critic() -> None:
    # D(x) = sum(w * x) has gradient w everywhere: penalty = (|w| - 1)^2
    w = torch.full((1, 2, 2, 2), 0.5)  # |w| = sqrt(8 * 0.25) = sqrt(2)
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.rand(3, 2, 2, 2), torch.rand(3, 2, 2, 2)
    gp = L.gradient_penalty(critic, real, fake)
    assert math.isclose(float(gp.detach()), (math.sqrt(2) - 1) ** 2, rel_tol=1e-5)


def test_gradient_penalty_trains_the_discriminator() -> None:
    d = NLayerDiscriminator(3, ndf=4, n_layers=2, norm="none")
    gp = L.gradient_penalty(d, torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32))
    gp.backward()
    assert d.model[0].weight.grad is not None and d.model[0].weight.grad.abs().sum() > 0


def test_r1_of_a_quadratic() -> None:
    x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    logits = (x**2).sum(1)  # gradient 2x -> squared norm 4 * (1 + 4) = 20
    assert math.isclose(float(L.r1_penalty(logits, x).detach()), 20.0, rel_tol=1e-6)


def test_reconstruction_terms() -> None:
    a, b = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)
    assert float(L.l1(a, b)) == 0.5
    assert float(L.cycle_loss(a, b)) == 0.5
    assert float(L.identity_loss(b, b)) == 0.0


def test_feature_matching_trains_only_the_generator_side() -> None:
    d = NLayerDiscriminator(3, ndf=4, n_layers=2, norm="instance")
    real = torch.rand(1, 3, 32, 32)
    fake = torch.rand(1, 3, 32, 32, requires_grad=True)
    _, f_real = d(real, return_features=True)
    _, f_fake = d(fake, return_features=True)
    loss = L.feature_matching(f_real, f_fake)
    assert float(loss.detach()) > 0
    loss.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    _, f_same = d(real, return_features=True)
    assert float(L.feature_matching(f_real, f_same).detach()) == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError):
        L.feature_matching([], [])
