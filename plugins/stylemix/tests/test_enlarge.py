"""'Sharper enlargement': a StyleGAN picture that grows goes through an installed GAN upscaler."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ganpaint_stylemix import ganpaint_register_tools
from ganpaint_stylemix.tool import run
from safetensors.torch import save_file

from ganpaint.core.specs import ToolRequest
from ganpaint.latent.stylegan_tools import gan_enlarge
from ganpaint.testing import RecordingContext

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-gan"


def _compact(scale: int = 2, nf: int = 8) -> dict[str, torch.Tensor]:
    """A small SRVGGNetCompact in BasicSR keys (what spandrel detects as an x``scale`` upscaler)."""
    g = torch.Generator().manual_seed(3)
    sd: dict[str, torch.Tensor] = {}
    in_ch = 3
    for i in range(3):
        sd[f"body.{2 * i}.weight"] = torch.randn(nf, in_ch, 3, 3, generator=g) * 0.2
        sd[f"body.{2 * i}.bias"] = torch.zeros(nf)
        sd[f"body.{2 * i + 1}.weight"] = torch.full((nf,), 0.25)
        in_ch = nf
    sd["body.6.weight"] = torch.randn(3 * scale * scale, nf, 3, 3, generator=g) * 0.05
    sd["body.6.bias"] = torch.zeros(3 * scale * scale)
    return sd


@pytest.fixture()
def upscaler(tmp_path, monkeypatch) -> str:
    from ganpaint.engine.models.store import ModelStore

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "tiny-x2.safetensors"
    save_file(_compact(), str(src))
    entry = ModelStore().import_files(src)
    assert "upscale" in entry.tools
    return entry.name


def _run(ctx: RecordingContext, **params):  # type: ignore[no-untyped-def]
    p = SPEC.resolve_params({"model": TINY, "seed": 2, "seed_b": 5, **params})
    return run(ToolRequest(SPEC.id, {}, p, canvas=(64, 64)), ctx)


def test_enlarge_runs_the_installed_upscaler_before_resizing(tiny_store, upscaler):
    from ganpaint.engine.models.store import ModelStore

    ctx = RecordingContext(models={(TINY, "stylemix"): str(tiny_store.get(TINY).path),
                                   (upscaler, "upscale"): str(ModelStore().get(upscaler, tool="upscale").path)})
    plain = _run(ctx, enlarge=False)
    sharp = _run(ctx, enlarge=True)
    assert plain.metadata["upscaler"] == "" and sharp.metadata["upscaler"] == upscaler
    assert sharp.image.shape == plain.image.shape == (64, 64, 3)
    assert np.abs(sharp.image - plain.image).mean() > 1e-3  # the upscaler's picture, not the resize
    # the picture passes the upscaler until it is at least the target: 16 -> 32 -> 64 at x2
    pic = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    big, name = gan_enlarge(pic, 64, 64, ctx)
    assert name == upscaler and big.shape == (64, 64, 3)
    same, none = gan_enlarge(pic, 16, 16, ctx)  # no growth: nothing to do
    assert none == "" and same is pic


def test_without_an_upscaler_enlarge_is_plain_resizing(tiny_store, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "empty"))
    ctx = RecordingContext(models={(TINY, "stylemix"): str(tiny_store.get(TINY).path)})
    plain = _run(ctx, enlarge=False)
    asked = _run(ctx, enlarge=True)
    assert asked.metadata["upscaler"] == ""
    assert np.array_equal(asked.image, plain.image)


def test_the_generators_own_upscaler_is_preferred_for_one_pass(tiny_store, upscaler, tmp_path):
    """``prefer`` (a generator card's ``extra.upscaler``): that model, resolved through the
    context (a plugin ships it), one pass only; a preferred name that is not installed falls
    back to the installed upscalers."""
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.latent.stylegan_tools import Loaded, card_upscaler

    own = tmp_path / "own-x4.safetensors"
    save_file(_compact(scale=4), str(own))
    ctx = RecordingContext(models={(upscaler, "upscale"): str(ModelStore().get(upscaler, tool="upscale").path),
                                   ("own-x4", "upscale"): str(own)})
    pic = np.random.default_rng(1).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    big, name = gan_enlarge(pic, 256, 256, ctx, prefer="own-x4")
    assert name == "own-x4" and big.shape == (64, 64, 3)  # one x4 pass, not three
    fallback, name = gan_enlarge(pic, 64, 64, ctx, prefer="not-installed")
    assert name == upscaler and fallback.shape == (64, 64, 3)
    second, name = gan_enlarge(pic, 256, 256, ctx, prefer=("not-installed", "own-x4"))  # the first installed
    assert name == "own-x4" and second.shape == (64, 64, 3)
    # the generator's card names its upscaler; a card without one names none
    entry = tiny_store.get(TINY)
    assert card_upscaler(Loaded(None, TINY, entry.card.sha256, str(entry.path))) == ()  # type: ignore[arg-type]
    assert card_upscaler(Loaded(None, TINY, "", "")) == ()  # type: ignore[arg-type]
