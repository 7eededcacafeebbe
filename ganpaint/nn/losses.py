"""GAN losses as plain functions of discriminator outputs (logits) and images.

Naming: ``d_*`` is what the discriminator minimises, ``g_*`` what the generator minimises.
Each takes tensors of any shape (PatchGAN logits are B x 1 x h x w) and returns a scalar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F


# -- non-saturating (the original GAN with the -log D trick for the generator) -------------
def d_nonsaturating(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


# -- least squares (LSGAN, what CycleGAN trains with) ---------------------------------------
def d_lsgan(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    # halved, as the reference averages the real and the fake term
    return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())


def g_lsgan(fake_logits: torch.Tensor) -> torch.Tensor:
    return (fake_logits - 1).pow(2).mean()


# -- hinge ------------------------------------------------------------------------------------
def d_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def g_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()


# -- Wasserstein with gradient penalty ------------------------------------------------------
def d_wasserstein(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return fake_logits.mean() - real_logits.mean()


def g_wasserstein(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()


def gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    target: float = 1.0,
) -> torch.Tensor:
    """WGAN-GP: mean of (||grad D(x_hat)|| - target)^2 at random points between real and fake."""
    # real, fake: B x C x H x W (same shape); one mixing weight per sample
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = discriminator(mixed)
    (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    penalty: torch.Tensor = (norms - target).pow(2).mean()
    return penalty


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1: mean squared gradient norm of D at real samples.

    ``real`` must have ``requires_grad=True`` and ``real_logits`` computed from it.
    The usual weighting (gamma / 2) is the caller's.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    penalty: torch.Tensor = grad.pow(2).flatten(1).sum(1).mean()
    return penalty


# -- reconstruction terms -------------------------------------------------------------------
def l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (output - target).abs().mean()


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """|G_B(G_A(a)) - a|_1 (weight lambda is the caller's)."""
    return l1(reconstructed, original)


def identity_loss(same_domain_output: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """|G_A(b) - b|_1: a generator fed its own target domain should change nothing."""
    return l1(same_domain_output, original)


def feature_matching(real_features: Sequence[torch.Tensor], fake_features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean L1 between discriminator features of real and fake (pix2pixHD style).

    Real features are detached: the loss trains the generator only.
    """
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError("feature_matching needs two equally long, non-empty feature lists")
    total = sum(l1(f, r.detach()) for r, f in zip(real_features, fake_features, strict=True))
    return total / len(real_features)  # type: ignore[return-value]
