"""Pivotal tuning (``ganpaint.latent.pivotal_tuning``): a copy of the generator tuned to an
inverted picture reproduces it more closely than the inversion alone; the shared generator is
never changed; a cancelled tuning resumes; the tools synthesise with the tuned copy, and a
draft never tunes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from ganpaint_stylemix import ganpaint_register_tools as stylemix_tools
from ganpaint_stylemix.tool import run as run_stylemix
from safetensors.torch import save_file

from ganpaint.core.specs import JobCancelled, Role, ToolRequest
from ganpaint.engine.models.cards import METADATA_KEY, ModelCard
from ganpaint.engine.models.checkpoints import weights_sha256
from ganpaint.engine.models.store import ModelStore
from ganpaint.latent import stylegan_tools
from ganpaint.latent.inversion import invert, psnr
from ganpaint.latent.pivotal_tuning import DEFAULT_STEPS, TunedCache, TuningState, tunable, tune
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator
from ganpaint.testing import RecordingContext


def _photo_like(seed: int = 3) -> np.ndarray:
    """A picture no 16 px generator of this size draws exactly: a hard-edged checker and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    pic = np.stack([((xx // 4 + yy // 4) % 2) * 0.8, yy / 15.0, rng.random((16, 16)) * 0.5], -1)
    return pic.astype(np.float32)


def _render(G: Generator, ws: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return S.to_pictures(S.synthesize(G, ws))[0]


def _weights(G: Generator) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in G.state_dict().items()}


def test_tuning_reproduces_the_picture_better_and_leaves_the_model_alone(G: Generator) -> None:
    target = _photo_like()
    before = _weights(G)
    inv = invert(G, target, steps=60)
    assert inv.ws is not None
    alone = psnr(_render(G, inv.ws), target)
    st = tune(G, inv.ws, target, steps=60)
    assert st.G is not None and st.G is not G and st.steps_done == 60
    tuned = psnr(_render(st.G, inv.ws), target)
    assert tuned > alone + 2.0, (alone, tuned)
    for k, v in G.state_dict().items():  # the shared generator is untouched
        assert torch.equal(v, before[k]), k
    # the copy differs in the synthesis layers only: the mapping network is not tuned
    changed = {k for k, v in st.G.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and not any(k.startswith("style.") for k in changed)
    assert not any(p.requires_grad for p in st.G.parameters())


def test_a_cancelled_tuning_resumes_where_it_stopped(G: Generator) -> None:
    target = _photo_like(5)
    inv = invert(G, target, steps=20)
    st = TuningState()

    def cancel_at_4(f: float, msg: str) -> None:
        if st.steps_done == 4:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        tune(G, inv.ws, target, steps=10, state=st, progress=cancel_at_4)
    assert st.steps_done == 4 and st.G is not None
    copy_after_cancel = st.G
    calls: list[str] = []
    tune(G, inv.ws, target, steps=10, state=st, progress=lambda f, m: calls.append(m))
    assert st.steps_done == 10 and st.G is copy_after_cancel
    assert calls == [f"matching detail: step {i}/10" for i in range(5, 11)]  # only the remaining steps


def test_half_precision_models_are_not_tuned(G: Generator) -> None:
    import copy

    half = copy.deepcopy(G).half()
    assert tunable(G) and not tunable(half)
    with pytest.raises(ValueError, match="float32"):
        tune(half, torch.zeros(1, half.n_styles, half.style_dim, dtype=torch.float16), _photo_like(), steps=1)


def test_the_cache_keeps_the_latest_two_copies() -> None:
    cache = TunedCache()
    a, b = cache.state("a"), cache.state("b")
    assert cache.state("a") is a  # "a" is now the latest
    cache.state("c")
    assert cache.peek("b") is None and cache.peek("a") is a and cache.peek("missing") is None
    assert b is not a


# ------------------------------------------------------------------------------ the tools
def _store_with(G: Generator, tmp_path: Path) -> ModelStore:
    sd = {f"g_ema.{k}": v.contiguous() for k, v in G.state_dict().items()}
    card = ModelCard("stylegan2", G.config.to_dict(), "stylemix", components=("g_ema",), title="tiny",
                     extra={"tools": ["faces"]})
    card = dataclasses.replace(card, sha256=weights_sha256(sd), name="tiny")
    save_file(sd, str(tmp_path / "tiny.safetensors"), metadata={METADATA_KEY: card.to_json(indent=None)})
    return ModelStore(root=tmp_path, include_resources=False)


def test_stylemix_synthesises_with_the_tuned_copy_and_a_draft_never_tunes(G: Generator, tmp_path: Path) -> None:
    spec = stylemix_tools()[0]
    assert spec.resolve_params({})["tune"] == DEFAULT_STEPS  # the panel's default is the module's
    store = _store_with(G, tmp_path)
    ctx = RecordingContext(models={("tiny", "stylemix"): str(store.get("tiny").path)})
    stylegan_tools.CACHE.clear()
    stylegan_tools.TUNED.clear()
    picture = _photo_like(7)

    def mix(preview: bool = False, **params):  # type: ignore[no-untyped-def]
        p = spec.resolve_params({"model": "tiny", "source": "invert", "steps": 30, "preset": "custom",
                                 "crossover": 32, **params})
        return run_stylemix(ToolRequest(spec.id, {Role.IMAGE: picture}, p, canvas=(16, 16), preview=preview), ctx)

    plain = mix(tune=0)
    assert "a_tuned" not in plain.metadata
    # a draft before any tuning: the model itself, with a note that says the detail comes later
    early = mix(preview=True, tune=40)
    assert early.metadata["a_tuned"] == 0 and "fine detail" in early.metadata["draft_note"]
    np.testing.assert_allclose(early.image, plain.image, atol=1e-5)
    tuned = mix(tune=40)
    assert tuned.metadata["a_tuned"] == 40 and np.isfinite(tuned.metadata["a_tune_loss"])
    assert psnr(tuned.image, picture) > psnr(plain.image, picture) + 1.0
    # now a draft uses the finished copy: what the release run showed
    late = mix(preview=True, tune=40)
    assert late.metadata["a_tuned"] == 40
    np.testing.assert_allclose(late.image, tuned.image, atol=1e-5)
    # an edit (B's fine styles) is synthesised by the tuned copy too, and still differs from A
    edited = mix(tune=40, preset="fine", seed_b=5)
    assert edited.metadata["a_tuned"] == 40 and np.abs(edited.image - tuned.image).mean() > 1e-3
