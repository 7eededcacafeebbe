"""The Style mixing tool: sources, crossover, presets, inversion, latents, messages."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from ganpaint_stylemix import ganpaint_register_tools
from ganpaint_stylemix.tool import preset_range, run

from ganpaint.core.specs import Role, ToolError, ToolRequest
from ganpaint.testing import RecordingContext

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-gan"  # stored by conftest.tiny_store


def _request(params: dict, image: np.ndarray | None = None, canvas: tuple[int, int] = (16, 16)) -> ToolRequest:
    p = SPEC.resolve_params({"model": TINY, **params})
    images = {} if image is None else {Role.IMAGE: image}
    size = canvas if image is None else (image.shape[1], image.shape[0])
    return ToolRequest(SPEC.id, images, p, canvas=size)


def _gen(ctx: RecordingContext, **params) -> np.ndarray:  # type: ignore[no-untyped-def]
    return run(_request(params), ctx).image


def test_spec_is_declared_as_the_brief_says() -> None:
    assert SPEC.id == "stylemix" and SPEC.inputs[0].role is Role.IMAGE and not SPEC.inputs[0].required
    assert {"model", "seed", "seed_b", "crossover", "preset", "psi", "noise", "size", "z", "z_b"} <= {
        p.name for p in SPEC.params}


def test_crossover_all_gives_a_and_zero_gives_b(ctx: RecordingContext) -> None:
    a = _gen(ctx, seed=3, seed_b=8, crossover=32, preset="custom")
    b = _gen(ctx, seed=8, seed_b=3, crossover=32, preset="custom")
    assert np.array_equal(_gen(ctx, seed=3, seed_b=8, crossover=6, preset="custom"), a)  # n_styles = 6 at 16 px
    assert np.array_equal(_gen(ctx, seed=3, seed_b=8, crossover=0, preset="custom"), b)
    mixed = _gen(ctx, seed=3, seed_b=8, crossover=4, preset="custom")
    assert not np.array_equal(mixed, a) and not np.array_equal(mixed, b)
    coarse = run(_request({"seed": 3, "seed_b": 8, "preset": "coarse"}), ctx)
    assert coarse.metadata["styles_from_b"] == [0]  # 6 inputs: coarse = the 4 px ones
    assert preset_range(18, "coarse") == (0, 4) and preset_range(18, "middle") == (4, 8)
    assert preset_range(18, "fine") == (8, 18)


def test_latent_is_attached_and_reproduces_through_z_files(ctx: RecordingContext, tmp_path: Path) -> None:
    res = run(_request({"seed": 5, "seed_b": 6, "crossover": 3, "preset": "custom", "psi": 0.7}), ctx)
    ws = np.load(io.BytesIO(res.attachments["latent.npy"]))
    assert ws.shape == (1, 6, 16) and res.metadata["latent"] == "latent.npy"
    path = tmp_path / "latent.npy"
    path.write_bytes(res.attachments["latent.npy"])
    again = run(_request({"z": str(path), "crossover": 32, "preset": "custom"}), ctx)  # the stored W+ latent, re-edited
    assert np.abs(again.image - res.image).max() < 1e-5
    z = np.random.default_rng(0).normal(size=(16,)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "bad.npy", np.zeros((3, 5), np.float32))
    assert run(_request({"z": str(tmp_path / "z.npy")}), ctx).metadata["source_a"] == "z"
    with pytest.raises(ToolError, match=r"latent of shape \(3, 5\)"):
        run(_request({"z": str(tmp_path / "bad.npy")}), ctx)


def test_generated_square_is_placed_on_the_canvas(ctx: RecordingContext) -> None:
    res = run(_request({"seed": 1, "size": 24}, canvas=(40, 30)), ctx)
    assert res.image.shape == (30, 40, 3) and res.alpha is not None
    assert res.alpha.sum() == 24 * 24 and res.alpha[15, 20] == 1 and res.alpha[0, 0] == 0
    assert run(_request({"seed": 1}, canvas=(16, 16)), ctx).alpha is None  # fills the canvas


def test_a_picture_is_inverted_and_keeps_its_size(ctx: RecordingContext) -> None:
    rng = np.random.default_rng(1)
    pic = np.clip(np.linspace(0, 1, 30 * 20 * 3).reshape(20, 30, 3) + rng.normal(0, 0.05, (20, 30, 3)), 0, 1)
    res = run(_request({"steps": 3}, image=pic.astype(np.float32)), ctx)
    assert res.image.shape == (20, 30, 3) and res.alpha is None and res.metadata["source_a"] == "inverted"
    blank = np.ones((20, 30, 3), np.float32)  # the command line's white canvas: generate
    assert run(_request({"steps": 3}, image=blank), ctx).metadata["source_a"] == "seed"
    with pytest.raises(ToolError, match="at least 16 px"):
        run(_request({"source": "invert"}, image=pic[:10, :10].astype(np.float32)), ctx)


def test_no_model_gives_the_import_or_train_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))  # an empty store
    # no model chosen (the default is scenes-default when its file ships; "" = none chosen)
    req = ToolRequest(SPEC.id, {}, SPEC.resolve_params({"model": ""}), canvas=(16, 16))
    with pytest.raises(ToolError, match="ganpaint models import .*ganpaint train stylegan2"):
        run(req, RecordingContext())


def test_a_draft_is_synthesised_smaller_and_never_inverts(ctx: RecordingContext,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``request.preview`` (a live drag): the generator stops at PREVIEW_SIZE, the draft still
    fills the canvas; a picture not inverted yet is shown as it is, with a note."""
    from dataclasses import replace

    from ganpaint.latent import stylegan_tools

    params = {"seed": 3, "seed_b": 8, "crossover": 3}
    final = run(_request(params, canvas=(30, 20)), ctx)
    assert "draft_size" not in final.metadata
    monkeypatch.setattr(stylegan_tools, "PREVIEW_SIZE", 8)
    draft = run(replace(_request(params, canvas=(30, 20)), preview=True), ctx)
    assert draft.image.shape == final.image.shape == (20, 30, 3) and draft.metadata["draft_size"] == 8
    assert np.array_equal(draft.alpha, final.alpha) and not np.allclose(draft.image, final.image, atol=1e-3)
    stylegan_tools.CACHE.clear()
    pic = np.random.default_rng(2).uniform(0, 1, (20, 24, 3)).astype(np.float32)
    calls = len(ctx.calls)
    pending = run(replace(_request({**params, "steps": 10}, image=pic), preview=True), ctx)
    assert not [m for _, m in ctx.calls[calls:] if m.startswith("inverting")]
    assert np.array_equal(pending.image, pic) and "not inverted yet" in pending.metadata["draft_note"]


def test_the_shipped_default_is_the_scenes_model() -> None:
    import ganpaint_stylemix

    if not ganpaint_stylemix.MODEL_FILE.is_file():
        pytest.skip("a source checkout without the trained default")
    assert SPEC.param("model").default == "scenes-default"
    (m,) = ganpaint_stylemix.ganpaint_register_models()
    assert (m.name, m.tool, m.default) == ("scenes-default", "stylemix", True)
    from ganpaint.engine.models.cards import card_of_file

    card = card_of_file(m.path)
    assert card.architecture == "stylegan2" and card.config["size"] == 64 and card.training_command
