"""Inpainting (DeepFill v2-style losses on the gated generator of ganpaint.nn.inpaint).

One folder of pictures ("single" data). Each step draws a hole per picture (free-form
strokes or boxes covering 10-40 %, ganpaint.train.masks) from a numpy generator keyed by
(seed, step, global picture index) (the loop's ``trainer.draws``), so resume stays exact and
several processes draw what one would; a step called outside the loop seeds it from
torch's global RNG.

Losses of the generator: hole-weighted L1 on its raw output (hole pixels x ``l1_hole``,
known pixels x ``l1_valid``), hinge adversarial loss from an SN-PatchGAN that sees the
composited picture and the hole (x ``adv_weight``), and L1 feature matching on the
discriminator's activations, real vs composited (x ``feature_matching``). The
discriminator uses the hinge loss; with ``adv_weight`` and ``feature_matching`` both 0 it
is not trained at all (a reconstruction-only run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

from ganpaint.nn import losses as L
from ganpaint.nn.inpaint import InpaintConfig, InpaintGenerator, SNPatchDiscriminator
from ganpaint.train.augment import Augment
from ganpaint.train.masks import random_masks
from ganpaint.train.recipes.base import (
    Trainer,
    adam,
    check_positive,
    check_schedule,
    eval_mode,
    linear_decay,
    set_requires_grad,
)

#: architecture name the model store knows (registered by the ganpaint-inpaint plugin)
ARCHITECTURE = "inpaint_gated"
TOOL = "inpaint"


@dataclass(frozen=True)
class InpaintRecipe:
    """Options of an inpainting run (validated at construction)."""

    id: ClassVar[str] = "inpaint"
    data_kind: ClassVar[Literal["single"]] = "single"

    width: int = 16
    dilations: tuple[int, ...] = (2, 4, 8, 16)
    #: the generator's guide fill ("" or "fsr", ganpaint.nn.inpaint_guide) and its share of
    #: the starting point in the hole
    guide: str = ""
    guide_blend: float = 0.5
    ndf: int = 32
    d_layers: int = 4
    l1_hole: float = 6.0
    l1_valid: float = 1.0
    #: the reconstruction error inside the hole: "l1" (|d|, a median-like fill) or "l2" (d^2 on
    #: the [-1, 1] scale, the mean that PSNR rewards); known pixels always take L1
    hole_loss: Literal["l1", "l2"] = "l1"
    adv_weight: float = 0.1
    feature_matching: float = 1.0
    coverage_min: float = 0.1
    coverage_max: float = 0.4
    box_share: float = 0.3
    lr: float = 4e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lr_decay_start: float = 0.6
    batch: int = 8
    crop: int = 128
    scale_jitter: float = 1.25
    flip: bool = True
    ema: float = 0.998
    #: working resolution the tool runs the model at (recorded in the card)
    resolution: int = 256

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        self.generator_config()  # validates width, dilations and the guide
        check_schedule(self)  # batch, crop, lr, betas, lr_decay_start, ema, scale_jitter
        for name in ("ndf", "d_layers", "resolution"):
            check_positive(name, getattr(self, name), integer=True)
        check_positive("d_lr", self.d_lr)
        for name in ("l1_hole", "l1_valid", "adv_weight", "feature_matching"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if not (0.0 < self.coverage_min <= self.coverage_max < 1.0):
            raise ValueError("coverage_min and coverage_max must satisfy 0 < min <= max < 1")
        if self.hole_loss not in ("l1", "l2"):
            raise ValueError(f"hole_loss must be 'l1' or 'l2', got {self.hole_loss!r}")
        if not (0.0 <= self.box_share <= 1.0):
            raise ValueError(f"box_share must be in [0, 1], got {self.box_share!r}")
        if self.crop % 4 or self.crop < 2 ** (self.d_layers + 1):
            raise ValueError(f"crop {self.crop} must be a multiple of 4 and at least {2 ** (self.d_layers + 1)}")

    def config(self) -> dict[str, Any]:
        return asdict(self)

    def augment(self) -> Augment:
        return Augment(self.crop, self.scale_jitter, self.flip)

    def lr_factor(self, step: int, total: int) -> float:
        return linear_decay(step, total, self.lr_decay_start)

    def generator_config(self) -> InpaintConfig:
        return InpaintConfig(self.width, self.dilations, guide=self.guide, guide_blend=self.guide_blend)

    def build(self, device: str) -> InpaintTrainer:
        return InpaintTrainer(self, device)

    @staticmethod
    def options_from_card(architecture: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Options that rebuild a stored inpainting generator (``ganpaint train inpaint --from``)."""
        if architecture != ARCHITECTURE:
            raise ValueError(f"an inpaint run starts from an {ARCHITECTURE} model, not {architecture}")
        gen = InpaintConfig.from_dict(dict(config))
        if gen.coarse_gain != InpaintConfig().coarse_gain:
            raise ValueError(f"its coarse_gain is {gen.coarse_gain}; the recipe trains {InpaintConfig().coarse_gain}")
        return {"width": gen.width, "dilations": gen.dilations, "guide": gen.guide, "guide_blend": gen.guide_blend}


def _psnr(a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor) -> float:
    """PSNR (dB) over the hole pixels, pictures in [-1, 1] measured on the [0, 1] scale."""
    se = ((a.float() - b.float()) / 2).pow(2) * hole
    mse = float(se.sum()) / max(float(hole.sum()) * a.shape[1], 1.0)
    return 10.0 * float(np.log10(1.0 / max(mse, 1e-10)))


class InpaintTrainer(Trainer):
    def __init__(self, recipe: InpaintRecipe, device: str) -> None:
        self.recipe = recipe
        self.device = device
        self.gen_config = recipe.generator_config()
        self.G = InpaintGenerator(self.gen_config).to(device).train()
        self.D = SNPatchDiscriminator(recipe.ndf, recipe.d_layers).to(device).train()
        self.modules = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": adam(self.G.parameters(), recipe, device),
            "D": torch.optim.Adam(self.D.parameters(), lr=recipe.d_lr, betas=recipe.betas,
                                  fused=True if torch.device(device).type in ("cpu", "cuda") else None),
        }
        self.ema_sources = {"G": self.G}

    def _holes(self, n: int, h: int, w: int, rng: np.random.Generator) -> torch.Tensor:
        r = self.recipe
        m = random_masks(rng, n, h, w, coverage=(r.coverage_min, r.coverage_max), box_share=r.box_share)
        return torch.from_numpy(m).to(self.device)

    def step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        r = self.recipe
        real = batch["A"]  # B x 3 x H x W in [-1, 1]
        b, _, h, w = real.shape
        if "hole" in batch:
            # given holes (and, for a guided model, maybe their guide fills, computed ahead:
            # tools/train_inpaint.py's pools)
            hole = batch["hole"].to(real.dtype)
        elif self.draws is not None and len(self.draws) == b:
            # in the loop: one hole per picture, keyed by (seed, step, global picture index)
            hole = torch.cat([self._holes(1, h, w, self.draws.numpy(i, "holes")) for i in range(b)])
        else:
            # called directly: the mask draw comes from torch's RNG
            hole = self._holes(b, h, w, np.random.default_rng(int(torch.randint(0, 2**62, ()))))
        known = real * (1 - hole)  # the generator never sees the hole's content
        out = self.G(known, hole, guide=batch.get("guide"))
        comp = known + out * hole

        # discriminator: hinge, real pictures vs composited fills (skipped when the
        # generator uses neither its verdict nor its features: a reconstruction-only run)
        uses_d = r.adv_weight > 0 or r.feature_matching > 0
        loss_d = None
        if uses_d:
            set_requires_grad([self.D], True)
            opt_d = self.optimizers["D"]
            opt_d.zero_grad(set_to_none=True)
            real_logits, real_feats = self.D(real, hole, return_features=True)
            fake_logits = self.D(comp.detach(), hole)
            loss_d = L.d_hinge(real_logits.float(), fake_logits.float())
            loss_d.backward()
            opt_d.step()

        # generator
        set_requires_grad([self.D], False)
        opt_g = self.optimizers["G"]
        opt_g.zero_grad(set_to_none=True)
        diff = out.float() - real.float()
        hole_err = diff.pow(2) if r.hole_loss == "l2" else diff.abs()
        loss_l1 = (hole_err * (r.l1_hole * hole) + diff.abs() * (r.l1_valid * (1 - hole))).mean()
        losses: dict[str, float] = {"G_L1": float(loss_l1.detach())}
        loss_g = loss_l1
        if uses_d:
            fake_logits, fake_feats = self.D(comp, hole, return_features=True)
            loss_adv = L.g_hinge(fake_logits.float()) * r.adv_weight
            # real features from the D pass above (before its update): saves a forward pass
            loss_fm = L.feature_matching([f.detach().float() for f in real_feats],
                                         [f.float() for f in fake_feats]) * r.feature_matching
            loss_g = loss_g + loss_adv + loss_fm
            losses["G_adv"] = float(loss_adv.detach())
            losses["G_fm"] = float(loss_fm.detach())
        loss_g.backward()
        opt_g.step()
        set_requires_grad([self.D], True)
        if loss_d is not None:
            losses["D"] = float(loss_d.detach())
        return losses

    def _fixed_holes(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        b, _, h, w = batch["A"].shape
        return self._holes(b, h, w, np.random.default_rng(12345))

    def samples(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
        real = batch["A"]
        hole = self._fixed_holes(batch)
        known = real * (1 - hole)
        out = gens["G"](known, hole)
        return {"input": known + hole * 1.0, "output": known + out.clamp(-1, 1) * hole, "target": real}

    def metric(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> tuple[str, float]:
        real = batch["A"]
        hole = self._fixed_holes(batch)
        g = gens["G"]
        with eval_mode(g):
            out = g(real * (1 - hole), hole).clamp(-1, 1)
        return "hole_psnr", _psnr(out, real, hole)

    def export(self, gens: Mapping[str, nn.Module]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        sd = {f"forward.{k}": v.detach().to("cpu", copy=True).contiguous() for k, v in gens["G"].state_dict().items()}
        return sd, {
            "architecture": ARCHITECTURE,
            "config": self.gen_config.to_dict(),
            "components": ["forward"],
            "tool": TOOL,
            "io": {"color": "RGB", "range": [-1.0, 1.0], "in_channels": 3, "out_channels": 3, "inputs": ["image", "hole"],
                   "resolution": self.recipe.resolution, "size_multiple": InpaintGenerator.size_multiple},
        }

    def load_init(self, weights: Mapping[str, torch.Tensor]) -> None:
        head = "forward."
        own = {k[len(head):]: v for k, v in weights.items() if k.startswith(head)} or dict(weights)
        self.G.load_state_dict(own, strict=True)
