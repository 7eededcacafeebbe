"""CycleGAN (Zhu et al.): two generators between unpaired domains A and B.

G_A: A -> B and G_B: B -> A, each judged by a PatchGAN (D_A on B pictures, D_B on
A pictures, as the reference names them), with cycle consistency (lambda 10),
identity (0.5 of lambda) and LSGAN; discriminators see generated pictures from a
history pool of 50.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from ganpaint.nn import NLayerDiscriminator, ResnetConfig, ResnetGenerator
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
class CycleGANRecipe:
    """Options of a CycleGAN run (validated at construction)."""

    id: ClassVar[str] = "cyclegan"
    data_kind: ClassVar[Literal["unpaired"]] = "unpaired"

    ngf: int = 64
    n_blocks: int = 9
    norm: Literal["batch", "instance", "none"] = "instance"
    dropout: bool = False
    ndf: int = 64
    d_layers: int = 3
    lambda_cycle: float = 10.0
    identity: float = 0.5  # weight of the identity loss, relative to lambda_cycle
    gan_loss: GanLoss = "lsgan"
    pool_size: int = 50
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: float = 0.5
    batch: int = 1
    crop: int = 256
    scale_jitter: float = 1.12
    flip: bool = True
    ema: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))
        check_common(self)
        check_positive("n_blocks", self.n_blocks, integer=True, allow_zero=True)
        check_positive("lambda_cycle", self.lambda_cycle, allow_zero=True)
        check_positive("identity", self.identity, allow_zero=True)
        check_positive("pool_size", self.pool_size, integer=True, allow_zero=True)
        if self.crop % 4 or self.crop < 32:
            raise ValueError(f"crop {self.crop} must be a multiple of 4 and at least 32")

    def config(self) -> dict[str, Any]:
        return asdict(self)

    def augment(self) -> Augment:
        return Augment(self.crop, self.scale_jitter, self.flip)

    def lr_factor(self, step: int, total: int) -> float:
        return linear_decay(step, total, self.lr_decay_start)

    def generator_config(self) -> ResnetConfig:
        return ResnetConfig(ngf=self.ngf, n_blocks=self.n_blocks, norm=self.norm, dropout=self.dropout)

    def build(self, device: str) -> CycleGANTrainer:
        return CycleGANTrainer(self, device)


class ImagePool:
    """The last ``size`` generated pictures. A query returns, per picture, either
    it or (half the time, once full) a stored one that it replaces. Draws come from
    torch's RNG, so a checkpoint's RNG state reproduces them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for img in batch.detach():
            img = img.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif float(torch.rand(())) > 0.5:
                k = int(torch.randint(0, self.size, ()))
                out.append(self.images[k].clone())
                self.images[k] = img.clone()
            else:
                out.append(img)
        return torch.cat(out, 0)

    def state(self) -> torch.Tensor:
        if not self.images:
            return torch.zeros(0)
        return torch.cat(self.images, 0)

    def load(self, t: torch.Tensor, device: torch.device | str) -> None:
        self.images = [] if t.numel() == 0 else [x.unsqueeze(0).to(device) for x in t]


class CycleGANTrainer(Trainer):
    def __init__(self, recipe: CycleGANRecipe, device: str) -> None:
        self.recipe = recipe
        self.device = device
        self.gen_config = recipe.generator_config()
        self.G_A = ResnetGenerator(self.gen_config)  # A -> B
        self.G_B = ResnetGenerator(self.gen_config)  # B -> A
        self.D_A = NLayerDiscriminator(3, recipe.ndf, recipe.d_layers, norm=recipe.norm)  # judges B
        self.D_B = NLayerDiscriminator(3, recipe.ndf, recipe.d_layers, norm=recipe.norm)  # judges A
        for m in (self.G_A, self.G_B, self.D_A, self.D_B):
            init_weights(m)
            m.to(device).train()
        self.modules = {"G_A": self.G_A, "G_B": self.G_B, "D_A": self.D_A, "D_B": self.D_B}
        g_params = [*self.G_A.parameters(), *self.G_B.parameters()]
        d_params = [*self.D_A.parameters(), *self.D_B.parameters()]
        self.optimizers = {
            "G": adam(g_params, recipe, device),
            "D": adam(d_params, recipe, device),
        }
        self.ema_sources = {"G_A": self.G_A, "G_B": self.G_B}
        self.pool_a = ImagePool(recipe.pool_size)  # generated A pictures (for D_B)
        self.pool_b = ImagePool(recipe.pool_size)  # generated B pictures (for D_A)
        self._d_loss, self._g_loss = gan_losses(recipe.gan_loss)

    def step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        r = self.recipe
        real_a, real_b = batch["A"], batch["B"]  # B x 3 x H x W in [-1, 1]
        fake_b = self.G_A(real_a)
        rec_a = self.G_B(fake_b)
        fake_a = self.G_B(real_b)
        rec_b = self.G_A(fake_a)

        # generators (the discriminators are frozen meanwhile)
        set_requires_grad([self.D_A, self.D_B], False)
        opt_g = self.optimizers["G"]
        opt_g.zero_grad(set_to_none=True)
        lam = r.lambda_cycle
        if r.identity > 0:
            idt_a = L.identity_loss(self.G_A(real_b).float(), real_b.float()) * lam * r.identity
            idt_b = L.identity_loss(self.G_B(real_a).float(), real_a.float()) * lam * r.identity
        else:
            idt_a = idt_b = real_a.new_zeros((), dtype=torch.float32)
        g_a = self._g_loss(self.D_A(fake_b).float())
        g_b = self._g_loss(self.D_B(fake_a).float())
        cyc_a = L.cycle_loss(rec_a.float(), real_a.float()) * lam
        cyc_b = L.cycle_loss(rec_b.float(), real_b.float()) * lam
        (g_a + g_b + cyc_a + cyc_b + idt_a + idt_b).backward()
        opt_g.step()

        # discriminators, on pictures from the history pools
        set_requires_grad([self.D_A, self.D_B], True)
        opt_d = self.optimizers["D"]
        opt_d.zero_grad(set_to_none=True)
        pooled_b = self.pool_b.query(fake_b)
        d_a = self._d_half(self.D_A, real_b, pooled_b)
        d_a.backward()
        pooled_a = self.pool_a.query(fake_a)
        d_b = self._d_half(self.D_B, real_a, pooled_a)
        d_b.backward()
        opt_d.step()
        return {
            "G_A": float(g_a.detach()),
            "G_B": float(g_b.detach()),
            "cyc_A": float(cyc_a.detach()),
            "cyc_B": float(cyc_b.detach()),
            "idt_A": float(idt_a.detach()),
            "idt_B": float(idt_b.detach()),
            "D_A": float(d_a.detach()),
            "D_B": float(d_b.detach()),
        }

    def _d_half(self, d: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        loss = self._d_loss(d(real).float(), d(fake.detach()).float())
        # the reference averages real and fake terms; F's lsgan already does
        return loss if self.recipe.gan_loss == "lsgan" else 0.5 * loss

    def samples(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
        fake_b = gens["G_A"](batch["A"])
        fake_a = gens["G_B"](batch["B"])
        return {"A": batch["A"], "A_to_B": fake_b, "B": batch["B"], "B_to_A": fake_a}

    def metric(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> tuple[str, float]:
        ga, gb = gens["G_A"], gens["G_B"]
        with eval_mode(ga, gb):
            rec_a = gb(ga(batch["A"])).float()
            rec_b = ga(gb(batch["B"])).float()
        err = 0.5 * ((rec_a - batch["A"]).abs().mean() + (rec_b - batch["B"]).abs().mean())
        return "cycle_l1", float(err) / 2.0  # on the [0, 1] scale

    def export(self, gens: Mapping[str, nn.Module]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        sd: dict[str, torch.Tensor] = {}
        for prefix, name in (("forward", "G_A"), ("reverse", "G_B")):
            for k, v in gens[name].state_dict().items():
                sd[f"{prefix}.{k}"] = v.detach().to("cpu", copy=True).contiguous()
        card = {
            "architecture": "resnet_generator",
            "config": self.gen_config.to_dict(),
            "components": ["forward", "reverse"],
        }
        return sd, card

    def load_init(self, weights: Mapping[str, torch.Tensor]) -> None:
        fwd = {k[8:]: v for k, v in weights.items() if k.startswith("forward.")}
        rev = {k[8:]: v for k, v in weights.items() if k.startswith("reverse.")}
        if not fwd:  # a single generator: start both directions from it
            fwd = {k: v for k, v in weights.items() if not k.startswith("reverse.")}
        self.G_A.load_state_dict(fwd, strict=True)
        self.G_B.load_state_dict(rev or fwd, strict=True)

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"pool_A": self.pool_a.state(), "pool_B": self.pool_b.state()}

    def load_extra_state(self, tensors: Mapping[str, torch.Tensor]) -> None:
        self.pool_a.load(tensors.get("pool_A", torch.zeros(0)), self.device)
        self.pool_b.load(tensors.get("pool_B", torch.zeros(0)), self.device)
