"""Inverting a picture into a StyleGAN generator's W+ space by optimisation.

``G`` is a StyleGAN2 generator or a StyleGAN3 one in its ``stylegan_sampling.StyleGAN3Tools``
view: the optimisation only needs ``synthesize`` to be differentiable in ``ws`` (StyleGAN3's
ws have ``num_ws`` entries and it has no noise inputs, so ``noise`` changes nothing there).

``invert(G, rgb)`` resizes the picture to the generator's resolution, starts from the mean
latent (every style input = ``w_avg``, or ``init_ws`` from an encoder/earlier run) and
optimises the W+ latent with Adam on an L2 loss plus a cheap multi-scale term (L1 on a
Laplacian pyramid: no downloaded perceptual weights). Each step calls ``progress`` (the
job's ``ctx.progress``), so cancel is honoured between steps.

``InversionState`` holds the latent and the steps done: a run that is cancelled (a slider
dragged while an inversion runs, with the latest-wins queue) leaves its progress there, and
the next run with the same state resumes instead of starting over (see ``InversionCache``).

Shapes: ws (1, n_styles, dim); pictures (H, W, 3) float32 in [0, 1].
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import ModulatedConv2d
from ganpaint.nn.stylegan_sampling import Generator

__all__ = [
    "MIN_SIDE",
    "InversionCache",
    "InversionError",
    "InversionState",
    "LatestStates",
    "invert",
    "picture_key",
    "psnr",
    "reconstruction_loss",
    "resize_picture",
    "to_target",
]

#: a picture smaller than this on either side carries too little to invert
MIN_SIDE = 16

Progress = Callable[[float, str], None]
StateT = TypeVar("StateT")


class InversionError(ValueError):
    """The picture cannot be inverted (too small, empty ...); the message says why."""


@dataclass
class InversionState:
    """The latent being optimised and how far the optimisation got (resumable)."""

    ws: torch.Tensor | None = None
    steps_done: int = 0
    loss: float = math.inf
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def resize_picture(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, 3) float32 -> (height, width, 3), antialiased bilinear (area-like when shrinking)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return np.ascontiguousarray(rgb, dtype=np.float32)
    t = torch.from_numpy(np.array(rgb, dtype=np.float32, copy=True)).permute(2, 0, 1)[None]
    out = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return np.ascontiguousarray(out[0].permute(1, 2, 0).clamp(0, 1).numpy())


def to_target(G: Generator, rgb: np.ndarray) -> torch.Tensor:
    """A picture -> (1, 3, size, size) in [-1, 1] at the generator's resolution (aspect not kept:
    the result is resized back to the picture's own size). Too small -> InversionError."""
    h, w = rgb.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise InversionError(
            f"the picture is {w}x{h} px: inversion needs at least {MIN_SIDE} px on each side "
            f"(the generator works at {G.size}x{G.size})"
        )
    small = resize_picture(np.asarray(rgb, np.float32)[..., :3], G.size, G.size)
    # a picture already at the generator's size comes back as is: a host request's array is
    # read-only, which torch.from_numpy warns about, so copy it
    t = torch.from_numpy(np.array(small, np.float32, copy=True)).permute(2, 0, 1)[None].mul(2).sub(1)
    return S.on_generator(G, t)


def _pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    out = []
    for _ in range(levels):
        if min(x.shape[-2:]) < 4:
            break
        down = F.avg_pool2d(x, 2)
        out.append(x - F.interpolate(down, scale_factor=2, mode="bilinear", align_corners=False))
        x = down
    out.append(x)
    return out


def reconstruction_loss(img: torch.Tensor, target: torch.Tensor, levels: int = 3) -> torch.Tensor:
    """L2 + L1 on the Laplacian pyramid (edges at each scale, and the low-pass colours)."""
    mse = F.mse_loss(img, target)
    ms = sum(F.l1_loss(a, b) for a, b in zip(_pyramid(img, levels), _pyramid(target, levels), strict=True))
    return mse + 0.5 * ms


def psnr(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """PSNR in dB of two pictures in [0, 1] (arrays or tensors of the same shape)."""
    x = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a).float()
    y = torch.as_tensor(np.asarray(b) if not isinstance(b, torch.Tensor) else b).float()
    mse = float(((x - y) ** 2).mean())
    return 99.0 if mse <= 1e-10 else 10.0 * math.log10(1.0 / mse)


def invert(
    G: Generator,
    rgb: np.ndarray,
    *,
    steps: int = 200,
    lr: float = 0.05,
    state: InversionState | None = None,
    init_ws: torch.Tensor | None = None,
    progress: Progress | None = None,
    noise: str = "const",
) -> InversionState:
    """Optimise a W+ latent so ``synthesize(G, ws, noise)`` reproduces ``rgb``.

    ``state``: resume from it (its ``steps_done`` count towards ``steps``); it is updated
    every step, so a cancelled run (``progress`` raising) leaves its progress behind.
    Returns the state; ``state.ws`` is (1, n_styles, dim), detached.
    """
    target = to_target(G, rgb)
    state = state or InversionState()
    with state.lock, _shared_weight_form(G):  # two runs on one state (a replaced job) take turns
        if state.ws is None:
            start = init_ws if init_ws is not None else S.w_avg(G).detach()[None]
            state.ws = S.broadcast(G, start.to(target)).detach().clone()
            state.steps_done = 0
        ws = state.ws.clone().requires_grad_(True)
        # Adam written out: torch.optim's first construction costs ~3 s of CPU (one-time imports)
        m, v = torch.zeros_like(ws), torch.zeros_like(ws)
        b1, b2 = 0.9, 0.999
        for step in range(state.steps_done, steps):
            # cosine ramp-down of the learning rate over the whole run (resumes at the same point)
            rate = lr * 0.5 * (1 + math.cos(math.pi * step / max(steps, 1)))
            with torch.enable_grad():
                img = S.synthesize(G, ws, noise=noise)  # type: ignore[arg-type]
                loss = reconstruction_loss(img, target)
                # only the latent's gradient: the generator (maybe shared, cached) is untouched
                (grad,) = torch.autograd.grad(loss, [ws])
            t = step - state.steps_done + 1  # moments restart on resume; bias-corrected from there
            with torch.no_grad():
                m.mul_(b1).add_(grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                ws -= rate * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + 1e-8)
            state.ws = ws.detach().clone()
            state.steps_done = step + 1
            state.loss = float(loss.detach())
            if progress is not None:
                progress(state.steps_done / steps, f"inverting: step {state.steps_done}/{steps}")
    return state


@contextlib.contextmanager
def _shared_weight_form(G: Generator) -> Iterator[None]:
    """Backpropagating through the shared-weight form of the modulated convolutions is ~30 %
    cheaper at batch 1 than the grouped form (same maths, equal to ~3e-6); restored after, since
    the generator may be the cached one other jobs of the lane use next."""
    convs = [m for m in G.modules() if isinstance(m, ModulatedConv2d)]
    before = [m.fused for m in convs]
    for m in convs:
        m.fused = False
    try:
        yield
    finally:
        for m, f in zip(convs, before, strict=True):
            m.fused = f


def picture_key(G_sha: str, rgb: np.ndarray, extra: str = "") -> str:
    """A cache key for (generator, picture, options)."""
    h = hashlib.sha256(np.ascontiguousarray(rgb, np.float32).tobytes())
    h.update(f"{rgb.shape}|{G_sha}|{extra}".encode())
    return h.hexdigest()


class LatestStates(Generic[StateT]):
    """The latest few optimisation states by key (thread-safe, least recently used dropped):
    ``state(key)`` returns the key's state, made by ``factory`` when there is none."""

    def __init__(self, factory: Callable[[], StateT], capacity: int) -> None:
        self.capacity = capacity
        self._factory = factory
        self._items: OrderedDict[str, StateT] = OrderedDict()
        self._lock = threading.Lock()

    def state(self, key: str) -> StateT:
        with self._lock:
            st = self._items.pop(key, None) or self._factory()
            self._items[key] = st
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return st

    def peek(self, key: str) -> StateT | None:
        """The state for ``key`` if there is one (none made, order unchanged)."""
        with self._lock:
            return self._items.get(key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class InversionCache(LatestStates[InversionState]):
    """The latest few inversion states by key, so a re-run on the same picture (a slider moved
    on an inverted picture) skips or resumes the optimisation."""

    def __init__(self, capacity: int = 8) -> None:
        super().__init__(InversionState, capacity)
