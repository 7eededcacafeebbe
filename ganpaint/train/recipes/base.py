"""What every recipe and its trainer share.

A *recipe* is a frozen dataclass (the options, validated when built). Its
``build(device)`` returns a *trainer*: the live models, optimisers and any extra
state, with ``step(batch) -> losses``. The loop (ganpaint.train.loop) owns
everything else: data, schedule, autocast, EMA, checkpoints, samples, the card.

A new recipe (inpainting, StyleGAN2, ...) implements the :class:`Recipe` protocol
and subclasses :class:`Trainer`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Literal, Protocol

import torch
from torch import nn

from ganpaint.nn import losses
from ganpaint.train.augment import Augment
from ganpaint.train.draws import SampleDraws

GanLoss = Literal["vanilla", "lsgan", "hinge"]
GAN_LOSSES: tuple[str, ...] = ("vanilla", "lsgan", "hinge")
DataKind = Literal["paired", "unpaired", "single"]


class Recipe(Protocol):
    """The options of a training method (a frozen dataclass)."""

    #: short id used on the command line and in cards ("pix2pix", "cyclegan")
    id: ClassVar[str]
    #: the data the recipe needs
    data_kind: ClassVar[DataKind]
    batch: int
    crop: int
    #: generator EMA decay; 0 keeps none
    ema: float

    def build(self, device: str) -> Trainer: ...

    def augment(self) -> Augment: ...

    def lr_factor(self, step: int, total: int) -> float: ...

    def config(self) -> dict[str, Any]: ...


class Trainer:
    """Live training state of a recipe. Subclasses fill the dictionaries and ``step``."""

    #: every module whose weights a checkpoint keeps
    modules: dict[str, nn.Module]
    #: every optimiser (keys are checkpoint names)
    optimizers: dict[str, torch.optim.Optimizer]
    #: the modules that get an EMA copy when the recipe asks for one (the generators)
    ema_sources: dict[str, nn.Module]
    #: set by the loop before each ``step``: draws keyed by (seed, step, global picture index),
    #: for recipes that draw per picture (results then do not depend on the number of
    #: processes); None when a step is called outside the loop
    draws: SampleDraws | None = None

    def step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """One optimisation step on ``batch`` (tensors on the device). Returns the losses."""
        raise NotImplementedError

    def samples(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
        """Preview pictures (B x 3 x H x W in [-1, 1]) from ``gens`` (live or EMA generators)."""
        raise NotImplementedError

    def metric(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> tuple[str, float]:
        """The final quality number (name, value), computed on held-out pictures."""
        raise NotImplementedError

    def export(self, gens: Mapping[str, nn.Module]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """(state dict, card fields describing the architecture) of the model to store."""
        raise NotImplementedError

    def load_init(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Start from stored weights (fine-tuning)."""
        raise NotImplementedError

    def generator_input(self, batch: Mapping[str, torch.Tensor], index: int) -> torch.Tensor | None:
        """What the generator reads for ``batch`` (``index`` numbers the batch, for any sampled
        conditioning); None = the recipe cannot recalibrate batch norm (see
        :func:`recalibrate_batch_norm`)."""
        return None

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors besides weights and optimisers that a checkpoint must keep."""
        return {}

    def load_extra_state(self, tensors: Mapping[str, torch.Tensor]) -> None:
        pass

    def set_lr_factor(self, factor: float) -> None:
        """Scale every optimiser's learning rate to ``initial_lr * factor``."""
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor


# --------------------------------------------------------------------------------------
# helpers shared by recipes
# --------------------------------------------------------------------------------------


def linear_decay(step: int, total: int, start_fraction: float) -> float:
    """1 until ``start_fraction * total`` steps, then linear towards 0 (the reference's
    "linear" policy, counted in steps instead of epochs)."""
    start = int(total * start_fraction)
    if step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / float(total - start + 1))


def gan_losses(kind: str) -> tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]:
    """(d_loss(real_logits, fake_logits), g_loss(fake_logits)) for a GAN loss name."""
    if kind == "vanilla":
        return losses.d_nonsaturating, losses.g_nonsaturating
    if kind == "lsgan":
        return losses.d_lsgan, losses.g_lsgan
    if kind == "hinge":
        return losses.d_hinge, losses.g_hinge
    raise ValueError(f"unknown GAN loss {kind!r} (expected one of {', '.join(GAN_LOSSES)})")


def adam(params: Any, recipe: Any, device: str) -> torch.optim.Optimizer:
    """Adam with the recipe's lr and betas. The fused kernel on CPU and CUDA: measured
    here it makes the optimiser step 8-20x faster than the default per-tensor loop
    (U-Net-256: 2.9 s -> 0.15 s per step), and it is deterministic, so resume stays exact."""
    fused = torch.device(device).type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=recipe.lr, betas=recipe.betas, fused=fused or None)


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """The reference's "normal" initialisation: conv weights N(0, 0.02), biases 0,
    batch-norm scales N(1, 0.02). Draws from torch's global RNG (seeded by the loop)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def set_requires_grad(modules: list[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


@contextlib.contextmanager
def side_effect_free(*modules: nn.Module) -> Iterator[None]:
    """Run forward passes that must not change training: no gradients, torch's RNG
    forked (dropout draws are given back), batch-norm running statistics restored."""
    saved = [[b.detach().clone() for b in m.buffers()] for m in modules]
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        try:
            yield
        finally:
            for m, bufs in zip(modules, saved, strict=True):
                for b, s in zip(m.buffers(), bufs, strict=True):
                    b.copy_(s)


@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    was = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, w in zip(modules, was, strict=True):
            m.train(w)


def check_positive(name: str, value: float, *, integer: bool = False, allow_zero: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if not ok or isinstance(value, bool) or (value < 0 if allow_zero else value <= 0):
        kind = "an integer" if integer else "a number"
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {kind} {bound}, got {value!r}")


def check_schedule(r: Any) -> None:
    """Validation of the batch, optimiser, schedule and augmentation options that every
    recipe here has (pix2pix, CycleGAN, inpainting)."""
    check_positive("batch", r.batch, integer=True)
    check_positive("crop", r.crop, integer=True)
    check_positive("lr", r.lr)
    if len(r.betas) != 2 or not all(0.0 <= b < 1.0 for b in r.betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {r.betas!r}")
    if not (0.0 <= r.lr_decay_start <= 1.0):
        raise ValueError(f"lr_decay_start must be a fraction in [0, 1], got {r.lr_decay_start!r}")
    if not (0.0 <= r.ema < 1.0):
        raise ValueError(f"ema must be in [0, 1) (0 = off), got {r.ema!r}")
    if not (1.0 <= r.scale_jitter <= 4.0):
        raise ValueError(f"scale_jitter must be in [1, 4], got {r.scale_jitter!r}")


def check_common(r: Any) -> None:
    """Validation of the options every image-to-image GAN recipe here has."""
    check_schedule(r)
    if r.gan_loss not in GAN_LOSSES:
        raise ValueError(f"gan_loss must be one of {', '.join(GAN_LOSSES)}, got {r.gan_loss!r}")
    if r.norm not in ("batch", "instance", "none"):
        raise ValueError(f"norm must be batch, instance or none, got {r.norm!r}")
    check_positive("ngf", r.ngf, integer=True)
    check_positive("ndf", r.ndf, integer=True)
    check_positive("d_layers", r.d_layers, integer=True)


def recalibrate_batch_norm(module: nn.Module, inputs: Iterable[torch.Tensor]) -> int:
    """Re-estimate every BatchNorm's running statistics of ``module`` as the plain average over
    ``inputs`` (forward passes with batch norm collecting and dropout OFF, as at inference).

    Why: a pix2pix generator trained with small batches, dropout and an adversarial loss ends
    with running statistics that do not describe what it sees at inference (dropout changes
    the variance; the last ~10 batches dominate a momentum average). Measured on the sketch
    model after 2,000 steps: eval-mode hole-free PSNR 5.9 dB / SSIM 0.31 on 32 held-out
    drawings as trained, 13.9 dB / 0.68 after recalibrating on 40 training batches of 16.
    Returns the number of batch-norm layers; the module is left in eval mode."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    saved = [m.momentum for m in norms]
    module.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.train()
    try:
        with torch.no_grad():
            for x in inputs:
                module(x)
    finally:
        for m, mom in zip(norms, saved, strict=True):
            m.momentum = mom
        module.eval()
    return len(norms)
