"""A small CNN that predicts every labelled face attribute; the judge of the faces model.

Used (issue 5) to measure attribute sliders (does the target attribute move, do the others
stay?) and to compute a Frechet distance between picture sets in the space of its
penultimate layer (``features``), so no downloaded Inception weights are needed.

* Input: RGB float32 in [0, 1], BxCxHxW (or uint8 NxHxWx3 arrays through the numpy helpers),
  at the classifier's ``size`` (64); other sizes are area-resized first.
* Outputs: one number per attribute. Binary attributes are logits (BCE); continuous ones
  are regressed in their range mapped to [0, 1] (MSE). A NaN label means "unknown" and is
  masked out of the loss (emoji heads tell only some attributes).
* Files: safetensors, the config and the held-out metrics as JSON in the metadata.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from ganpaint.core.atomic import atomic_write_text

FORMAT = "ganpaint-attribute-classifier/1"


@dataclass(frozen=True)
class ClassifierConfig:
    names: tuple[str, ...]
    kinds: tuple[str, ...]            # "binary" | "continuous", one per name
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    size: int = 64
    widths: tuple[int, ...] = (16, 32, 48, 64, 96, 128)
    feature_dim: int = 128

    def __post_init__(self) -> None:
        n = len(self.names)
        if not n or not len(self.kinds) == len(self.lows) == len(self.highs) == n:
            raise ValueError("names, kinds, lows and highs must have the same (non-zero) length")
        bad = [k for k in self.kinds if k not in ("binary", "continuous")]
        if bad:
            raise ValueError(f"unknown attribute kind(s): {bad}")
        if len(self.widths) != 6:
            raise ValueError("widths must list 6 conv widths")

    @classmethod
    def from_attributes(cls, attributes: Any, **kw: Any) -> ClassifierConfig:
        """From objects with name/kind/low/high (ganpaint.data.faces.ATTRIBUTES)."""
        return cls(tuple(a.name for a in attributes), tuple(a.kind for a in attributes),
                   tuple(float(a.low) for a in attributes), tuple(float(a.high) for a in attributes), **kw)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ClassifierConfig:
        d = json.loads(text)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.LeakyReLU(0.1, inplace=True))


class AttributeClassifier(nn.Module):
    """Six 3x3 convs (strides 2,1,2,1,2,2: 64 -> 4 px), global average pool, a 128-d
    feature layer, one linear head per attribute (all in one Linear)."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        strides = (2, 1, 2, 1, 2, 2)
        chans = (3, *w)
        self.body = nn.Sequential(*[_conv(chans[i], chans[i + 1], strides[i]) for i in range(6)])
        self.feature = nn.Linear(w[-1], config.feature_dim)
        self.head = nn.Linear(config.feature_dim, len(config.names))
        self.register_buffer("binary", torch.tensor([k == "binary" for k in config.kinds]))
        self.register_buffer("low", torch.tensor(config.lows, dtype=torch.float32))
        self.register_buffer("high", torch.tensor(config.highs, dtype=torch.float32))

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        # x: B x 3 x H x W in [0, 1]
        if x.shape[-1] != self.config.size or x.shape[-2] != self.config.size:
            x = F.interpolate(x, size=(self.config.size, self.config.size), mode="area")
        return x * 2 - 1

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (B x feature_dim): the space of the Frechet distance."""
        h = self.body(self._prep(x)).mean(dim=(2, 3))  # B x widths[-1]
        return F.leaky_relu(self.feature(h), 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw outputs B x n: logits for binary attributes, [0,1]-scaled values for the rest."""
        return self.head(self.features(x))

    def to_attributes(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw outputs -> attribute units: probabilities for binary ones, the range for the rest."""
        cont = self.low + raw * (self.high - self.low)
        return torch.where(self.binary, torch.sigmoid(raw), cont)

    def normalise_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Attribute units -> training targets (binary kept 0/1, continuous to [0, 1])."""
        return torch.where(self.binary, labels, (labels - self.low) / (self.high - self.low))


# ---------------------------------------------------------------- numpy helpers


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 or float (N, H, W, 3) -> float32 N x 3 x H x W in [0, 1]."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) pictures, got shape {images.shape}")
    t = torch.from_numpy(np.ascontiguousarray(images))
    t = t.float() / 255.0 if images.dtype == np.uint8 else t.float()
    return t.permute(0, 3, 1, 2).contiguous()


@torch.no_grad()
def extract_features(model: AttributeClassifier, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Features (N, feature_dim) float64 of uint8/float (N, H, W, 3) pictures (eval mode)."""
    model.eval()
    out = [model.features(_to_tensor(images[i:i + batch])).double().numpy()
           for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.config.feature_dim))


@torch.no_grad()
def predict(model: AttributeClassifier, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predicted attributes (N, n) in attribute units (binary: probability)."""
    model.eval()
    out = [model.to_attributes(model(_to_tensor(images[i:i + batch]))).numpy()
           for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros((0, len(model.config.names)), np.float32)


def evaluate(model: AttributeClassifier, images: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float]]:
    """Per attribute, on the rows whose label is known: ``accuracy`` (binary: at p=0.5;
    continuous: on which side of the range's midpoint), and for continuous ones ``mae``
    (attribute units), ``r2`` and ``corr``; ``n`` rows."""
    pred = predict(model, images)
    cfg = model.config
    res: dict[str, dict[str, float]] = {}
    for j, name in enumerate(cfg.names):
        known = ~np.isnan(labels[:, j])
        y, p = labels[known, j].astype(np.float64), pred[known, j].astype(np.float64)
        if not len(y):
            continue
        mid = 0.5 if cfg.kinds[j] == "binary" else (cfg.lows[j] + cfg.highs[j]) / 2
        r = {"n": float(len(y)), "accuracy": float(np.mean((p > mid) == (y > mid)))}
        if cfg.kinds[j] == "continuous":
            var = float(np.var(y))
            r["mae"] = float(np.mean(np.abs(p - y)))
            r["r2"] = float(1 - np.mean((p - y) ** 2) / var) if var > 0 else math.nan
            r["corr"] = float(np.corrcoef(p, y)[0, 1]) if var > 0 and np.std(p) > 0 else math.nan
        res[name] = r
    return res


# ---------------------------------------------------------------- training


@dataclass
class TrainReport:
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)   # mean loss per log interval
    held_out: dict[str, dict[str, float]] = field(default_factory=dict)


def _loss(model: AttributeClassifier, raw: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    known = ~torch.isnan(labels)
    target = model.normalise_labels(torch.nan_to_num(labels))
    bce = F.binary_cross_entropy_with_logits(raw, target, reduction="none")
    mse = (raw - target) ** 2 * 4.0  # x4: an error of 0.5 costs about what a wrong bit does
    per = torch.where(model.binary, bce, mse) * known
    return per.sum() / known.sum().clamp(min=1)


def train_classifier(images: np.ndarray, labels: np.ndarray, config: ClassifierConfig, *,
                     steps: int = 2000, batch: int = 64, lr: float = 2e-3, seed: int = 0,
                     held_out: tuple[np.ndarray, np.ndarray] | None = None,
                     progress: Callable[[int, float], None] | None = None,
                     log_every: int = 50) -> tuple[AttributeClassifier, TrainReport]:
    """Train from scratch on uint8 (N, H, W, 3) pictures and (N, n) labels (NaN = unknown).

    AdamW with a cosine learning rate; batches drawn from per-epoch permutations of ``seed``.
    ``progress(step, loss)`` is called every ``log_every`` steps (raise to stop).
    """
    if len(images) != len(labels) or labels.shape[1] != len(config.names):
        raise ValueError(f"{len(images)} pictures, labels {labels.shape}, {len(config.names)} attributes")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = AttributeClassifier(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    lab = torch.from_numpy(labels.astype(np.float32))
    order = rng.permutation(len(images))
    pos, acc, n_acc = 0, 0.0, 0
    report = TrainReport(steps=steps, seconds=0.0)
    t0 = time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        if pos + batch > len(order):
            order, pos = rng.permutation(len(images)), 0
        idx = np.sort(order[pos:pos + batch])
        pos += batch
        x = _to_tensor(images[idx])  # no flips: a mirror would need head_turn's sign changed
        loss = _loss(model, model(x), lab[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        acc += float(loss.detach())
        n_acc += 1
        if step % log_every == 0 or step == steps:
            report.losses.append(acc / n_acc)
            if progress:
                progress(step, acc / n_acc)
            acc, n_acc = 0.0, 0
    report.seconds = time.perf_counter() - t0
    model.eval()
    if held_out is not None:
        report.held_out = evaluate(model, *held_out)
    return model, report


# ---------------------------------------------------------------- Frechet distance


def _sqrtm_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(feats, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"need at least 2 feature rows (N, D), got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D) (numpy only).

    d^2 = |mu_a - mu_b|^2 + tr(Sa + Sb - 2 (Sa Sb)^1/2), with tr (Sa Sb)^1/2 computed in the
    symmetric form tr (Sa^1/2 Sb Sa^1/2)^1/2 (same eigenvalues, but a symmetric PSD matrix,
    so ``eigh`` applies and no complex square roots appear).
    """
    mu_a, s_a = feature_stats(feats_a)
    mu_b, s_b = feature_stats(feats_b)
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"feature sizes differ: {mu_a.shape[0]} vs {mu_b.shape[0]}")
    ra = _sqrtm_psd(s_a)
    inner = ra @ s_b @ ra
    tr_sqrt = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None))))
    d = float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * tr_sqrt)
    return max(d, 0.0)


# ---------------------------------------------------------------- files


def save_classifier(model: AttributeClassifier, path: Path | str, info: dict[str, Any] | None = None,
                    half: bool = False) -> Path:
    """Weights (float16 with ``half``) + config + ``info`` (JSON) in the metadata; atomic."""
    path = Path(path)
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if half:
        sd = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    meta = {"format": FORMAT, "config": model.config.to_json(), "info": json.dumps(info or {})}
    tmp = path.with_name(path.name + ".tmp")
    save_file(sd, str(tmp), metadata=meta)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # safetensors creates 0600 files; a model file is for everyone to read
    tmp.replace(path)
    return path


def load_classifier(path: Path | str) -> tuple[AttributeClassifier, dict[str, Any]]:
    """The classifier in eval mode and its ``info`` dict. Clear errors for foreign files."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), "pt") as fh:
            meta = fh.metadata() or {}
    except Exception as exc:  # safetensors raises several types for a bad header
        raise ValueError(f"{path}: not a safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not an attribute classifier (format {meta.get('format')!r})")
    model = AttributeClassifier(ClassifierConfig.from_json(meta["config"]))
    sd = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    model.load_state_dict(sd)
    model.eval()
    return model, json.loads(meta.get("info", "{}"))


DEFAULT_FILE = "attribute-classifier.safetensors"


def load_default() -> tuple[AttributeClassifier, dict[str, Any]]:
    """The classifier shipped in resources/models (trained on the faces dataset)."""
    from ganpaint.core.paths import resources_dir

    path = resources_dir() / "models" / DEFAULT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the attribute classifier is not installed "
                                "(train it with python -m ganpaint.train.attributes)")
    return load_classifier(path)


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Train on a built faces dataset, report held-out metrics and the Frechet floor."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ganpaint.train.attributes", description=main.__doc__)
    ap.add_argument("--data", required=True, help="a folder made by 'ganpaint data build faces'")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="write the classifier here (safetensors) and a card .json beside it")
    ap.add_argument("--half", action="store_true", help="store float16 weights")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    path = Path(args.data) / f"faces-{args.size}.npz"
    with np.load(path) as z:
        images, labels, split, source = z["images"], z["labels"], z["split"], z["source"]
    table = json.loads((Path(args.data) / "labels.json").read_text(encoding="utf-8"))["attributes"]
    cfg = ClassifierConfig(tuple(a["name"] for a in table), tuple(a["kind"] for a in table),
                           tuple(float(a["low"]) for a in table), tuple(float(a["high"]) for a in table),
                           size=args.size)
    train_idx = np.flatnonzero(split == 0)
    test_r = np.flatnonzero((split == 1) & (source == 0))
    test_e = np.flatnonzero((split == 1) & (source == 1))

    def show(step: int, loss: float) -> None:
        print(f"step {step}/{args.steps} loss {loss:.4f}", flush=True)

    model, rep = train_classifier(images[train_idx], labels[train_idx], cfg, steps=args.steps,
                                  batch=args.batch, seed=args.seed, progress=show, log_every=100)
    held = evaluate(model, images[test_r], labels[test_r])
    held_e = evaluate(model, images[test_e], labels[test_e]) if len(test_e) else {}
    renders = np.flatnonzero(source == 0)
    perm = np.random.default_rng(args.seed).permutation(renders)
    half = len(perm) // 2
    feats = extract_features(model, images[perm[:2 * half]])
    floor = frechet_distance(feats[:half], feats[half:])
    emoji_fd = (frechet_distance(extract_features(model, images[source == 1]), feats[:half])
                if (source == 1).any() else None)
    result = {
        "train_seconds": round(rep.seconds, 1), "steps": args.steps, "batch": args.batch,
        "train_pictures": int(len(train_idx)), "held_out_renders": int(len(test_r)),
        "held_out_emoji": int(len(test_e)), "held_out": held, "held_out_emoji_metrics": held_e,
        "frechet_floor": {"value": round(floor, 4), "halves": int(half),
                          "what": "between two disjoint halves of the renders"},
        "frechet_emoji_vs_renders": None if emoji_fd is None else round(emoji_fd, 4),
        "final_loss": round(rep.losses[-1], 4),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        out = Path(args.out)
        card = {
            "name": out.stem, "format": FORMAT, "architecture": "attribute_classifier",
            "config": json.loads(cfg.to_json()),
            "data": {"dataset": "faces (ganpaint data build faces)", "folder": str(Path(args.data)),
                     "pictures": "procedural cartoon-face renders (ganpaint.data.faces) + Noto emoji heads "
                                 "(labels NaN where unknown)"},
            "licence": {"weights": "GPL-3.0-or-later (trained here)",
                        "training_data": "renders: generated by GANPaint; emoji: Apache-2.0 artwork, "
                                         "OFL-1.1 font file (Debian fonts-noto-color-emoji)"},
            "command": "nice -n 10 python -m ganpaint.train.attributes " + " ".join(argv or []),
            "metrics": result,
        }
        save_classifier(model, out, {"metrics": result}, half=args.half)
        atomic_write_text(out.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
        print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
