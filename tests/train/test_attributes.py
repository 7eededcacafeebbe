"""The attribute classifier: learns from renders, features, Frechet distance, files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganpaint.data import faces
from ganpaint.train.attributes import (
    AttributeClassifier,
    ClassifierConfig,
    evaluate,
    extract_features,
    frechet_distance,
    load_classifier,
    predict,
    save_classifier,
    train_classifier,
)

SMALL = (8, 12, 16, 24, 32, 32)


@pytest.fixture(scope="module")
def background_set() -> tuple[np.ndarray, np.ndarray]:
    """200 renders at 32 px, dark or light background (all else random), plus glasses labels."""
    imgs, labs = [], []
    for i in range(200):
        bg = 0.1 if i % 2 else 0.9
        p = faces.sample_params(1000 + i, background=bg)
        imgs.append(faces.render_params(p, 32, 2))
        labs.append([1.0 if bg > 0.5 else 0.0, p.smile])
    return np.stack(imgs), np.array(labs, np.float32)


def _config() -> ClassifierConfig:
    return ClassifierConfig(("light_background", "smile"), ("binary", "continuous"), (0.0, -1.0), (1.0, 1.0),
                            size=32, widths=SMALL, feature_dim=16)


@pytest.mark.slow  # ~10 s on a loaded 2-core machine (rendering + 60 steps + torch.optim's first import)
def test_learns_a_separable_attribute(background_set) -> None:
    torch.set_num_threads(1)
    imgs, labs = background_set
    model, rep = train_classifier(imgs[:160], labs[:160], _config(), steps=60, batch=32, lr=5e-3, seed=0,
                                  held_out=(imgs[160:], labs[160:]), log_every=20)
    assert rep.held_out["light_background"]["accuracy"] >= 0.95
    assert rep.losses[-1] < rep.losses[0]
    assert set(rep.held_out["smile"]) >= {"accuracy", "mae", "r2", "corr"}
    p = predict(model, imgs[160:])
    assert p.shape == (40, 2) and ((p[:, 0] >= 0) & (p[:, 0] <= 1)).all()


def test_unknown_labels_are_masked(background_set) -> None:
    imgs, labs = background_set
    labs = labs.copy()
    labs[:, 1] = np.nan  # nothing known about the smile: trains, and evaluate skips it
    model, rep = train_classifier(imgs[:64], labs[:64], _config(), steps=3, batch=16)
    assert all(np.isfinite(rep.losses))
    assert "smile" not in evaluate(model, imgs[:8], labs[:8])


def test_features_shape_and_resize() -> None:
    model = AttributeClassifier(_config()).eval()
    x = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    f = extract_features(model, x)  # 64 px input is resized to the classifier's 32
    assert f.shape == (5, 16) and np.isfinite(f).all()


def test_frechet_distance_properties() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 8)) @ rng.normal(size=(8, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifts = [frechet_distance(a, a + d) for d in (0.1, 0.5, 1.0)]
    assert shifts == pytest.approx([8 * d * d for d in (0.1, 0.5, 1.0)], rel=1e-6)  # |mu diff|^2
    # scaling: Sb = 4 Sa, so (Sa Sb)^1/2 = 2 Sa and d = |mu_a|^2 + tr Sa exactly
    mu, cov = a.mean(0), np.cov(a, rowvar=False)
    assert frechet_distance(a, 2 * a) == pytest.approx(float(mu @ mu + np.trace(cov)), rel=1e-6)
    b = rng.normal(size=(2000, 8)) @ rng.normal(size=(8, 8))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    with pytest.raises(ValueError):
        frechet_distance(a, a[:, :4])


def test_save_and_load_round_trip(tmp_path, background_set) -> None:
    imgs, _ = background_set
    model = AttributeClassifier(_config()).eval()
    path = save_classifier(model, tmp_path / "c.safetensors", {"note": "x"})
    again, info = load_classifier(path)
    assert info == {"note": "x"} and again.config == model.config
    assert np.allclose(predict(model, imgs[:4]), predict(again, imgs[:4]), atol=1e-6)
    half = save_classifier(model, tmp_path / "h.safetensors", half=True)
    assert half.stat().st_size < 0.6 * path.stat().st_size
    assert np.allclose(predict(model, imgs[:4]), predict(load_classifier(half)[0], imgs[:4]), atol=2e-2)


def test_foreign_files_are_refused(tmp_path) -> None:
    from safetensors.torch import save_file

    bad = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(bad))
    with pytest.raises(ValueError, match="not an attribute classifier"):
        load_classifier(bad)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_classifier(junk)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="same"):
        ClassifierConfig(("a",), ("binary", "binary"), (0.0,), (1.0,))
    with pytest.raises(ValueError, match="kind"):
        ClassifierConfig(("a",), ("ordinal",), (0.0,), (1.0,))
    cfg = ClassifierConfig.from_attributes(faces.ATTRIBUTES)
    assert ClassifierConfig.from_json(cfg.to_json()) == cfg
