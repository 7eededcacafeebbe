"""StyleGAN2 (Karras et al. 2020): an unconditional GAN on one folder of pictures.

Losses and regularisers, as in the paper and rosinality's trainer:

* non-saturating logistic loss for G and D;
* lazy R1: every ``d_reg_every`` steps, ``r1 / 2 * |grad_x D(x)|^2`` on real pictures, scaled
  by ``d_reg_every``; D's Adam gets ``lr * k / (k + 1)`` and ``betas ** (k / (k + 1))`` to
  make up for it;
* EMA of G (the loop keeps it; ``ema`` is the decay per step) — the stored model;
* mixing regularisation: with probability ``mixing`` a generated picture takes its styles
  from two latents, switching at a random style input;
* DiffAugment (``diffaug``: color and translation by default; cutout on request), applied to
  every picture D sees, real or generated, differentiably, so small data sets do not let D
  over-fit.

Defaults (issue 17: the faces default came out mode-collapsed, one bald egg-shaped head for
every seed): ``r1`` is StyleGAN2-ADA's heuristic ``0.0002 * crop ** 2 / batch`` for the
faces' 64 px and batch 8 (0.1; it was 1.0, ten times that, which keeps D so smooth that G
is rewarded for the average face); cutout is off (it blanks a square of half the picture's
side in everything D sees, hiding whole attributes such as hair or beard, on 18,000 pictures
that need no augmentation against over-fitting).

Path-length regularisation is not implemented. The data is one folder (``--data``); crops
are ``crop`` px squares (the generator's resolution).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganpaint.nn.stylegan2 import Discriminator, Generator, StyleGAN2Config, diff_augment, resolutions
from ganpaint.nn.stylegan2.diffaugment import parse_policy
from ganpaint.train.augment import Augment
from ganpaint.train.recipes.base import Trainer, check_positive, eval_mode, set_requires_grad

#: the tools that list a StyleGAN2 model: the card's ``tool`` and ``extra["tools"]``
#: (ganpaint.engine.models.stylegan_import.STYLEGAN_TOOLS says the same; train never imports engine)
TOOLS: tuple[str, ...] = ("stylemix", "faces")
#: how the stored mean latent is computed (as for imports without latent_avg)
MEAN_LATENT_SAMPLES, MEAN_LATENT_SEED = 4096, 0
#: fixed latents for previews and the metric
SAMPLE_SEED = 1234


def parse_widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.replace(" ", "").split(",") if t)
    except ValueError:
        raise ValueError(f"widths must be comma-separated integers, got {text!r}") from None


@dataclass(frozen=True)
class StyleGAN2Recipe:
    """Options of a StyleGAN2 run (validated at construction)."""

    id: ClassVar[str] = "stylegan2"
    data_kind: ClassVar[Literal["single"]] = "single"

    crop: int = 64  # the generator's resolution (a power of two)
    batch: int = 8
    style_dim: int = 256  # latent size
    n_mlp: int = 4  # mapping depth
    # widths per resolution: min(channel_base // res, channel_max), unless ``widths`` lists
    # them (4 ... crop px, e.g. "256,256,256,128,64")
    channel_base: int = 4096
    channel_max: int = 256
    widths: str = ""
    # D's widths per resolution, 4 ... crop px like ``widths``; "" = G's. A wider D at full
    # resolution may give G signal where a narrow one sits at chance (issue 17's faces)
    d_widths: str = ""
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    lr_mlp: float = 0.01
    d_lr_mul: float = 1.0  # D's learning rate = lr * d_lr_mul (two time-scale update when > 1)
    r1: float = 0.1  # R1 weight (gamma); 0 = off. StyleGAN2-ADA: 0.0002 * crop ** 2 / batch
    d_reg_every: int = 16
    mixing: float = 0.9  # probability of style mixing per generated picture
    diffaug: str = "color,translation"  # "" = off; "color,translation,cutout" for tiny data sets
    ema: float = 0.998
    scale_jitter: float = 1.0
    flip: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))
        for name in ("batch", "crop", "style_dim", "n_mlp", "channel_base", "channel_max", "d_reg_every"):
            check_positive(name, getattr(self, name), integer=True)
        if self.crop < 8 or self.crop & (self.crop - 1):
            raise ValueError(f"crop must be a power of two >= 8 (the generator's resolution), got {self.crop}")
        check_positive("lr", self.lr)
        check_positive("lr_mlp", self.lr_mlp)
        check_positive("d_lr_mul", self.d_lr_mul)
        check_positive("r1", self.r1, allow_zero=True)
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        if not (0.0 <= self.mixing <= 1.0):
            raise ValueError(f"mixing must be a probability in [0, 1], got {self.mixing!r}")
        if not (0.0 <= self.ema < 1.0):
            raise ValueError(f"ema must be in [0, 1) (0 = off), got {self.ema!r}")
        if not (1.0 <= self.scale_jitter <= 4.0):
            raise ValueError(f"scale_jitter must be in [1, 4], got {self.scale_jitter!r}")
        parse_policy(self.diffaug)
        self.generator_config()  # validates the widths
        if self.d_widths:
            d = parse_widths(self.d_widths)
            if len(d) != len(self.channels()) or min(d) < 1:
                raise ValueError(f"d_widths must be {len(self.channels())} positive widths (4 ... {self.crop} px), "
                                 f"got {self.d_widths!r}")

    def d_channels(self) -> tuple[int, ...]:
        """The discriminator's widths per resolution (4 ... crop px): ``d_widths``, else G's."""
        return parse_widths(self.d_widths) if self.d_widths else self.channels()

    def channels(self) -> tuple[int, ...]:
        if self.widths:
            return parse_widths(self.widths)
        return tuple(min(self.channel_base // r, self.channel_max) or 1 for r in resolutions(self.crop))

    def generator_config(self) -> StyleGAN2Config:
        return StyleGAN2Config(size=self.crop, style_dim=self.style_dim, n_mlp=self.n_mlp,
                               channels=self.channels(), channel_multiplier=None, lr_mlp=self.lr_mlp)

    def config(self) -> dict[str, Any]:
        return asdict(self)

    def augment(self) -> Augment:
        return Augment(self.crop, self.scale_jitter, self.flip)

    def lr_factor(self, step: int, total: int) -> float:
        return 1.0  # StyleGAN2 trains at a constant rate

    def build(self, device: str) -> StyleGAN2Trainer:
        return StyleGAN2Trainer(self, device)


def options_from_card(config: Mapping[str, Any]) -> dict[str, Any]:
    """Recipe options that rebuild a stored ``stylegan2`` generator (fine-tuning with --from)."""
    cfg = StyleGAN2Config.from_dict(config)
    return {"crop": cfg.size, "style_dim": cfg.style_dim, "n_mlp": cfg.n_mlp, "lr_mlp": cfg.lr_mlp,
            "widths": ",".join(str(c) for c in cfg.channels)}


class StyleGAN2Trainer(Trainer):
    def __init__(self, recipe: StyleGAN2Recipe, device: str) -> None:
        self.recipe = recipe
        self.device = torch.device(device)
        self.gen_config = recipe.generator_config()
        # equalised-lr layers initialise themselves (unit-variance weights, scaled at run time)
        self.G = Generator(self.gen_config).to(device).train()
        self.D = Discriminator(recipe.crop, recipe.d_channels()).to(device).train()
        self.modules = {"G": self.G, "D": self.D}
        ratio = recipe.d_reg_every / (recipe.d_reg_every + 1)
        self.optimizers = {
            "G": torch.optim.Adam(self.G.parameters(), lr=recipe.lr, betas=recipe.betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=recipe.lr * recipe.d_lr_mul * ratio,
                                  betas=(recipe.betas[0] ** ratio, recipe.betas[1] ** ratio)),
        }
        self.ema_sources = {"G": self.G}
        self._steps = 0  # for the lazy R1 schedule; kept in checkpoints

    # ---------------------------------------------------------------------------- training
    def _augment(self, x: torch.Tensor, stream: str = "") -> torch.Tensor:
        if not self.recipe.diffaug:
            return x
        gens = self._gens(stream) if stream else None
        return diff_augment(x, self.recipe.diffaug, gens)

    def _gens(self, stream: str) -> list[torch.Generator] | None:
        """One generator per picture of this step (keyed by seed, step and the picture's global
        index: the loop's ``draws``), or None outside the loop (torch's global RNG)."""
        if self.draws is None:
            return None
        return self.draws.torch_all(stream, self.device)

    def _latents(self, n: int, gens: list[torch.Generator] | None = None) -> torch.Tensor:
        """ws (n, n_styles, dim) from fresh z; with probability ``mixing`` a picture switches
        from one latent to a second at a random style input (1 ... n_styles - 1). ``gens``:
        picture i's draws come from ``gens[i]``."""
        G, k = self.G, self.G.n_styles
        dev = self.device
        if gens is None:
            z = torch.randn(2 * n, G.style_dim, device=dev)
            cut = torch.randint(1, k, (n, 1), device=dev)
            mix = torch.rand(n, 1, device=dev)
        else:
            z2 = torch.cat([torch.randn(1, 2, G.style_dim, generator=g, device=dev) for g in gens])
            z = torch.cat([z2[:, 0], z2[:, 1]])
            cut = torch.cat([torch.randint(1, k, (1, 1), generator=g, device=dev) for g in gens])
            mix = torch.cat([torch.rand(1, 1, generator=g, device=dev) for g in gens])
        w = G.mapping(z)
        w1, w2 = w[:n, None].expand(-1, k, -1), w[n:, None].expand(-1, k, -1)
        cut = torch.where(mix < self.recipe.mixing, cut, torch.full_like(cut, k))
        first = torch.arange(k, device=dev)[None, :] < cut  # (n, k): style inputs taken from w1
        return torch.where(first[..., None], w1, w2)

    def _generate(self, n: int, stream: str = "") -> torch.Tensor:
        gens = self._gens(stream) if stream else None
        if gens is None or len(gens) != n:
            out: torch.Tensor = self.G(self._latents(n), "random")
            return out
        ws = self._latents(n, gens)
        # the per-layer noise, picture i's from its own generator after its latents
        per_pic = [self.G.random_noise(1, g) for g in gens]
        noise = [torch.cat(layer) for layer in zip(*per_pic, strict=True)]
        out = self.G(ws, noise)
        return out

    def step(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        r = self.recipe
        real = batch["A"]  # (B, 3, S, S) in [-1, 1]
        n = real.shape[0]
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        out: dict[str, float] = {}

        # discriminator: non-saturating logistic loss
        set_requires_grad([self.D], True)
        with torch.no_grad():
            fake = self._generate(n, "fake_d")
        fake_logits = self.D(self._augment(fake, "aug_fake_d"))
        real_logits = self.D(self._augment(real, "aug_real_d"))
        loss_d = F.softplus(fake_logits.float()).mean() + F.softplus(-real_logits.float()).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        out["D"] = float(loss_d.detach())
        out["D_real"] = float(real_logits.detach().float().mean())
        out["D_fake"] = float(fake_logits.detach().float().mean())

        # lazy R1 on real pictures (through the augmentation, as D sees them)
        if r.r1 > 0 and self._steps % r.d_reg_every == 0:
            x = real.detach().requires_grad_(True)
            logits = self.D(self._augment(x, "aug_r1"))
            (grad,) = torch.autograd.grad(logits.float().sum(), x, create_graph=True)
            penalty = grad.float().pow(2).reshape(n, -1).sum(1).mean()
            opt_d.zero_grad(set_to_none=True)
            # "+ 0 * logits": every D parameter takes part in the graph
            (r.r1 / 2 * penalty * r.d_reg_every + 0 * logits[0].float().sum()).backward()
            opt_d.step()
            out["R1"] = float(penalty.detach())

        # generator: fool D
        set_requires_grad([self.D], False)
        fake = self._generate(n, "fake_g")
        loss_g = F.softplus(-self.D(self._augment(fake, "aug_fake_g")).float()).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        set_requires_grad([self.D], True)
        self._steps += 1
        return {"G": float(loss_g.detach()), **out}

    # ---------------------------------------------------------------------------- results
    def _fixed(self, G: Generator, n: int) -> torch.Tensor:
        """n pictures of fixed z (seed SAMPLE_SEED) and fixed noise: comparable across steps."""
        gen = torch.Generator().manual_seed(SAMPLE_SEED)
        z = torch.randn(n, G.style_dim, generator=gen).to(self.device)
        noise = [torch.randn(n, 1, b.shape[2], b.shape[3], generator=gen).to(self.device) for b in G.stored_noise()]
        w = G.mapping(z)
        out: torch.Tensor = G(w[:, None].expand(-1, G.n_styles, -1), noise)
        return out

    def samples(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
        G = gens["G"]
        assert isinstance(G, Generator)
        return {"samples": grid(self._fixed(G, 16), 4), "real": grid(batch["A"][:16], 4)}

    def metric(self, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module]) -> tuple[str, float]:
        G = gens["G"]
        assert isinstance(G, Generator)
        real = batch["A"]
        with eval_mode(G):
            fake = self._fixed(G, real.shape[0])
        return "swd16", sliced_wasserstein(_small(real), _small(fake))

    def export(self, gens: Mapping[str, nn.Module]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        G = gens["G"]
        assert isinstance(G, Generator)
        sd = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in G.state_dict().items()}
        sd["latent_avg"] = G.mean_latent(MEAN_LATENT_SAMPLES, MEAN_LATENT_SEED).detach().cpu().float()
        card = {
            "architecture": "stylegan2",
            "config": self.gen_config.to_dict(),
            "components": ["g_ema"],
            "tool": TOOLS[0],
            # an unknown top-level field: ModelCard.from_dict files it under extra["tools"]
            "tools": list(TOOLS[1:]),
            "io": {"color": "RGB", "range": [-1.0, 1.0], "latent": "z", "latent_dim": self.gen_config.style_dim,
                   "in_channels": 0, "out_channels": 3},
            "latent_avg": f"computed: mean of w over {MEAN_LATENT_SAMPLES} z, seed {MEAN_LATENT_SEED}",
            "n_styles": self.gen_config.n_styles,
        }
        return {f"g_ema.{k}": v for k, v in sd.items()}, card

    def load_init(self, weights: Mapping[str, torch.Tensor]) -> None:
        own = {k[len("g_ema."):]: v for k, v in weights.items() if k.startswith("g_ema.")} or dict(weights)
        own.setdefault("latent_avg", torch.zeros(self.gen_config.style_dim))
        self.G.load_state_dict(own, strict=True)

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"reg_steps": torch.tensor([self._steps], dtype=torch.int64)}

    def load_extra_state(self, tensors: Mapping[str, torch.Tensor]) -> None:
        if "reg_steps" in tensors:
            self._steps = int(tensors["reg_steps"].reshape(-1)[0])


# --------------------------------------------------------------------------------------


def grid(x: torch.Tensor, cols: int) -> torch.Tensor:
    """(N, 3, H, W) -> (1, 3, rows * H, cols * W), empty cells black (-1)."""
    n, c, h, w = x.shape
    rows = math.ceil(n / cols)
    pad = x.new_full((rows * cols - n, c, h, w), -1.0)
    x = torch.cat([x, pad]).reshape(rows, cols, c, h, w)
    return x.permute(2, 0, 3, 1, 4).reshape(1, c, rows * h, cols * w)


def _small(x: torch.Tensor, side: int = 16) -> torch.Tensor:
    """Pictures as (N, 3 * side * side) vectors of their area-averaged side x side version."""
    x = x.float().clamp(-1, 1)
    if x.shape[-1] > side:
        x = F.adaptive_avg_pool2d(x, side)
    return x.reshape(x.shape[0], -1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 256, seed: int = 0) -> float:
    """Sliced Wasserstein distance between two equal-sized sets of vectors (N, D): the mean
    1-D Wasserstein distance along ``projections`` fixed random unit directions."""
    gen = torch.Generator().manual_seed(seed)
    d = torch.randn(a.shape[1], projections, generator=gen)
    d = (d / d.norm(dim=0, keepdim=True)).to(a.device)
    pa, _ = torch.sort(a @ d, dim=0)
    pb, _ = torch.sort(b @ d, dim=0)
    return float((pa - pb).abs().mean())
