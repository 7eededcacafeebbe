"""Pivotal tuning: after a picture is inverted, adjust a copy of the generator so that the
inverted latent (the "pivot") reproduces the picture closely.

The method is Roich et al., "Pivotal Tuning for Latent-based Editing of Real Images" (2021):
W+ inversion finds where in the model a photograph lies, but a small generator cannot draw
every photo's detail, so the inverted picture loses it (on the shipped 64 px scenes model a
held-out photo crop comes back ~2 dB below its own 16 px thumbnail). Tuning the synthesis
weights for a few hundred steps with the latent fixed brings the detail back, and edits made
near the pivot (style mixing with another seed, a face slider) keep it: the edited latent is
synthesised by the tuned copy.

``tune(G, ws, rgb)`` never changes ``G`` (the shared, cached generator other runs use): it
copies it, optimises the copy's synthesis parameters (everything but the mapping network,
which the fixed latent bypasses) with Adam on the same loss the inversion uses
(``inversion.reconstruction_loss``), and returns a :class:`TuningState` holding the copy.
Each step calls ``progress``, so cancel is honoured between steps, and a cancelled run's
state resumes where it stopped. :class:`TunedCache` keeps the latest two tuned copies (a
slider moved on a tuned picture re-uses its copy; a copy is as large as the model).

Only float32 generators are tuned (Adam in half precision is unreliable); ``tunable(G)``
says whether a generator can be.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ganpaint.latent.inversion import LatestStates, reconstruction_loss, to_target
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import ModulatedConv2d
from ganpaint.nn.stylegan_sampling import Generator

__all__ = ["DEFAULT_LR", "DEFAULT_STEPS", "TunedCache", "TuningState", "tunable", "tune"]

#: Tuning steps and Adam learning rate of the tools' default. Measured on the shipped 64 px
#: scenes model, 8 held-out photo crops (docs/models.md): 200 steps at 3e-3 take ~8 s on one
#: CPU thread and beat each crop's 16 px thumbnail (W+ inversion alone: 0 of 8).
DEFAULT_STEPS = 200
DEFAULT_LR = 3e-3

Progress = Callable[[float, str], None]


@dataclass
class TuningState:
    """The tuned copy and how far its tuning got (resumable)."""

    G: Generator | None = None
    steps_done: int = 0
    loss: float = math.inf
    #: Adam's moments, kept so a resumed run continues the same optimisation
    moments: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def tunable(G: Generator) -> bool:
    """Whether ``G`` can be tuned here: float32 weights."""
    return S._dtype(G) == torch.float32


def _synthesis_parameters(G: Generator) -> list[torch.nn.Parameter]:
    """The parameters the fixed latent reaches: all but the mapping network's (``style.*`` in
    the StyleGAN2 layout, ``g.mapping.*`` in a StyleGAN3 generator's tool view)."""
    mapping = ("style.", "mapping.", "g.mapping.")
    return [p for name, p in G.named_parameters() if not name.startswith(mapping)]


def tune(
    G: Generator,
    ws: torch.Tensor,
    rgb: np.ndarray,
    *,
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    state: TuningState | None = None,
    progress: Progress | None = None,
    noise: str = "const",
) -> TuningState:
    """Tune a copy of ``G`` so that ``synthesize(copy, ws, noise)`` reproduces ``rgb``.

    ``state``: resume from it (its ``steps_done`` count towards ``steps``); updated every
    step. Returns the state; ``state.G`` is the tuned copy (``G`` itself is untouched).
    Raises ValueError for a generator that is not float32 (see :func:`tunable`)."""
    if not tunable(G):
        raise ValueError("pivotal tuning needs a float32 generator")
    target = to_target(G, rgb)
    pivot = S.broadcast(G, ws.to(target)).detach()
    state = state or TuningState()
    with state.lock:
        if state.G is None:
            tuned = copy.deepcopy(G)
            tuned.requires_grad_(False)
            for m in tuned.modules():  # the shared-weight form backpropagates ~30 % faster at batch 1
                if isinstance(m, ModulatedConv2d):
                    m.fused = False
            state.G, state.steps_done, state.moments = tuned, 0, []
        tuned = state.G
        params = _synthesis_parameters(tuned)
        if len(state.moments) != len(params):
            state.moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
        b1, b2 = 0.9, 0.999
        for p in params:
            p.requires_grad_(True)
        try:
            for step in range(state.steps_done, steps):
                with torch.enable_grad():
                    img = S.synthesize(tuned, pivot, noise=noise)  # type: ignore[arg-type]
                    loss = reconstruction_loss(img, target)
                    grads = torch.autograd.grad(loss, params, allow_unused=True)
                t = step + 1
                with torch.no_grad():
                    for p, g, (m, v) in zip(params, grads, state.moments, strict=True):
                        if g is None:
                            continue
                        m.mul_(b1).add_(g, alpha=1 - b1)
                        v.mul_(b2).addcmul_(g, g, value=1 - b2)
                        p -= lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + 1e-8)
                state.steps_done = step + 1
                state.loss = float(loss.detach())
                if progress is not None:
                    progress(state.steps_done / steps, f"matching detail: step {state.steps_done}/{steps}")
        finally:
            for p in params:
                p.requires_grad_(False)
        if state.steps_done >= steps:
            state.moments = []  # only a cancelled run resumes; Adam's moments are two more model copies
    return state


class TunedCache(LatestStates[TuningState]):
    """The latest few tuning states by key. Small: each holds a whole copy of its generator."""

    def __init__(self, capacity: int = 2) -> None:
        super().__init__(TuningState, capacity)
