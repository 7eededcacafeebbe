"""The procedural landscape renderer: determinism, season pairs, snow, bare trees, factors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ganpaint.data.landscape import (
    FOLIAGE,
    GRASS,
    NEEDLES,
    ROCK,
    SAND,
    SKY,
    Layout,
    Scene,
    render,
    render_buffers,
    sample_palette,
)

SIZE = 96


def _leafy_scene(seed: int = 3) -> Scene:
    s = Scene.random(seed)
    return s.with_(layout=replace(s.layout, trees=0.9, conifers=0.0, lake=0.0))


def test_same_seed_same_picture_and_different_seeds_differ() -> None:
    a = render(Scene.random(11), "summer", SIZE)
    b = render(Scene.random(11), "summer", SIZE)
    c = render(Scene.random(12), "summer", SIZE)
    assert a.shape == (SIZE, SIZE, 3) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.02
    assert 0.0 <= a.min() and a.max() <= 1.0


def test_non_square_size() -> None:
    img = render(Scene.random(1), "winter", (80, 48))
    assert img.shape == (48, 80, 3)


def test_season_pair_shares_the_layout() -> None:
    scene = Scene.random(5)
    su, wi = render_buffers(scene, "summer", SIZE), render_buffers(scene, "winter", SIZE)
    assert np.array_equal(su.terrain_depth, wi.terrain_depth)  # same terrain, camera, lake
    assert np.array_equal(su.material == SKY, wi.material == SKY)
    assert np.abs(su.image - wi.image).mean() > 0.05  # but it looks different


def test_conifers_stand_in_the_same_places_in_both_seasons() -> None:
    s = Scene.random(6)
    scene = s.with_(layout=replace(s.layout, trees=0.9, conifers=1.0))
    su, wi = render_buffers(scene, "summer", SIZE), render_buffers(scene, "winter", SIZE)
    assert (su.material == NEEDLES).sum() > 50
    assert np.array_equal(su.material == NEEDLES, wi.material == NEEDLES)
    assert np.array_equal(su.depth, wi.depth)
    assert wi.snow[wi.material == NEEDLES].max() == 1.0  # snow on the branches


@pytest.mark.parametrize("seed", [2, 7, 21])
def test_snow_on_upward_surfaces_in_winter_only(seed: int) -> None:
    scene = Scene.random(seed)
    su, wi = render_buffers(scene, "summer", SIZE), render_buffers(scene, "winter", SIZE)
    assert su.snow.max() == 0.0
    land = np.isin(wi.material, (GRASS, ROCK, SAND))
    flat = land & (wi.normal_y > 0.92)
    steep = land & (wi.normal_y < 0.6)
    assert flat.sum() > 50
    assert wi.snow[flat].mean() > 0.8
    if steep.sum() > 20:
        assert wi.snow[steep].mean() < 0.3
    # snow is bright and near white where it lies thick
    lum_w = wi.image[flat & (wi.snow > 0.95)].mean()
    lum_s = su.image[flat & (wi.snow > 0.95)].mean()
    assert lum_w > lum_s


def test_deciduous_trees_are_bare_in_winter() -> None:
    scene = _leafy_scene()
    su, wi = render_buffers(scene, "summer", 128), render_buffers(scene, "winter", 128)
    assert (su.material == FOLIAGE).sum() > 100
    assert (wi.material == FOLIAGE).sum() == 0


def test_winter_light_is_colder() -> None:
    scene = Scene.random(9)
    su, wi = render(scene, "summer", SIZE), render(scene, "winter", SIZE)
    warmth = lambda im: float((im[..., 0] - im[..., 2]).mean())  # noqa: E731
    assert warmth(wi) < warmth(su)


def test_palette_is_a_separate_factor() -> None:
    scene = Scene.random(4)
    other = scene.with_(palette=sample_palette(np.random.default_rng(99)))
    a, b = render_buffers(scene, "summer", SIZE), render_buffers(other, "summer", SIZE)
    assert np.array_equal(a.depth, b.depth)
    assert np.array_equal(a.material, b.material)
    assert np.abs(a.image - b.image).mean() > 0.01


def test_layout_changes_the_geometry() -> None:
    scene = Scene.random(4)
    moved = scene.with_(layout=replace(scene.layout, seed=scene.layout.seed + 1))
    a, b = render_buffers(scene, "summer", SIZE), render_buffers(moved, "summer", SIZE)
    assert not np.array_equal(a.terrain_depth, b.terrain_depth)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="season"):
        render(Scene(), "autumn", 32)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too small"):
        render(Scene(), "summer", 4)


def test_default_scene_renders() -> None:
    img = render(Scene(Layout()), "summer", 64)
    assert img.std() > 0.02
