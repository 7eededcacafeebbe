"""Latent directions: boundaries, GANSpace, SeFa, files bound to one generator, .npy import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganpaint.engine.models.directions import (
    DirectionSet,
    DirectionsMismatch,
    conditional,
    fit_boundary,
    ganspace,
    load_directions,
    read_npy_boundary,
    save_directions,
    sefa,
    std_along,
    w_samples,
)
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config


@pytest.fixture(scope="module")
def G() -> Generator:
    torch.manual_seed(1)
    return Generator(StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))).eval()


def test_ganspace_and_sefa_give_unit_orthogonal_axes(G: Generator) -> None:
    comps, stds = ganspace(G, k=5, n=2000)
    axes = sefa(G, k=5)
    axes_all = sefa(G, k=3, layers="all")
    for m, k in ((comps, 5), (axes, 5), (axes_all, 3)):
        assert m.shape == (k, G.style_dim)
        assert torch.allclose(m @ m.T, torch.eye(k), atol=1e-4)
    assert bool((stds[:-1] >= stds[1:]).all()) and float(stds[0]) > 0
    assert torch.equal(ganspace(G, k=5, n=2000)[0], comps)  # deterministic, signs fixed


def test_fit_boundary_recovers_a_planted_direction_and_conditional_projects_out() -> None:
    rng = np.random.default_rng(0)
    w = torch.from_numpy(rng.normal(size=(3000, 16)).astype(np.float32))
    true = torch.zeros(16)
    true[3], true[7] = 0.8, -0.6
    labels = (w @ true).numpy() + rng.normal(0, 0.2, 3000)
    d = fit_boundary(w, labels)
    assert abs(float(d.norm()) - 1) < 1e-5 and float(d @ true) > 0.95
    other = torch.zeros(16)
    other[3] = 1.0
    c = conditional(d, [other])
    assert abs(float(c @ other)) < 1e-5 and abs(float(c.norm()) - 1) < 1e-5
    with pytest.raises(ValueError, match="hardly varies"):
        fit_boundary(w, np.ones(3000))


def test_moving_along_a_boundary_moves_the_attribute_monotonically(G: Generator) -> None:
    _, w = w_samples(G, 1000, seed=0)
    with torch.inference_mode():
        brightness = S.to_pictures(S.synthesize(G, w)).mean((1, 2, 3))  # the "attribute"
    d = fit_boundary(w, brightness)
    sigma = std_along(w, d)
    start = w[:32]
    with torch.inference_mode():
        seen = [float(S.to_pictures(S.synthesize(G, start + a * sigma * d)).mean()) for a in (-2, -1, 0, 1, 2)]
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False)), seen
    assert seen[-1] - seen[0] > 0.05


def test_direction_files_are_bound_to_one_generator(tmp_path: Path) -> None:
    ds = DirectionSet("faces-x", "a" * 64, 16)
    ds.add("smile", np.arange(16, dtype=np.float32), kind="boundary", scale=2.5)
    with pytest.raises(ValueError, match="expected"):
        ds.add("bad", np.ones(8), kind="boundary", scale=1.0)
    path = save_directions(ds, tmp_path)
    assert path.name == "faces-x.safetensors" and path.with_suffix(".json").is_file()
    back = load_directions("faces-x", sha256="a" * 64, style_dim=16, root=tmp_path)
    assert back is not None and back.scale("smile") == 2.5
    assert np.allclose(back.vectors["smile"], ds.vectors["smile"]) and abs(np.linalg.norm(back.vectors["smile"]) - 1) < 1e-6
    with pytest.raises(DirectionsMismatch, match="another generator"):
        load_directions("faces-x", sha256="b" * 64, root=tmp_path)
    with pytest.raises(DirectionsMismatch, match="size 16"):
        load_directions("faces-x", style_dim=512, root=tmp_path)
    assert load_directions("nothing", root=tmp_path) is None


def test_npy_boundary_import_checks_the_shape(tmp_path: Path) -> None:
    good, wplus, other = tmp_path / "g.npy", tmp_path / "wp.npy", tmp_path / "o.npy"
    np.save(good, np.full((1, 16), 2.0, np.float32))
    np.save(wplus, np.ones((8, 16), np.float32))
    np.save(other, np.ones((1, 512), np.float32))
    v = read_npy_boundary(good, 16)
    assert v.shape == (16,) and abs(np.linalg.norm(v) - 1) < 1e-6
    for bad in (wplus, other):
        with pytest.raises(DirectionsMismatch, match=r"needs \(16,\)"):
            read_npy_boundary(bad, 16)


def test_find_directions_looks_in_the_users_folder_then_beside_the_model(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.engine.models.directions import DirectionSet as DS
    from ganpaint.engine.models.directions import find_directions
    from ganpaint.engine.models.directions import save_directions as save

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "user"))
    shipped = tmp_path / "plugin" / "models"
    beside = DS("gan", "sha", 4)
    beside.add("smile", np.eye(4, dtype=np.float32)[0], kind="boundary", scale=1.0)
    save(beside, shipped)
    model_file = shipped / "gan.safetensors"
    assert find_directions("gan", sha256="sha", style_dim=4) is None
    assert set(find_directions("gan", sha256="sha", style_dim=4, model_file=model_file).vectors) == {"smile"}
    mine = DS("gan", "sha", 4)
    mine.add("beard", np.eye(4, dtype=np.float32)[1], kind="boundary", scale=1.0)
    save(mine)  # the user's models folder wins
    assert set(find_directions("gan", sha256="sha", style_dim=4, model_file=model_file).vectors) == {"beard"}
