"""The ``sketch`` training recipe: pix2pix with colour hints (``ganpaint train sketch``).

H's pix2pix trainer maps 3 channels to 3. The sketch tool's generator takes 5
(sketch, hint RGB, hint mask: see ``ganpaint_sketch.hints``), with hints sampled from
the ground truth at every step, so this module extends the pix2pix recipe instead of
copying it: same options, same loop, same losses, plus

    adversarial   False = the L1-only ablation (no discriminator at all; the pix2pix
                  paper's comparison, same generator and steps)
    hint_none     chance that a training picture gets no hints
    max_hints     at most this many dots/strokes per picture

Registered through the plugin's ``ganpaint_register_recipes`` hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from ganpaint.nn import NLayerDiscriminator, UnetConfig, UnetGenerator
from ganpaint.nn import losses as L
from ganpaint.train.draws import SampleDraws
from ganpaint.train.recipes.base import adam, eval_mode, gan_losses, init_weights
from ganpaint.train.recipes.pix2pix import Pix2PixRecipe, Pix2PixTrainer
from ganpaint_sketch.hints import IN_CHANNELS, make_input, sample_hints, sketch_channel

TOOL_ID = "sketch"
RECALIBRATION_DRAWS = 1 << 40  # hint draws of the batch-norm recalibration start here


@dataclass(frozen=True)
class SketchRecipe(Pix2PixRecipe):
    """pix2pix options with the sketch tool's defaults, plus hint sampling."""

    id: ClassVar[str] = "sketch"

    ngf: int = 32
    num_downs: int = 7
    ndf: int = 32
    crop: int = 128
    batch: int = 4
    feature_matching: float = 10.0
    adversarial: bool = True
    hint_none: float = 0.35
    max_hints: int = 12
    #: batch norm re-estimated at the end (ganpaint.train.recipes.base.recalibrate_batch_norm):
    #: without it the eval-mode generator fell to 5.9 dB after 2,000 adversarial steps
    bn_recalibration: int = 160

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator != "unet":
            raise ValueError("the sketch recipe trains a U-Net generator only")
        if not 0.0 <= self.hint_none <= 1.0:
            raise ValueError(f"hint_none must be a probability in [0, 1], got {self.hint_none!r}")
        if not isinstance(self.max_hints, int) or self.max_hints < 1:
            raise ValueError(f"max_hints must be an integer >= 1, got {self.max_hints!r}")

    def generator_config(self) -> UnetConfig:
        return UnetConfig(in_channels=IN_CHANNELS, ngf=self.ngf, num_downs=self.num_downs, norm=self.norm,
                          dropout=self.dropout)

    def build(self, device: str) -> SketchTrainer:
        return SketchTrainer(self, device)

    @staticmethod
    def options_from_card(architecture: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Options that rebuild a stored sketch generator (``ganpaint train sketch --from``)."""
        if architecture != "unet_generator" or config.get("in_channels") != IN_CHANNELS:
            raise ValueError(f"a sketch run starts from a {IN_CHANNELS}-channel U-Net sketch model, "
                             f"not a {architecture} with {config.get('in_channels', 3)} input channels")
        return {k: config[k] for k in ("ngf", "num_downs", "norm", "dropout") if k in config}


def default_recipe() -> SketchRecipe:
    """The RecipeSpec factory: the recipe with its defaults (the CLI applies --set)."""
    return SketchRecipe()


class SketchTrainer(Pix2PixTrainer):
    def __init__(self, recipe: SketchRecipe, device: str) -> None:
        # not the parent's __init__: a 5-channel G, and no D at all for the L1-only ablation
        self.recipe = recipe
        self.gen_config = recipe.generator_config()
        self.G = UnetGenerator(self.gen_config)
        init_weights(self.G)
        self.G.to(device).train()
        self.modules = {"G": self.G}
        self.optimizers = {"G": adam(self.G.parameters(), recipe, device)}
        if recipe.adversarial:
            # the PatchGAN judges (generator input, picture): 5 + 3 channels
            self.D = NLayerDiscriminator(IN_CHANNELS + 3, recipe.ndf, recipe.d_layers, norm=recipe.norm)
            init_weights(self.D)
            self.D.to(device).train()
            self.modules["D"] = self.D
            self.optimizers["D"] = adam(self.D.parameters(), recipe, device)
        self.ema_sources = {"G": self.G}
        self._d_loss, self._g_loss = gan_losses(recipe.gan_loss)
        # hint draws: a private generator advanced once per step, its position in the checkpoint
        self._step_no = torch.zeros((), dtype=torch.int64)

    def _condition(self, batch: Mapping[str, torch.Tensor], step_no: int,
                   draws: SampleDraws | None = None) -> torch.Tensor:
        target = batch["B"].float().cpu()
        opts = {"p_none": self.recipe.hint_none, "max_hints": self.recipe.max_hints}
        if draws is not None and len(draws) == target.shape[0]:
            # in the loop: each picture's hints keyed by (seed, step, its global index), so a
            # picture gets the same hints however many processes share the batch
            parts = [sample_hints(target[i:i + 1], draws.torch(i, "hints"), **opts) for i in range(len(draws))]
            rgb, mask = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        else:
            rgb, mask = sample_hints(target, torch.Generator().manual_seed(0x5EED_0000 + step_no), **opts)
        dev = batch["A"].device
        return make_input(sketch_channel(batch["A"]), rgb.to(dev), mask.to(dev))

    def step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        r = self.recipe
        step_no = int(self._step_no)
        self._step_no += 1
        cond, real_b = self._condition(batch, step_no, self.draws), batch["B"]
        fake_b = self.G(cond)
        loss_l1 = L.l1(fake_b.float(), real_b.float()) * r.l1_weight
        if not r.adversarial:
            opt_g = self.optimizers["G"]
            opt_g.zero_grad(set_to_none=True)
            loss_l1.backward()
            opt_g.step()
            return {"G_L1": float(loss_l1.detach())}

        return self.adversarial_step(cond, real_b, fake_b, loss_l1)

    def generator_input(self, batch: Mapping[str, torch.Tensor], index: int) -> torch.Tensor:
        # hints drawn as in training, from draws no training step uses
        return self._condition(batch, RECALIBRATION_DRAWS + index)

    def samples(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
        cond = self._condition(batch, 0)
        hint = cond[:, 1:4] * (cond[:, 4:5] + 1) / 2 + (1 - (cond[:, 4:5] + 1) / 2) * batch["A"]
        with eval_mode(gens["G"]):
            out = gens["G"](cond)
        return {"input": hint, "output": out, "target": batch["B"]}

    def metric(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> tuple[str, float]:
        # no hints: the hardest case, and the one the judging uses
        cond = make_input(sketch_channel(batch["A"]), torch.zeros_like(batch["B"]),
                          torch.zeros_like(batch["A"][:, :1]))
        with eval_mode(gens["G"]):
            out = gens["G"](cond)
        return "l1", float((out.float() - batch["B"].float()).abs().mean()) / 2.0

    def export(self, gens: Mapping[str, nn.Module]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        sd, arch = super().export(gens)
        return sd, {**arch, "tool": TOOL_ID}

    def load_init(self, weights: Mapping[str, torch.Tensor]) -> None:
        own = {k[len("forward."):]: v for k, v in weights.items() if k.startswith("forward.")} or dict(weights)
        self.G.load_state_dict(own, strict=True)

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"sketch_step_no": self._step_no.clone()}

    def load_extra_state(self, tensors: Mapping[str, torch.Tensor]) -> None:
        if "sketch_step_no" in tensors:
            self._step_no = tensors["sketch_step_no"].detach().to("cpu", torch.int64).clone()
