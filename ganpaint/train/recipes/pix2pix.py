"""pix2pix (Isola et al.): a conditional GAN on paired pictures, A -> B.

The generator (U-Net by default, or ResNet) is trained with a GAN loss from a
PatchGAN that sees (A, B) pairs, plus L1 to the target (weight 100) and, if asked,
feature matching on the discriminator's activations (pix2pixHD).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from ganpaint.nn import NLayerDiscriminator, ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator
from ganpaint.nn import losses as L
from ganpaint.train.augment import Augment
from ganpaint.train.recipes.base import (
    GanLoss,
    Trainer,
    adam,
    check_common,
    check_positive,
    eval_mode,
    gan_losses,
    init_weights,
    linear_decay,
    set_requires_grad,
)


@dataclass(frozen=True)
class Pix2PixRecipe:
    """Options of a pix2pix run (validated at construction)."""

    id: ClassVar[str] = "pix2pix"
    data_kind: ClassVar[Literal["paired"]] = "paired"

    generator: Literal["unet", "resnet"] = "unet"
    ngf: int = 64
    num_downs: int = 8  # U-Net depth: crops must be multiples of 2**num_downs
    n_blocks: int = 9  # ResNet generator
    norm: Literal["batch", "instance", "none"] = "batch"
    dropout: bool = True
    ndf: int = 64
    d_layers: int = 3  # 3 = the 70x70 PatchGAN
    l1_weight: float = 100.0
    gan_loss: GanLoss = "vanilla"
    feature_matching: float = 0.0
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: float = 0.5  # fraction of the run after which the lr falls linearly to 0
    batch: int = 1
    crop: int = 256
    scale_jitter: float = 1.12
    flip: bool = True
    ema: float = 0.0
    #: re-estimate the generator's batch-norm statistics on this many training batches at the
    #: end (dropout off, as at inference); 0 keeps the running averages of training
    bn_recalibration: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))
        check_common(self)
        if self.generator not in ("unet", "resnet"):
            raise ValueError(f"generator must be unet or resnet, got {self.generator!r}")
        check_positive("l1_weight", self.l1_weight, allow_zero=True)
        check_positive("bn_recalibration", self.bn_recalibration, integer=True, allow_zero=True)
        check_positive("feature_matching", self.feature_matching, allow_zero=True)
        if self.generator == "unet":
            if not isinstance(self.num_downs, int) or self.num_downs < 5:
                raise ValueError(f"num_downs must be an integer >= 5, got {self.num_downs!r}")
            m = 2**self.num_downs
        else:
            check_positive("n_blocks", self.n_blocks, integer=True, allow_zero=True)
            m = 4
        if self.crop % m or self.crop < m:
            raise ValueError(f"crop {self.crop} must be a multiple of {m} for this generator")
        if self.crop < 32:
            raise ValueError(f"crop {self.crop} is too small for the PatchGAN (at least 32)")

    def config(self) -> dict[str, Any]:
        return asdict(self)

    def augment(self) -> Augment:
        return Augment(self.crop, self.scale_jitter, self.flip)

    def lr_factor(self, step: int, total: int) -> float:
        return linear_decay(step, total, self.lr_decay_start)

    def generator_config(self) -> UnetConfig | ResnetConfig:
        if self.generator == "unet":
            return UnetConfig(ngf=self.ngf, num_downs=self.num_downs, norm=self.norm, dropout=self.dropout)
        return ResnetConfig(ngf=self.ngf, n_blocks=self.n_blocks, norm=self.norm, dropout=self.dropout)

    def build(self, device: str) -> Pix2PixTrainer:
        return Pix2PixTrainer(self, device)


def make_generator(cfg: UnetConfig | ResnetConfig) -> nn.Module:
    return UnetGenerator(cfg) if isinstance(cfg, UnetConfig) else ResnetGenerator(cfg)


class Pix2PixTrainer(Trainer):
    def __init__(self, recipe: Pix2PixRecipe, device: str) -> None:
        self.recipe = recipe
        self.gen_config = recipe.generator_config()
        self.G = make_generator(self.gen_config)
        # the discriminator judges (A, B) pairs: 6 input channels
        self.D = NLayerDiscriminator(6, recipe.ndf, recipe.d_layers, norm=recipe.norm)
        init_weights(self.G)
        init_weights(self.D)
        self.G.to(device).train()
        self.D.to(device).train()
        self.modules = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": adam(self.G.parameters(), recipe, device),
            "D": adam(self.D.parameters(), recipe, device),
        }
        self.ema_sources = {"G": self.G}
        self._d_loss, self._g_loss = gan_losses(recipe.gan_loss)

    def step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        real_a, real_b = batch["A"], batch["B"]  # B x 3 x H x W in [-1, 1]
        fake_b = self.G(real_a)
        loss_l1 = L.l1(fake_b.float(), real_b.float()) * self.recipe.l1_weight
        return self.adversarial_step(real_a, real_b, fake_b, loss_l1)

    def generator_input(self, batch: Mapping[str, torch.Tensor], index: int) -> torch.Tensor:
        return batch["A"]

    def adversarial_step(
        self, cond: torch.Tensor, real_b: torch.Tensor, fake_b: torch.Tensor, loss_l1: torch.Tensor
    ) -> dict[str, float]:
        """One D update on (cond, B) pairs, then one G update on GAN + ``loss_l1`` (+ feature
        matching). ``cond`` is what G saw; subclasses with other inputs (sketch + hints) reuse it."""
        r = self.recipe
        # discriminator: real pairs up, generated pairs down
        set_requires_grad([self.D], True)
        opt_d = self.optimizers["D"]
        opt_d.zero_grad(set_to_none=True)
        fake_logits = self.D(torch.cat([cond, fake_b.detach()], 1))
        real_logits = self.D(torch.cat([cond, real_b], 1))
        loss_d = self._d_loss(real_logits.float(), fake_logits.float())
        if r.gan_loss == "vanilla":
            loss_d = 0.5 * loss_d  # the reference halves D's objective
        loss_d.backward()
        opt_d.step()

        # generator: fool D, stay close to the target
        set_requires_grad([self.D], False)
        opt_g = self.optimizers["G"]
        opt_g.zero_grad(set_to_none=True)
        out: dict[str, float] = {}
        pair_fake = torch.cat([cond, fake_b], 1)
        if r.feature_matching > 0:
            fake_logits, fake_feats = self.D(pair_fake, return_features=True)
            with torch.no_grad():
                _, real_feats = self.D(torch.cat([cond, real_b], 1), return_features=True)
            loss_fm = L.feature_matching(real_feats, fake_feats) * r.feature_matching
            out["G_fm"] = float(loss_fm.detach())
        else:
            fake_logits = self.D(pair_fake)
            loss_fm = fake_logits.new_zeros(())
        loss_gan = self._g_loss(fake_logits.float())
        loss_g = loss_gan + loss_l1 + loss_fm
        loss_g.backward()
        opt_g.step()
        set_requires_grad([self.D], True)
        return {"G_gan": float(loss_gan.detach()), "G_L1": float(loss_l1.detach()), **out, "D": float(loss_d.detach())}

    def samples(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
        # train-mode forward, as the reference's test script runs pix2pix; the caller
        # makes it side-effect free
        return {"input": batch["A"], "output": gens["G"](batch["A"]), "target": batch["B"]}

    def metric(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> tuple[str, float]:
        g = gens["G"]
        with eval_mode(g):
            out = g(batch["A"])
        # mean absolute error on the [0, 1] scale
        return "l1", float((out.float() - batch["B"].float()).abs().mean()) / 2.0

    def export(self, gens: Mapping[str, nn.Module]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        # the model store's layout: one component, "forward", as a key prefix
        arch = "unet_generator" if isinstance(self.gen_config, UnetConfig) else "resnet_generator"
        sd = {f"forward.{k}": v.detach().to("cpu", copy=True).contiguous() for k, v in gens["G"].state_dict().items()}
        return sd, {"architecture": arch, "config": self.gen_config.to_dict(), "components": ["forward"]}

    def load_init(self, weights: Mapping[str, torch.Tensor]) -> None:
        own = _pick_generator(weights, ("G", "G_A", "forward", "netG", "netG_A"))
        self.G.load_state_dict(own, strict=True)


def _pick_generator(weights: Mapping[str, torch.Tensor], prefixes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """The weights of one generator: the plain keys, or those under the first known prefix."""
    if any(k.startswith("model.") for k in weights):
        return {k: v for k, v in weights.items() if k.startswith("model.")}
    for p in prefixes:
        head = p + "."
        sub = {k[len(head) :]: v for k, v in weights.items() if k.startswith(head)}
        if sub:
            return sub
    return dict(weights)
