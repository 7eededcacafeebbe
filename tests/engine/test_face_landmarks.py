"""Labelled face sliders (issue 14, point 4): MediaPipe's face landmarks run with LiteRT, the
face measures, the InterFaceGAN fit, and `ganpaint directions label` end to end.

The landmark runner is checked on a real photograph (scikit-image's public-domain astronaut
portrait, from the scikit-image wheel `ganpaint data build` already fetches from PyPI); the
models come from the pinned mediapipe wheel (PyPI), skipped when neither is reachable. The
end-to-end test uses a 16 px random StyleGAN2 and a labeller that measures the pictures'
brightness instead of landmarks (tiny random generators draw no faces)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import platformdirs
import pytest
import torch

from ganpaint.engine.models.directions import DirectionsError
from ganpaint.latent import face_landmarks as F
from ganpaint.latent.interfacegan import fit_direction, label_for_model

USER_CACHE = Path(platformdirs.user_cache_dir("ganpaint", appauthor=False))  # before tests move GANPAINT_DATA_DIR
ASTRONAUT = USER_CACHE / "data" / "_sources" / "wheel" / "scikit-image" / "skimage" / "data" / "astronaut.png"


# ------------------------------------------------------------------------------------ synthetic landmarks
def face(*, gap: float = 0.0, mouth_w: float = 50.0, lift: float = 0.0, eye: float = 8.0, jaw: float = 110.0,
         yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """468 face-mesh points of a schematic frontal face (pixels, y down, z towards the viewer
    negative), with the named landmarks placed; turned by yaw/pitch (degrees, 3-D) and roll (2-D)."""
    p = np.zeros((468, 3))
    p[F.FOREHEAD] = (0, -100, 10)
    p[F.CHIN] = (0, 100, 10)
    p[F.NOSE_TIP] = (0, 10, -40)
    p[F.CHEEK_R], p[F.CHEEK_L] = (-75, 0, 20), (75, 0, 20)
    p[F.JAW_R], p[F.JAW_L] = (-jaw / 2, 60, 15), (jaw / 2, 60, 15)
    p[F.LIP_UPPER_INNER], p[F.LIP_LOWER_INNER] = (0, 50 - gap / 2, -10), (0, 50 + gap / 2, -10)
    p[F.MOUTH_R], p[F.MOUTH_L] = (-mouth_w / 2, 50 - lift, -5), (mouth_w / 2, 50 - lift, -5)
    for sign, (outer, inner, lids) in ((-1, F.EYE_R), (1, F.EYE_L)):
        cx = sign * 32
        p[outer], p[inner] = (cx + sign * 15, -30, 0), (cx - sign * 15, -30, 0)
        for k, (up, lo) in enumerate(lids):
            x = cx + (k - 0.5) * 8 * sign
            p[up], p[lo] = (x, -30 - eye / 2, 0), (x, -30 + eye / 2, 0)
    a, b = math.radians(yaw), math.radians(pitch)
    # yaw about the vertical axis (positive: the nose goes to the picture's right), pitch about x
    # (positive: the chin comes towards the viewer)
    ry = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    p = p @ (rx @ ry).T
    c, s = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    p[:, :2] = p[:, :2] @ np.array([[c, -s], [s, c]]).T
    return p * scale + np.array([300.0, 200.0, 0.0])


def test_measures_follow_the_geometry() -> None:
    neutral = F.measures(face())
    assert set(neutral) == set(F.MEASURES)
    assert F.measures(face(gap=20))["mouth_open"] > neutral["mouth_open"] + 0.05
    assert neutral["mouth_open"] == 0.0
    assert F.measures(face(mouth_w=70, lift=6))["smile"] > neutral["smile"] + 0.3
    assert F.measures(face(lift=6))["smile"] > neutral["smile"]  # raised corners alone
    assert F.measures(face(lift=-6))["smile"] < neutral["smile"]  # a frown
    assert F.measures(face(eye=14))["eyes_open"] > neutral["eyes_open"] > F.measures(face(eye=2))["eyes_open"]
    assert F.measures(face(jaw=140))["face_shape"] > neutral["face_shape"]
    assert abs(neutral["yaw"]) < 1e-9 and abs(neutral["pitch"]) < 1e-9
    assert F.measures(face(yaw=20))["yaw"] == pytest.approx(20, abs=0.5)
    assert F.measures(face(yaw=-20))["yaw"] == pytest.approx(-20, abs=0.5)
    assert F.measures(face(pitch=15))["pitch"] == pytest.approx(15, abs=0.5)


def test_measures_ignore_roll_scale_and_position() -> None:
    ref = F.measures(face(gap=10, lift=3, eye=9))
    moved = F.measures(face(gap=10, lift=3, eye=9, roll=25, scale=3.0))
    for k in ("mouth_open", "smile", "eyes_open", "face_shape", "yaw", "pitch"):
        assert moved[k] == pytest.approx(ref[k], abs=1e-6), k
    with pytest.raises(ValueError, match="468"):
        F.measures(np.zeros((68, 2)))


# ------------------------------------------------------------------------------------ the fit
@pytest.mark.parametrize("method", ["regression", "boundary"])
def test_fit_recovers_a_planted_linear_direction(method: str) -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3000, 32)) * rng.uniform(0.3, 2.0, 32)  # anisotropic, like W
    true = rng.normal(size=32)
    true /= np.linalg.norm(true)
    labels = w @ true + rng.normal(0, 0.3, 3000)
    labels[::17] = np.nan  # unmeasured samples are left out
    d = fit_direction(torch.from_numpy(w).float(), labels, method=method)
    assert d.shape == (32,) and abs(float(np.linalg.norm(d)) - 1) < 1e-5
    assert float(d @ true) > 0.95
    with pytest.raises(ValueError, match="hardly varies"):
        fit_direction(w, np.ones(3000))


# ------------------------------------------------------------------------------------ the real landmarker
@pytest.fixture(scope="module")
def landmarker() -> F.FaceLandmarker:
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the [landmarks] extra) is not installed")
    try:
        folder = F.fetch_models(USER_CACHE / "face-landmarks", log=lambda m: None)
    except Exception as exc:  # the pinned wheel from PyPI, when not cached and offline
        pytest.skip(f"the mediapipe wheel is not cached and cannot be downloaded: {exc}")
    return F.FaceLandmarker(folder, fetch=False)


def _astronaut() -> np.ndarray:
    from PIL import Image

    if not ASTRONAUT.is_file():
        pytest.skip(f"no offline face photograph: {ASTRONAUT} (from the scikit-image wheel that `ganpaint data "
                    "build` downloads) is missing")
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def test_landmarker_on_a_real_photograph(landmarker: F.FaceLandmarker) -> None:
    img = _astronaut()  # 512 x 512, Eileen Collins facing the camera, smiling
    pts = landmarker.landmarks(img)
    assert pts is not None and pts.shape == (468, 3)
    # the face is at x 180..275, y 70..180 of the portrait
    assert 200 < pts[F.NOSE_TIP, 0] < 245 and 115 < pts[F.NOSE_TIP, 1] < 145
    assert pts[F.EYE_R[0], 0] < pts[F.NOSE_TIP, 0] < pts[F.EYE_L[0], 0]
    assert pts[F.FOREHEAD, 1] < pts[F.EYE_R[0], 1] < pts[F.NOSE_TIP, 1] < pts[F.LIP_UPPER_INNER, 1] < pts[F.CHIN, 1]
    m = F.measures(pts)
    assert abs(m["yaw"]) < 10 and 0.15 < m["eyes_open"] < 0.45 and m["mouth_open"] > 0.02 and m["smile"] > 1.0

    # rolled by 25 degrees: the detector's rotated crop follows, the measures barely move
    from PIL import Image

    rolled = np.asarray(Image.fromarray(img).rotate(25, resample=Image.Resampling.BICUBIC, center=(225, 125)))
    m2 = F.measures(landmarker.landmarks(rolled))
    assert abs(m2["eyes_open"] - m["eyes_open"]) < 0.05 and abs(m2["smile"] - m["smile"]) < 0.12
    assert abs(m2["yaw"] - m["yaw"]) < 6

    grey = np.full((256, 256, 3), 128, np.uint8)
    assert landmarker.landmarks(grey) is None
    both = landmarker(np.stack([img[::2, ::2], grey]))
    assert np.isfinite(both["mouth_open"][0]) and np.isnan(both["mouth_open"][1])


def test_fetch_refuses_a_wrong_wheel(tmp_path: Path) -> None:
    fake = tmp_path / F.WHEEL_FILENAME
    fake.write_bytes(b"not the wheel")
    with pytest.raises(F.ModelFileError, match="not the pinned"):
        F.fetch_models(tmp_path / "cache", wheel=fake, log=lambda m: None)
    assert not any((tmp_path / "cache").glob("*.tflite"))


def test_without_litert_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(F.LandmarksUnavailable, match=r"ai-edge-litert \(pip install 'ganpaint\[landmarks\]'\)"):
        F.FaceLandmarker()


# ------------------------------------------------------------------------------------ end to end
NAMES = ("mouth_open", "smile", "eyes_open")


def brightness_labeller(pictures: np.ndarray) -> dict[str, np.ndarray]:
    """A deterministic stand-in for the landmarker on 16 px pictures: lower half's brightness as
    'mouth_open', red minus blue as 'smile', upper half's brightness as 'eyes_open'."""
    x = pictures.astype(np.float64) / 255.0
    h = x.shape[1] // 2
    return {"mouth_open": x[:, h:].mean((1, 2, 3)), "smile": (x[..., 0] - x[..., 2]).mean((1, 2)),
            "eyes_open": x[:, :h].mean((1, 2, 3))}


def test_label_command_stores_directions_with_selectivity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from ganpaint.cli import directions as cli_directions
    from ganpaint.cli.main import build_parser, main
    from ganpaint.engine.models.directions import directions_path
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.latent.stylegan_tools import Loaded, model_directions
    from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    root = tmp_path / "data" / "models"
    root.mkdir(parents=True)
    make_tiny_stylegan_store(root, "tiny-ffhq")

    args = build_parser().parse_args(["directions", "label", "tiny-ffhq", "--samples", "200", "--sweep-seeds", "6"])
    assert isinstance(args, argparse.Namespace)
    assert cli_directions.label(args, measure=brightness_labeller, measure_names=NAMES) == 0
    out = capsys.readouterr().out
    assert "3 landmark directions from 200/200 measured samples" in out and "Spearman" in out

    meta = json.loads(directions_path("tiny-ffhq").with_suffix(".json").read_text())
    info = meta["directions"]
    assert {"mouth_open", "smile", "eyes"} <= set(info)  # eyes_open is the faces tool's "eyes" slider
    for name in ("mouth_open", "smile", "eyes"):
        assert info[name]["kind"] == "landmark" and info[name]["scale"] > 0
        sel = info[name]["selectivity"]
        assert {"spearman", "target_change", "others_mean_abs_change", "ratio", "random_ratio_median"} <= set(sel)
        assert sel["seeds"] == 6
    # the slider moves its own measure up, monotonically (a linear measure of a smooth generator)
    assert info["mouth_open"]["selectivity"]["spearman"] > 0.9
    assert info["mouth_open"]["selectivity"]["target_change"] > 0

    # the faces tool finds them (the same lookup its run uses) and `directions list` shows the figures
    entry = ModelStore().get("tiny-ffhq")
    from ganpaint.engine.models.directions import stylegan_generator

    G = stylegan_generator(entry)
    ds = model_directions(Loaded(G=G, name=entry.name, sha256=entry.card.sha256, path=entry.path))
    assert ds is not None and {"mouth_open", "smile", "eyes"} <= set(ds.vectors)
    assert main(["directions", "list", "--model", "tiny-ffhq"]) == 0
    listed = capsys.readouterr().out
    assert any(line.startswith("mouth_open") and "landmark" in line and "ratio" in line for line in listed.splitlines())

    # a second run replaces the landmark directions and keeps the others
    assert main(["directions", "compute", "--model", "tiny-ffhq", "--samples", "64", "--components", "2",
                 "--labels", "none"]) == 0
    assert cli_directions.label(args, measure=brightness_labeller, measure_names=NAMES) == 0
    ds2 = model_directions(Loaded(G=G, name=entry.name, sha256=entry.card.sha256, path=entry.path))
    assert {"pc0", "sefa0", "mouth_open"} <= set(ds2.vectors)
    # and `compute` after `label` keeps the landmark sliders (it recomputes only its own kinds)
    assert main(["directions", "compute", "--model", "tiny-ffhq", "--samples", "64", "--components", "2",
                 "--labels", "none"]) == 0
    ds3 = model_directions(Loaded(G=G, name=entry.name, sha256=entry.card.sha256, path=entry.path))
    assert {"pc0", "sefa0", "mouth_open", "smile"} <= set(ds3.vectors)
    assert ds3.info["mouth_open"]["kind"] == "landmark"


def test_a_generator_without_faces_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "data" / "models"
    root.mkdir(parents=True)
    make_tiny_stylegan_store(root, "tiny")
    entry = ModelStore().get("tiny")

    def no_face(pictures: np.ndarray) -> dict[str, np.ndarray]:
        return {k: np.full(len(pictures), np.nan) for k in NAMES}

    with pytest.raises(DirectionsError, match="photographic faces"):
        label_for_model(entry, measure=no_face, measure_names=NAMES, samples=32, sweep_seeds=0)
    with pytest.raises(DirectionsError, match="cartoon"):
        label_for_model(SimpleNamespace(name="faces-default"), measure=no_face, measure_names=NAMES)
