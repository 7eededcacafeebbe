"""The cartoon-face renderer and the faces dataset builder (without the emoji font)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganpaint.data import faces
from ganpaint.data.faces_dataset import build_faces, load_faces
from ganpaint.data.manifest import read_manifest

SIZE = 32


def test_render_is_deterministic_and_seeds_differ() -> None:
    a = faces.render(3, SIZE)
    b = faces.render(3, SIZE)
    c = faces.render(4, SIZE)
    assert a.image.dtype == np.float32 and a.image.shape == (SIZE, SIZE, 3)
    assert 0.0 <= a.image.min() and a.image.max() <= 1.0
    assert np.array_equal(a.image, b.image) and a.labels == b.labels
    assert np.abs(a.image - c.image).mean() > 0.02


def test_labels_cover_every_attribute_within_range() -> None:
    for seed in range(50):
        labels = faces.sample_params(seed).labels()
        assert list(labels) == list(faces.ATTRIBUTE_NAMES)
        for a in faces.ATTRIBUTES:
            v = labels[a.name]
            assert a.low <= v <= a.high, (a.name, v)
            if a.kind == "binary":
                assert v in (0.0, 1.0)


def test_attributes_are_sampled_independently() -> None:
    # linear boundaries per attribute need (near) uncorrelated labels
    lab = np.array([list(faces.sample_params(s).labels().values()) for s in range(3000)])
    corr = np.corrcoef(lab, rowvar=False)
    off = corr[~np.eye(len(corr), dtype=bool)]
    assert np.abs(off).max() < 0.08
    assert 0.25 < lab[:, faces.ATTRIBUTE_NAMES.index("glasses")].mean() < 0.45


def test_override_changes_only_that_attribute() -> None:
    base = faces.sample_params(11)
    moved = faces.sample_params(11, smile=-0.9)
    assert moved.smile == -0.9
    for name in faces.ATTRIBUTE_NAMES:
        if name != "smile":
            assert getattr(moved, name) == getattr(base, name)
    assert moved.face_width == base.face_width  # nuisance factors kept too
    with pytest.raises(ValueError, match="unknown face parameter"):
        faces.sample_params(1, smiles=1.0)


@pytest.mark.parametrize("attr,low,high", [
    ("smile", -1.0, 1.0), ("eyes_open", 0.0, 1.0), ("glasses", 0.0, 1.0), ("hair_light", 0.0, 1.0),
    ("hair_red", 0.0, 1.0), ("hair_length", 0.0, 1.0), ("skin_tone", 0.0, 1.0), ("beard", 0.0, 1.0),
    ("age", 0.0, 1.0), ("head_turn", -1.0, 1.0), ("background", 0.0, 1.0),
])
def test_every_attribute_changes_the_picture(attr: str, low: float, high: float) -> None:
    # a light-haired face so hair colour changes show; the change must be visible at 64 px
    kw = {"hair_light": 0.7, "hair_length": 0.6} if attr not in ("hair_light", "hair_length") else {}
    a = faces.render_params(faces.sample_params(5, **kw, **{attr: low}), 64)
    b = faces.render_params(faces.sample_params(5, **kw, **{attr: high}), 64)
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)).max(axis=2)
    assert (diff > 40).sum() >= 6, f"{attr}: only {(diff > 40).sum()} pixels changed"


def test_skin_tone_darkens_the_cheek() -> None:
    lum = []
    for tone in (0.0, 0.5, 1.0):
        img = faces.render_params(faces.sample_params(8, skin_tone=tone, head_turn=0.0, tilt_deg=0.0,
                                                      shift_x=0.0, shift_y=0.0, beard=0.0, blush=0.0), 64)
        lum.append(img[30:34, 18:22].mean())  # left cheek, below the eye
    assert lum[0] > lum[1] > lum[2]


def test_hair_and_skin_colour_ramps_are_monotone() -> None:
    skin = [sum(faces.skin_colour(t)) for t in np.linspace(0, 1, 11)]
    hair = [sum(faces.hair_colour(t, 0.3)) for t in np.linspace(0, 1, 11)]
    assert (np.diff(skin) < 0).all()
    assert (np.diff(hair) > 0).all()
    r0, r1 = faces.hair_colour(0.6, 0.0), faces.hair_colour(0.6, 1.0)
    assert (r1[0] - r1[2]) > (r0[0] - r0[2])  # redder: more red than blue


def test_render_batch_matches_single_renders() -> None:
    imgs, labs = faces.render_batch([7, 9], SIZE)
    assert imgs.dtype == np.uint8 and imgs.shape == (2, SIZE, SIZE, 3)
    assert labs.shape == (2, len(faces.ATTRIBUTES))
    one = faces.render(9, SIZE)
    assert np.array_equal(imgs[1], np.round(one.image * 255).astype(np.uint8))
    assert labs[1].tolist() == pytest.approx(list(one.labels.values()))


def test_with_labels_validates() -> None:
    p = faces.sample_params(0)
    assert faces.with_labels(p, age=0.9).age == 0.9
    with pytest.raises(ValueError, match="outside"):
        faces.with_labels(p, smile=3.0)
    with pytest.raises(ValueError, match="unknown face attribute"):
        faces.with_labels(p, hat=1.0)


def test_build_faces_without_emoji(tmp_path) -> None:
    res = build_faces(tmp_path / "faces", count=20, size=32, with_emoji=False)
    out = res.out_dir
    assert res.counts["train/render"] == 18 and res.counts["test/render"] == 2
    assert len(list((out / "train" / "render").glob("*.png"))) == 18
    data = load_faces(out, 32)
    assert data["images"].shape == (20, 32, 32, 3) and data["labels"].shape == (20, len(faces.ATTRIBUTES))
    assert data["split"].tolist() == [0] * 18 + [1] * 2
    assert [str(n) for n in data["names"]] == list(faces.ATTRIBUTE_NAMES)
    # the arrays are the renders of the recorded seeds
    img, lab = faces.render_batch([int(data["seeds"][3])], 32)
    assert np.array_equal(img[0], data["images"][3]) and np.allclose(lab[0], data["labels"][3])
    m = read_manifest(out)
    assert m.counts["train/render"] == 18 and sum(len(e.files) for e in m.entries) == 20
    table = json.loads((out / "labels.json").read_text())
    assert [a["name"] for a in table["attributes"]] == list(faces.ATTRIBUTE_NAMES)
    # a rebuild gives the same bytes
    again = build_faces(tmp_path / "faces", count=20, size=32, with_emoji=False)
    assert np.array_equal(load_faces(again.out_dir, 32)["images"], data["images"])
    with pytest.raises(FileNotFoundError, match="ganpaint data build faces"):
        load_faces(out, 64)
