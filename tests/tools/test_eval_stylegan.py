"""tools/eval_stylegan.py: the measurements that judge a StyleGAN2 model, on tiny generators."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.engine.models.directions import DirectionSet, fit_boundary, std_along, w_samples
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    name = "eval_stylegan_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "eval_stylegan.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    return mod


E = _load_tool()


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def tiny_generator(seed: int = 0, size: int = 16) -> Generator:
    torch.manual_seed(seed)
    channels = (16, 16, 8) if size == 16 else (16, 16, 8, 8)
    return Generator(StyleGAN2Config(size=size, style_dim=16, n_mlp=2, channels=channels)).eval().requires_grad_(False)


def smooth_pictures(n: int, size: int = 16, seed: int = 0, tint: float = 0.0) -> np.ndarray:
    """uint8 (n, size, size, 3): random smooth colour gradients (one distribution per ``tint``)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        a, b, c = rng.random(3), rng.random(3), rng.random(3)
        img = a * 0.6 + np.outer(xx.ravel(), b).reshape(size, size, 3) * 0.3 + np.outer(yy.ravel(), c).reshape(
            size, size, 3) * 0.3
        img[..., 0] += tint
        out.append(img)
    return E.to_u8(np.stack(out))


def lowpass_features(pics: np.ndarray) -> np.ndarray:
    return E.low_pass(pics, 4).reshape(len(pics), -1).astype(np.float64)


# ------------------------------------------------------------------ metrics


def test_psnr_known_values() -> None:
    a = np.full((8, 8, 3), 0.2, np.float32)
    assert E.psnr(a, a + 0.1) == pytest.approx(20.0, abs=1e-4)  # mse 0.01
    assert E.psnr(a, a) == 100.0
    b = np.zeros((8, 8, 3), np.uint8)
    c = np.full((8, 8, 3), 51, np.uint8)  # 0.2 -> mse 0.04 -> 13.98 dB
    assert E.psnr(b, c) == pytest.approx(10 * math.log10(1 / 0.04), abs=1e-4)


def test_ssim_is_one_for_equal_pictures_and_drops_with_noise() -> None:
    pic = smooth_pictures(1, 32)[0]
    assert E.ssim(pic, pic) == pytest.approx(1.0, abs=1e-9)
    noisy = E.to_u8(E.to_float(pic) + np.random.default_rng(0).normal(0, 0.2, pic.shape))
    s = E.ssim(pic, noisy)
    assert 0.0 < s < 0.8
    assert E.ssim(noisy, pic) == pytest.approx(s)


def test_spearman() -> None:
    x = np.arange(7.0)
    assert E.spearman(x, x**3) == pytest.approx(1.0)
    assert E.spearman(x, -np.exp(x)) == pytest.approx(-1.0)
    assert E.spearman(x, np.ones(7)) == 0.0
    # ties share their average rank: ranks of y are (0.5, 0.5, 2, 3) -> Pearson with (0, 1, 2, 3)
    ry = np.array([0.5, 0.5, 2, 3]) - 1.5
    rx = np.arange(4.0) - 1.5
    assert E.spearman(np.arange(4.0), [1, 1, 2, 3]) == pytest.approx((rx @ ry) / np.sqrt((rx @ rx) * (ry @ ry)))


def test_frechet_of_a_set_with_itself_is_zero_and_grows_with_a_shift() -> None:
    f = np.random.default_rng(0).normal(size=(400, 6))
    assert E.frechet(f, f) == pytest.approx(0.0, abs=1e-8)
    ds = [E.frechet(f, f + s) for s in (0.1, 0.5, 1.0)]
    # a pure shift of every feature by s adds exactly |shift|^2 = 6 s^2
    assert ds == pytest.approx([6 * 0.01, 6 * 0.25, 6.0], rel=1e-6)


def test_fd_rows_floor_model_and_baselines() -> None:
    n = 150
    real = smooth_pictures(2 * n, seed=1)
    same = smooth_pictures(n, seed=2)  # another draw of the real distribution
    off = smooth_pictures(n, seed=3, tint=0.3)  # a redder distribution
    rep = E.fd_rows({"like real": same, "too red": off}, real[:n], real[n:], lowpass_features)
    rows = rep["rows"]
    floor = rows["floor (real A vs real B)"]["fd"]
    assert rep["n"] == n
    assert rows["like real"]["fd"] < 3 * floor
    assert rows["too red"]["fd"] > 10 * rows["like real"]["fd"]
    assert rows["too red"]["over_floor"] == pytest.approx(rows["too red"]["fd"] / floor)
    assert rows["mean-colour real B"]["fd"] > rows["like real"]["fd"]
    with pytest.raises(ValueError, match="same number"):
        E.fd_rows({"short": same[:10]}, real[:n], real[n:], lowpass_features)


def test_degraded_baselines() -> None:
    pics = smooth_pictures(4, 16)
    flat = E.flat_colour(pics)
    assert np.all(flat == flat[:, :1, :1])
    np.testing.assert_allclose(flat[:, 0, 0].astype(float), E.to_float(pics).mean((1, 2)) * 255, atol=0.51)
    assert E.blurred(pics).shape == pics.shape


# ------------------------------------------------------------------ sliders


def test_judge_sweep_on_synthetic_attributes() -> None:
    rng = np.random.default_rng(0)
    amounts = np.linspace(-3, 3, 7)
    n, k = 20, 4
    attrs = rng.normal(0, 0.01, (n, 7, k))
    attrs[:, :, 1] += 0.1 * amounts  # attribute 1 follows the slider
    spans = np.array([1.0, 2.0, 1.0, 1.0])
    r = E.judge_sweep(attrs, amounts, 1, spans)
    assert r["spearman"] > 0.95 and r["spearman_mean_curve"] == pytest.approx(1.0)
    assert r["target_change"] == pytest.approx(0.6 / 2.0, abs=0.02)  # in units of the range
    assert r["ratio"] > 10
    r0 = E.judge_sweep(attrs, amounts, 0, spans)  # attribute 0 does not follow it
    assert abs(r0["spearman"]) < 0.5 and abs(r0["ratio"]) < 1
    assert r0["worst_other"] == 1


def _colour_judge() -> E.Judge:
    """Fake classifier: redness, blue-minus-green, top-minus-bottom and left-minus-right brightness
    (orthogonal contrasts of the pictures)."""
    def predict(p: np.ndarray) -> np.ndarray:
        x = E.to_float(p).astype(np.float64)
        lum = x.mean(-1)
        h = x.shape[1] // 2
        return np.stack([x[..., 0].mean((1, 2)) - x[..., 1:].mean((1, 2, 3)),
                         x[..., 2].mean((1, 2)) - x[..., 1].mean((1, 2)),
                         lum[:, :h].mean((1, 2)) - lum[:, h:].mean((1, 2)),
                         lum[:, :, :h].mean((1, 2)) - lum[:, :, h:].mean((1, 2))], 1)

    return E.Judge(("red", "blue", "top", "left"), np.ones(4), predict, lowpass_features)


def _red_and_top_boundaries():  # type: ignore[no-untyped-def]
    """A tiny generator, the colour judge, 600 w samples and the boundaries of 'red' and 'top'."""
    G = tiny_generator(3)
    judge = _colour_judge()
    _, w = w_samples(G, 600, seed=5)
    with torch.inference_mode():
        pics = E.synth_u8(G, S.broadcast(G, w), batch=100)
    labels = judge.predict(pics)
    return G, judge, w, fit_boundary(w, labels[:, 0]), fit_boundary(w, labels[:, 2])


def test_slider_judge_finds_a_direction_that_truly_moves_its_attribute() -> None:
    G, judge, w, d, d_top = _red_and_top_boundaries()
    ds = DirectionSet("tiny", "sha", G.style_dim)
    ds.add("redder", d, kind="boundary", scale=std_along(w, d), attribute="red")
    # the boundary of "top" filed under "red": the judge must see that red does not follow it
    ds.add("mislabelled", d_top, kind="boundary", scale=std_along(w, d_top), attribute="red")
    ds.add("pc0", torch.randn(G.style_dim), kind="ganspace", scale=1.0)  # no attribute: not judged
    rep = E.judge_sliders(G, ds, judge, n=12, amounts=[-2, -1, 0, 1, 2], psi=0.7, random_k=4, seed=1, model="tiny")
    r, bad = rep["directions"]["redder"], rep["directions"]["mislabelled"]
    assert list(rep["directions"]) == ["redder", "mislabelled"] and rep["unjudged"] == ["pc0"]
    assert r["attribute"] == "red" and r["spearman"] > 0.9 and r["target_change"] > 0
    assert r["ratio"] > 3 and r["ratio"] > rep["random_summary"]["ratio_max"]
    assert abs(bad["ratio"]) < 1 and bad["worst_other"] == "top"
    ident = r["identity"]
    assert ident["features_moved"] > 0 and "identity_features_ratio" not in ident  # the fake judge has none
    assert set(rep["random_baseline"]) == {f"random{i}" for i in range(4)}


def test_slider_verdict_rule() -> None:
    from ganpaint.latent.interfacegan import slider_verdict

    good = {"spearman": 0.97, "target_change": 0.4, "ratio": 5.0}
    assert slider_verdict(good, 2.2) == ""
    assert "monotonic" in slider_verdict({**good, "spearman": 0.83}, 2.2)
    assert "too little" in slider_verdict({**good, "target_change": 0.22}, 2.2)
    assert "too little" in slider_verdict({**good, "target_change": -0.6}, 2.2)  # the wrong way
    assert "selective" in slider_verdict({**good, "ratio": 1.5}, 2.2)
    assert slider_verdict({**good, "ratio": float("nan")}, 2.2)  # a NaN never passes
    both = slider_verdict({"spearman": 0.5, "target_change": 0.1, "ratio": 1.0}, 2.2)
    assert both.count(";") == 2


def test_withhold_rewrites_the_models_directions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sliders --withhold: the failing slider leaves the model's own file (reason kept), the
    passing one and the unjudged ones stay; the faces panel's hook then hides it."""
    import argparse

    import ganpaint_faces

    from ganpaint.engine.models.directions import load_directions, save_directions

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "user"))
    G, judge, w, d, d_top = _red_and_top_boundaries()
    model_file = tmp_path / "plugin" / "models" / "tiny.safetensors"
    model_file.parent.mkdir(parents=True)
    ds = DirectionSet("tiny", "sha", G.style_dim)
    ds.add("hair_red", d, kind="boundary", scale=std_along(w, d), attribute="red")
    ds.add("smile", d_top, kind="boundary", scale=std_along(w, d_top), attribute="red")  # moves "top", not red
    ds.add("pc0", torch.randn(G.style_dim), kind="ganspace", scale=1.0)
    save_directions(ds, model_file.parent)
    rep = E.judge_sliders(G, ds, judge, n=12, amounts=[-2, -1, 0, 1, 2], psi=0.7, random_k=4, seed=1, model="tiny")
    E.add_verdicts(rep)
    assert rep["verdicts"]["hair_red"] == "" and "selective" in rep["verdicts"]["smile"]
    ld = E.Loaded(G, "tiny", name="tiny", sha256="sha", path=str(model_file))
    args = argparse.Namespace(compute_directions=0, directions=None)
    line = E.withhold_failing(ld, args, rep["verdicts"])
    assert "withheld" in line and "smile" in line
    again = load_directions("tiny", root=model_file.parent)
    assert again is not None and set(again.vectors) == {"hair_red", "pc0"}
    assert again.withheld == {"smile": rep["verdicts"]["smile"]}
    hidden = ganpaint_faces.hidden_sliders({"model": "tiny"}, lambda n, t: str(model_file))
    assert "smile" in hidden and "hair_red" not in hidden
    with pytest.raises(SystemExit, match="random baseline"):
        E.withhold_failing(ld, args, {})


def test_random_directions_are_unit_and_scaled_like_boundaries() -> None:
    G = tiny_generator(1)
    ds = E.random_directions(G, 3, seed=0, n_w=300)
    _, w = w_samples(G, 300, 101)
    for name, v in ds.vectors.items():
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
        assert ds.scale(name) == pytest.approx(std_along(w, v), rel=1e-5)


# ------------------------------------------------------------------ inversion, sheet


def test_inversion_beats_the_mean_latent_on_a_picture_the_generator_can_make() -> None:
    G = tiny_generator(2)
    targets = E.to_float(E.sample_pictures(G, 2, seed=9, psi=1.0, noise="const"))
    rep = E.judge_inversion(G, targets, steps=40, k_random=8, keep=1, init_G=E.initial_generator(G, 5))
    s = rep["summary"]
    assert rep["n"] == 2 and len(rep["pictures"]) == 1 and len(rep["pictures"][0]) == 5
    assert s["inverted_psnr"] > s["mean_psnr"] + 3
    assert s["inverted_beats_mean"] == 2 and 0 <= s["inverted_beats_init_inverted"] <= 2
    assert len(rep["each"]["init_inverted_psnr"]) == 2 and len(rep["each"]["best_random_psnr"]) == 2
    assert -1 <= s["inverted_ssim"] <= 1


def test_contact_sheet_sections(tmp_path: Path) -> None:
    G = tiny_generator(0)
    ds = DirectionSet("tiny", "sha", G.style_dim)
    ds.add("smile", torch.randn(G.style_dim), kind="boundary", scale=1.0, attribute="smile")
    secs = E.model_sections(G, "tiny", ds, seed=0, psi=0.7, n_samples=4, n_mix=2, amounts=[-1, 0, 1],
                            slider_names=["smile"])
    titles = [t for t, _, _ in secs]
    assert len(secs) == 3 and "style mixing" in titles[1] and "slider" in titles[2]
    mix_rows = secs[1][1]
    assert len(mix_rows) == 3 and all(len(c) == 1 + 3 * 2 for _, c in mix_rows)
    out = E.grid_sheet(secs, tmp_path / "sheet.png", cell=20)
    with Image.open(out) as im:
        assert im.width >= 7 * 20 and im.height > 5 * 20


# ------------------------------------------------------------------ checkpoints and the command line


def _tiny_run(run: Path, step: int) -> Generator:
    """A training checkpoint of a tiny stylegan2 recipe, EMA weights different from the live ones."""
    from ganpaint.train.checkpoints import save_checkpoint
    from ganpaint.train.recipes import make_recipe

    recipe = make_recipe("stylegan2", {"crop": 16, "style_dim": 16, "n_mlp": 2, "widths": "16,16,8"})
    torch.manual_seed(step)
    live, ema = Generator(recipe.generator_config()), Generator(recipe.generator_config())
    opt = torch.optim.Adam(live.parameters())
    save_checkpoint(run, step=step, modules={"G": live}, optimizers={"G": opt}, ema={"G": ema},
                    meta={"recipe": "stylegan2", "config": recipe.config(), "seed": 0, "steps": 100})
    return ema


def test_snapshots_keep_each_checkpoint_and_load_the_ema_generator(tmp_path: Path) -> None:
    run = tmp_path / "run"
    ema10 = _tiny_run(run, 10)
    first = E.snapshot_once(run)
    assert first is not None and first.name == "ema-step000010.safetensors"
    assert E.snapshot_once(run) is None  # that step is kept already
    ema20 = _tiny_run(run, 20)
    assert E.snapshot_once(run) is not None
    files = E.run_checkpoints(run)  # snapshots 10 and 20; the current checkpoint is step 20 too
    assert [f.name for f in files] == ["ema-step000010.safetensors", "ema-step000020.safetensors"]
    for f, want in zip(files, (ema10, ema20), strict=True):
        ld = E.load_generator(str(f))
        assert ld.step in (10, 20) and ld.label == f"run step {ld.step}"
        for k, v in want.state_dict().items():
            assert torch.equal(ld.G.state_dict()[k], v)
    assert E.load_generator(str(run)).step == 20  # a run folder = its current checkpoint


def test_fd_command_line_on_a_checkpoint(tmp_path: Path) -> None:
    data = tmp_path / "real"
    data.mkdir()
    for i, pic in enumerate(smooth_pictures(24, 24, seed=4)):  # 24 px: resized to 16 like training does
        Image.fromarray(pic).save(data / f"{i:03d}.png")
    _tiny_run(tmp_path / "run", 5)
    out = tmp_path / "fd.json"
    assert E.main(["fd", "--checkpoints", str(tmp_path / "run"), "--data", str(data), "--n", "12",
                   "--out", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["n"] == 12 and rep["size"] == 16
    assert {"floor (real A vs real B)", "random init generator", "run step 5", "blurred real B (4x)",
            "mean-colour real B"} <= set(rep["rows"])
    assert all(r["fd"] >= 0 for r in rep["rows"].values())
    with pytest.raises(SystemExit, match="asked for 26"):
        E.main(["fd", "--checkpoints", str(tmp_path / "run"), "--data", str(data), "--n", "13"])
