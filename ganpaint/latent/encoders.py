"""Latent encoders for StyleGAN2 generators: train one, save it beside the model, load it.

An encoder (``ganpaint.nn.stylegan2.encoder.LatentEncoder``) guesses w from a picture; an
inversion starting there needs fewer optimisation steps than one starting at the mean
latent (``tools/eval_stylegan.py invert`` measures both). It learns from the generator
alone: pictures of random latents, regressing those latents (no data set needed).

Files: ``<folder>/encoders/<model>.safetensors`` with the generator's weights sha256 in the
metadata; ``<folder>`` is the user's models folder or the folder a plugin ships its default
model in (as with directions). A file made for another generator is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator
from ganpaint.nn.stylegan2.encoder import EncoderConfig, LatentEncoder

__all__ = ["ENCODER_KEY", "encoder_path", "find_encoder", "load_encoder", "save_encoder", "train_encoder"]

ENCODER_KEY = "ganpaint.encoder"
Progress = Callable[[float, str], None]


def train_encoder(G: Generator, *, steps: int = 2000, batch: int = 32, lr: float = 1e-3, seed: int = 0,
                  psi: tuple[float, float] = (0.5, 1.0), width: int = 16, pool: int = 4096,
                  progress: Progress | None = None) -> LatentEncoder:
    """Fit an encoder to ``G``: ``pool`` latents (truncated by a random psi in ``psi``) are
    rendered once with the stored noise; each step regresses the latents of ``batch`` of
    those pictures (mean squared error in units of w's spread). Rendering once keeps the
    cost of a step to the encoder's own (a 64 px generator costs ~20 ms a picture on one
    CPU thread). Returns the encoder in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    w_avg = S.w_avg(G).detach().float().cpu()
    enc = LatentEncoder(EncoderConfig(G.size, G.style_dim, width=width))
    enc.w_avg.copy_(w_avg)
    opt = torch.optim.Adam(enc.parameters(), lr=lr, betas=(0.9, 0.99))
    ws, xs = [], []
    with torch.no_grad():
        for start in range(0, pool, 64):
            n = min(64, pool - start)
            z = torch.randn(n, G.style_dim, generator=gen)
            p = torch.empty(n, 1).uniform_(*psi, generator=gen)
            w = S.truncate(S.z_to_w(G, z).float(), w_avg, p)
            ws.append(w)
            xs.append(S.synthesize(G, w, noise="const").float().clamp(-1, 1).cpu())
            if progress is not None:
                progress(0.3 * (start + n) / pool, f"rendering {start + n}/{pool} pictures")
        w_all, x_all = torch.cat(ws).cpu(), torch.cat(xs)
    spread = float(w_all.std(0).mean())
    for step in range(steps):
        idx = torch.randint(0, pool, (batch,), generator=gen)
        rate = lr * min(1.0, 2.0 * (1 - step / steps))  # flat, then linear to 0 over the last half
        for group in opt.param_groups:
            group["lr"] = rate
        loss = F.mse_loss(enc(x_all[idx]), w_all[idx]) / spread**2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress(0.3 + 0.7 * (step + 1) / steps, f"encoder step {step + 1}/{steps}: loss {float(loss.detach()):.4f}")
    return enc.eval()


def encoder_path(model: str, root: str | os.PathLike[str]) -> Path:
    return Path(root) / "encoders" / f"{model}.safetensors"


def save_encoder(enc: LatentEncoder, model: str, generator_sha256: str, root: str | os.PathLike[str], *,
                 half: bool = False) -> Path:
    """Write ``enc`` to :func:`encoder_path`; ``half`` stores the weights as float16 (half the
    size; a guess that starts an optimisation loses nothing by it: ~6e-4 on w of size ~0.9)."""
    from safetensors.torch import save_file

    path = encoder_path(model, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": model, "generator_sha256": generator_sha256, "config": enc.config.to_dict()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        sd = {k: v.detach().cpu().contiguous() for k, v in enc.state_dict().items()}
        if half:
            sd = {k: (v.half() if v.is_floating_point() and k != "w_avg" else v) for k, v in sd.items()}
        save_file(sd, str(tmp),
                  metadata={ENCODER_KEY: json.dumps(meta)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_encoder(path: str | os.PathLike[str], generator_sha256: str | None = None) -> LatentEncoder | None:
    """The encoder in ``path``; None when the file is missing, unreadable or was made for
    another generator (an inversion then starts from the mean latent)."""
    from safetensors import SafetensorError, safe_open

    p = Path(path)
    if not p.is_file():
        return None
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = json.loads((f.metadata() or {})[ENCODER_KEY])
            sd = {k: f.get_tensor(k) for k in f.keys()}
        if generator_sha256 is not None and meta.get("generator_sha256") != generator_sha256:
            return None
        enc = LatentEncoder(EncoderConfig.from_dict(meta["config"]))
        enc.load_state_dict(sd, strict=True)
    except (SafetensorError, OSError, KeyError, ValueError, RuntimeError, TypeError):
        return None
    return enc.eval()


def find_encoder(model: str, generator_sha256: str, model_file: str | os.PathLike[str] = "") -> LatentEncoder | None:
    """``model``'s encoder: the user's models folder first, then the folder of its file."""
    from ganpaint.core.paths import models_dir

    roots = [models_dir()] + ([Path(model_file).parent] if model_file else [])
    for root in roots:
        enc = load_encoder(encoder_path(model, root), generator_sha256)
        if enc is not None:
            return enc
    return None
