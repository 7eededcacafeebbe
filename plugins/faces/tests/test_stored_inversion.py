"""Re-making an inverted face reuses the latent stored with the result (also after the .ora
was saved and reopened: the attachments travel with the layer), and an inversion encoder,
when the model has one, is where a new inversion starts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from ganpaint_faces import ganpaint_register_tools
from ganpaint_faces.tool import run

from ganpaint.core.specs import Role, ToolRequest
from ganpaint.engine.models.store import ModelStore
from ganpaint.latent import stylegan_tools
from ganpaint.latent.encoders import save_encoder
from ganpaint.nn.stylegan2.encoder import EncoderConfig, LatentEncoder
from ganpaint.testing import RecordingContext

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-gan"


@pytest.fixture(autouse=True)
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    stylegan_tools.CACHE.clear()


def _picture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((24, 24, 3), np.float32)
    img[:] = rng.random(3)
    img[6:18, 6:18] = rng.random(3)
    return img


def _request(image: np.ndarray, previous: dict[str, bytes] | None = None, **params: object) -> ToolRequest:
    return ToolRequest(SPEC.id, {Role.IMAGE: image}, SPEC.resolve_params({"model": TINY, "steps": 12, **params}),
                       canvas=(24, 24), previous=previous or {})


def _new_ctx(ctx: RecordingContext) -> RecordingContext:
    """A fresh context (no progress recorded) resolving the same tiny model."""
    path = ctx.model_path(TINY, "faces")
    return RecordingContext(models={(TINY, "faces"): path})


def _inverting(ctx: RecordingContext) -> int:
    return sum(1 for _, msg in ctx.calls if msg.startswith("inverting"))


def test_a_rerun_reuses_the_stored_latent(ctx: RecordingContext) -> None:
    first = run(_request(_picture()), ctx)
    assert first.metadata["source_init"] == "mean" and _inverting(ctx) == 12
    stylegan_tools.CACHE.clear()  # as after closing and reopening the document
    again = _new_ctx(ctx)
    res = run(_request(_picture(), first.attachments, smile=0.0), again)
    assert res.metadata["source_init"] == "stored" and "source_loss" not in res.metadata  # no inf in metadata
    assert _inverting(again) == 0  # no optimisation step ran
    np.testing.assert_array_equal(np.load(__import__("io").BytesIO(res.attachments["latent_source.npy"])),
                                  np.load(__import__("io").BytesIO(first.attachments["latent_source.npy"])))
    np.testing.assert_allclose(res.image, first.image, atol=1e-6)


def test_a_stored_latent_of_another_picture_is_not_used(ctx: RecordingContext) -> None:
    first = run(_request(_picture(0)), ctx)
    stylegan_tools.CACHE.clear()
    other = _new_ctx(ctx)
    res = run(_request(_picture(1), first.attachments), other)
    assert res.metadata["source_init"] == "mean" and _inverting(other) == 12
    # damaged attachments are ignored the same way
    stylegan_tools.CACHE.clear()
    bad = dict(first.attachments, **{"latent_source.npy": b"garbage"})
    third = _new_ctx(ctx)
    assert run(_request(_picture(0), bad), third).metadata["source_init"] == "mean"


def test_an_encoder_starts_the_inversion(ctx: RecordingContext, tiny_store: ModelStore) -> None:
    entry = tiny_store.get(TINY)
    enc = LatentEncoder(EncoderConfig(16, 16))
    enc.w_avg.copy_(torch.full((16,), 0.25))  # an untrained encoder answers w_avg: here a known latent
    from ganpaint.core.paths import models_dir

    save_encoder(enc, TINY, entry.card.sha256, models_dir())
    res = run(_request(_picture(), steps=1), ctx)
    assert res.metadata["source_init"] == "encoder"
    # an encoder made for another generator is ignored
    stylegan_tools.CACHE.clear()
    save_encoder(enc, TINY, "another-sha", models_dir())
    assert run(_request(_picture(), steps=1), _new_ctx(ctx)).metadata["source_init"] == "mean"


def test_previous_defaults_to_empty() -> None:
    req = ToolRequest("x", {}, {})
    assert dict(req.previous) == {} and dataclasses.replace(req, previous={"a": b"1"}).previous == {"a": b"1"}
