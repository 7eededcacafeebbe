"""Fixtures for the training tests: tiny picture folders made with numpy + Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


def make_pictures(folder: Path, n: int, size: tuple[int, int] = (40, 48), seed: int = 0, ext: str = "png") -> list[Path]:
    """``n`` smooth random RGB pictures (w, h = size) named 000.png, 001.png, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    out = []
    for i in range(n):
        yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
        base = rng.random(3)
        img = np.stack([np.sin(xx * (c + 2) * 3 + base[c] * 6) for c in range(3)], -1) * 0.5 + 0.5
        img = img + rng.normal(0, 0.05, img.shape)
        p = folder / f"{i:03d}.{ext}"
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(p)
        out.append(p)
    return out


@pytest.fixture
def pictures():
    """The picture maker, as a fixture (test modules do not import conftest)."""
    return make_pictures


@pytest.fixture
def paired_dirs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "A", tmp_path / "B"
    make_pictures(a, 5, seed=1)
    make_pictures(b, 5, seed=2)
    return a, b


@pytest.fixture
def deterministic():
    """One thread and deterministic kernels, restored afterwards."""
    threads = torch.get_num_threads()
    was = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(was)
    torch.set_num_threads(threads)
