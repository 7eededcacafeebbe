"""Random draws keyed by (seed, step, global sample index), so that a training step draws
the same numbers for a picture however many processes share the batch.

The loop hands the trainer a :class:`SampleDraws` before each step (``trainer.draws``):
the run's seed, the step, and the global indices (positions in the global batch) of the
pictures this process holds. A recipe that draws per picture (inpainting holes, StyleGAN2
latents, noise and DiffAugment, sketch hints) asks it for a generator per picture and
purpose ("stream"), instead of drawing from a global RNG whose position would depend on
how many pictures came before on this process.

    rng = draws.numpy(i, "holes")            # numpy Generator of local picture i
    g = draws.torch(i, "noise", device)      # torch.Generator of local picture i
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


def stream_id(stream: str) -> int:
    """A stable number for a stream name (``hash()`` of a str changes between processes)."""
    return zlib.crc32(stream.encode("utf-8"))


def draw_key(*parts: int) -> int:
    """A 63-bit seed mixed from non-negative or negative integers (numpy's SeedSequence)."""
    words = [int(p) % (1 << 64) for p in parts]
    hi, lo = np.random.SeedSequence(words).generate_state(2, np.uint32)
    return ((int(hi) << 32) | int(lo)) & ((1 << 63) - 1)


@dataclass(frozen=True)
class SampleDraws:
    """The draws of one step on one process: ``indices[i]`` is the global index (0 ...
    global batch - 1) of the process's picture ``i``."""

    seed: int
    step: int
    indices: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.indices)

    def key(self, i: int, stream: str) -> int:
        return draw_key(self.seed, self.step, self.indices[i], stream_id(stream))

    def numpy(self, i: int, stream: str) -> np.random.Generator:
        return np.random.default_rng(self.key(i, stream))

    def torch(self, i: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
        return torch.Generator(device=device).manual_seed(self.key(i, stream))

    def torch_all(self, stream: str, device: torch.device | str = "cpu") -> list[torch.Generator]:
        """One generator per local picture, in order."""
        return [self.torch(i, stream, device) for i in range(len(self.indices))]


def per_sample_randn(gens: Sequence[torch.Generator], *shape: int, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(len(gens), *shape) normal draws, row i from ``gens[i]`` (a generator on ``device``)."""
    return torch.cat([torch.randn(1, *shape, generator=g, device=device, dtype=dtype) for g in gens])
