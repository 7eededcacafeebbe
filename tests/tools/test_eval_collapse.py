"""tools/eval_collapse.py: issue 17's mode-collapse figures (deciles, diversity, contact sheet)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    name = "eval_collapse_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "eval_collapse.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def test_deciles_of_the_reference_split_a_like_sample_evenly_and_a_collapsed_one_not() -> None:
    T = _tool()
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(5000, 2))
    edges = T.decile_edges(ref)
    like = T.decile_shares(rng.normal(size=(5000, 2)), edges)
    assert like.shape == (2, 10) and np.allclose(like.sum(1), 1.0)
    assert like.min() > 0.08 and like.max() < 0.12
    # a collapsed sample: column 0 always near the median, column 1 as varied as the data
    collapsed = np.stack([rng.normal(scale=0.05, size=5000), rng.normal(size=5000)], 1)
    sh = T.decile_shares(collapsed, edges)
    assert sh[0].min() == 0.0 and sh[0, 4] + sh[0, 5] > 0.9
    assert sh[1].min() > 0.08


def test_mean_pairwise_distance() -> None:
    T = _tool()
    x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    assert T.mean_pairwise(x) == pytest.approx((5 + 0 + 5) / 3)
    assert T.mean_pairwise(np.ones((4, 3))) == pytest.approx(0.0, abs=1e-6)
    pics = np.zeros((2, 16, 16, 3), np.uint8)
    pics[1] = 255
    th = T.thumbs(pics)
    assert th.shape == (2, 8 * 8 * 3) and th[0].max() == 0.0 and th[1].min() == 1.0


def test_contact_sheet_shows_each_seed(tmp_path: Path) -> None:
    T = _tool()
    import torch

    torch.manual_seed(0)
    G = Generator(StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))).eval()
    pics = T.tool_seeds(G, range(3))
    assert pics.shape == (3, 16, 16, 3) and pics.dtype == np.uint8
    assert not np.array_equal(pics[0], pics[1])  # different seeds, different pictures
    assert np.array_equal(pics[2], T.tool_seeds(G, range(2, 3))[0])  # a seed is its own picture
    out = T.contact_sheet([("tiny", G)], tmp_path / "sheet.png", seeds=5, cols=4, scale=2)
    with Image.open(out) as im:
        assert im.size[0] == 4 * 16 * 2 and im.size[1] >= 2 * 16 * 2 + 16
