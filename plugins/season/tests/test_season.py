"""The Season transfer tool: descriptors, blending, directions, bad input, imports, CLI."""

from __future__ import annotations

from pathlib import Path

import ganpaint_season
import numpy as np
import pytest
import torch
from ganpaint_season import (
    DEFAULT_MODEL,
    MODEL_FILE,
    TOOL_ID,
    ganpaint_register_models,
    ganpaint_register_tools,
)
from ganpaint_season.tool import run
from PIL import Image

from ganpaint.core.specs import ToolError
from ganpaint.core.toolio import validate_result
from ganpaint.engine.inference.translate import translate_array
from ganpaint.engine.models.loading import load_model
from ganpaint.testing import RecordingContext, make_request

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-season"  # the pairs conftest.py stores
ONE_WAY = "one-way"


def season(image: np.ndarray, ctx: RecordingContext, **params: object):  # type: ignore[no-untyped-def]
    alpha = params.pop("alpha", None)
    req = make_request(image, spec=SPEC, params={"model": TINY, **params}, alpha=alpha)  # type: ignore[arg-type]
    return req, validate_result(req, run(req, ctx))


def test_descriptors() -> None:
    assert ganpaint_season.GANPAINT_API_VERSION == 1
    assert SPEC.id == "season" and SPEC.uses_torch and SPEC.run == "ganpaint_season.tool:run"
    assert SPEC.param("model").kind == "model" and SPEC.param("model").default == DEFAULT_MODEL
    assert SPEC.param("direction").choices == ("summer_to_winter", "winter_to_summer")
    strength = SPEC.param("strength")
    assert (strength.kind, strength.minimum, strength.maximum, strength.live) == ("float", 0.0, 1.0, True)
    assert "SYNTHETIC winter" in SPEC.description


def test_plugin_registers_tool_and_default_model(plugin_host, register_plugin) -> None:  # type: ignore[no-untyped-def]
    record = register_plugin(ganpaint_season, "season")
    assert record.status == "loaded", record.error
    assert "season" in plugin_host.tools()
    (model,) = ganpaint_register_models()
    assert (model.name, model.tool, model.default) == (DEFAULT_MODEL, TOOL_ID, True)
    assert Path(model.path) == MODEL_FILE and MODEL_FILE.stat().st_size <= 30 * 2**20


def test_forward_is_the_forward_generator_and_reverse_the_other(picture, ctx, tiny_store) -> None:  # type: ignore[no-untyped-def]
    img = picture()
    _, fwd = season(img, ctx, keep_picture=False)  # the network's raw output
    _, rev = season(img, ctx, direction="winter_to_summer", keep_picture=False)
    path = str(tiny_store[TINY])
    want_f = translate_array(load_model(path, component="forward"), img)
    want_r = translate_array(load_model(path, component="reverse"), img)
    np.testing.assert_allclose(fwd.image, want_f, atol=1e-5)
    np.testing.assert_allclose(rev.image, want_r, atol=1e-5)
    assert np.abs(fwd.image - rev.image).mean() > 0.01
    assert fwd.metadata["component"] == "forward" and rev.metadata["component"] == "reverse"


def test_strength_blends_with_the_original(picture, ctx) -> None:  # type: ignore[no-untyped-def]
    img = picture(seed=1)
    _, zero = season(img, ctx, strength=0.0)
    np.testing.assert_array_equal(zero.image, img)
    _, full = season(img, ctx, strength=1.0)
    _, half = season(img, ctx, strength=0.5)
    np.testing.assert_allclose(half.image, 0.5 * img + 0.5 * full.image, atol=1e-5)


def test_live_strength_reuses_the_translation(picture, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ganpaint_season.tool as tool

    img = picture(seed=2)
    season(img, ctx, strength=0.3)
    calls = []
    monkeypatch.setattr(tool, "translate_array", lambda *a, **k: calls.append(1))
    season(img, ctx, strength=0.7)  # same picture, model and direction: only re-blended
    assert calls == []


def test_one_pixel_picture(picture, ctx) -> None:  # type: ignore[no-untyped-def]
    _, res = season(np.full((1, 1, 3), 0.4, np.float32), ctx)
    assert res.image.shape == (1, 1, 3) and np.isfinite(res.image).all()


def test_alpha_is_restored_and_transparent_colour_ignored(picture, ctx) -> None:  # type: ignore[no-untyped-def]
    img = picture(seed=3)
    alpha = np.ones(img.shape[:2], np.float32)
    alpha[:, :20] = 0.0
    alpha[10:20, 30:40] = 0.5
    _, a = season(img, ctx, alpha=alpha)
    np.testing.assert_array_equal(a.alpha, alpha)
    other = img.copy()
    other[:, :20] = 0.0  # what hides under alpha 0 must not change the visible result
    _, b = season(other, ctx, alpha=alpha)
    np.testing.assert_allclose(a.image[:, 20:], b.image[:, 20:], atol=1e-5)
    with pytest.raises(ToolError, match="fully transparent"):
        season(img, ctx, alpha=np.zeros(img.shape[:2], np.float32))


def test_wrong_kind_of_model_gets_a_clear_message(picture, ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolError, match=r"Season: model 'tiny' is a tiny-residual-conv model .* not a picture-to"):
        season(picture(), ctx, model="tiny")
    with pytest.raises(ToolError, match="only the forward generator, so it cannot run winter to summer"):
        season(picture(), ctx, model=ONE_WAY, direction="winter_to_summer")
    _, ok = season(picture(), ctx, model=ONE_WAY)  # its forward direction works
    assert ok.image.shape == (48, 64, 3)
    with pytest.raises(ToolError, match="no model 'nothing'"):
        season(picture(), ctx, model="nothing")


def test_shipped_default_gives_a_real_result(picture, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GANPAINT_BACKEND", "eager")  # no graph conversion in a unit test
    assert MODEL_FILE.is_file(), f"the default model is missing: {MODEL_FILE}"
    ctx = RecordingContext(models={(DEFAULT_MODEL, TOOL_ID): str(MODEL_FILE)})
    img = picture(64, 96, seed=4)
    req = make_request(img, spec=SPEC)
    out = validate_result(req, run(req, ctx)).image
    assert out.shape == img.shape
    assert np.abs(out - img).mean() > 0.03  # not the input
    assert out.reshape(-1, 3).std(0).min() > 0.01  # not a constant
    assert out[..., 1].mean() > img[..., 1].mean()  # winter: the green land gets lighter (snow)


def _official_file(path: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    from ganpaint.nn import ResnetConfig, ResnetGenerator

    g = ResnetGenerator(ResnetConfig(ngf=8, n_blocks=2))  # official key layout, random weights
    torch.save(g.state_dict(), path)
    return path


def test_official_pair_imports_as_a_season_model_and_runs_from_the_cli(picture, isolated_data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ganpaint.cli.main import main
    from ganpaint.engine.models.store import ModelStore

    s2w = _official_file(tmp_path / "summer2winter.pth", 5)
    w2s = _official_file(tmp_path / "winter2summer.pth", 6)
    assert main(["models", "import", str(s2w), str(w2s), "--as", "yosemite", "--tool", "season"]) == 0
    store = ModelStore(defaults=ganpaint_register_models())
    assert {"yosemite", DEFAULT_MODEL} <= {e.name for e in store.list(tool="season")}
    path = store.path_for("yosemite", "season")

    src = tmp_path / "in.png"
    Image.fromarray((picture() * 255).astype(np.uint8)).save(src)
    out = tmp_path / "out.png"
    argv = ["run", "season", str(src), "-o", str(out), "--model", "yosemite", "--set", "direction=winter_to_summer",
            "--set", "keep_picture=false", "-q"]
    assert main(argv) == 0
    got = np.asarray(Image.open(out).convert("RGB"), np.float32) / 255
    x = np.asarray(Image.open(src).convert("RGB"), np.float32) / 255
    g_b = torch.load(w2s, weights_only=True)
    want = translate_array(load_model(path, component="reverse"), x)
    assert all(torch.equal(g_b[k], v) for k, v in load_model(path, component="reverse").state_dict().items())
    assert np.abs(got - want).max() <= 1.5 / 255
