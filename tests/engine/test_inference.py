"""Running generators: the official checkpoint vectors, padding, modes, progress, the model cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.core.specs import JobCancelled, ToolError
from ganpaint.engine.inference.translate import pad_amounts, required_size, translate_array
from ganpaint.engine.models.loading import load_model
from ganpaint.engine.models.model_cache import ModelCache, model_bytes
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator
from ganpaint.testing import RecordingContext

COMPAT = Path("/work/shared/compat")
VECTORS = ["cyclegan_resnet9_ngf8", "pix2pix_unet256_batchnorm_ngf8", "unet256_instancenorm_ngf8"]
needs_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="compat vectors not present")


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def compat_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("models"), include_resources=False)
    if COMPAT.is_dir():
        for v in VECTORS:
            store.import_files(COMPAT / f"{v}.pth", name=v.replace("_", "-"))
    return store


@needs_compat
@pytest.mark.parametrize("vector", VECTORS)
def test_official_vectors_within_one_level(compat_store: ModelStore, vector: str) -> None:
    model = load_model(compat_store.get(vector.replace("_", "-")).path)
    x = _png(COMPAT / f"{vector}_input.png").astype(np.float32) / 255.0
    y = translate_array(model, x, ctx=RecordingContext())
    want = _png(COMPAT / f"{vector}_expected.png").astype(int)
    # both 8-bit conversions: the reference truncates, a saved picture rounds
    for got in ((y * 255).astype(np.uint8), np.round(y * 255).astype(np.uint8)):
        assert np.abs(got.astype(int) - want).max() <= 1


@needs_compat
def test_published_mode_is_seeded_and_leaves_the_model_unchanged(compat_store: ModelStore) -> None:
    model = load_model(compat_store.get("pix2pix-unet256-batchnorm-ngf8").path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = _png(COMPAT / "pix2pix_unet256_batchnorm_ngf8_input.png").astype(np.float32) / 255.0
    ev = translate_array(model, x)
    p1 = translate_array(model, x, mode="published", seed=1)
    p1b = translate_array(model, x, mode="published", seed=1)
    p2 = translate_array(model, x, mode="published", seed=2)
    assert np.array_equal(p1, p1b)
    assert np.abs(p1 - p2).max() > 0.01  # dropout differs with the seed
    assert np.abs(p1 - ev).max() > 0.01  # batch statistics differ from the running ones
    assert not model.training and all(not m.training for m in model.modules())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed"
    assert np.array_equal(translate_array(model, x), ev)


def test_published_mode_leaves_the_global_rng_alone() -> None:
    # a training run in the other lane may be drawing from it
    g = UnetGenerator(UnetConfig(ngf=2, num_downs=5, norm="batch")).eval()
    torch.manual_seed(5)
    state = torch.random.get_rng_state()
    translate_array(g, np.full((32, 32, 3), 0.5, np.float32), mode="published", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_published_mode_matches_official_train_mode() -> None:
    # the official script without --eval: module in train mode, fresh statistics, dropout
    torch.manual_seed(0)
    g = UnetGenerator(UnetConfig(ngf=2, num_downs=5, norm="batch"))
    g.eval()
    x = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    ours = translate_array(g, x, mode="published", seed=7)
    ref = UnetGenerator(UnetConfig(ngf=2, num_downs=5, norm="batch"))
    ref.load_state_dict(g.state_dict())
    ref.train()
    torch.manual_seed(7)
    with torch.no_grad():
        y = ref(torch.from_numpy(x.transpose(2, 0, 1))[None] * 2 - 1)
    want = ((y[0].permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1)
    assert np.abs(ours - want).max() < 1e-5


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (17, 300), (130, 129)])
@pytest.mark.parametrize(
    "make",
    [
        lambda: ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2, norm="instance")),
        lambda: UnetGenerator(UnetConfig(ngf=2, num_downs=7, norm="batch")),
    ],
)
def test_any_picture_size_is_padded_and_cropped_back(size: tuple[int, int], make) -> None:
    torch.manual_seed(0)
    g = make().eval()
    x = np.random.default_rng(1).random((*size, 3), dtype=np.float32)
    y = translate_array(g, x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.isfinite(y).all() and y.min() >= 0 and y.max() <= 1


def test_eight_bit_input_is_scaled() -> None:
    g = ResnetGenerator(ResnetConfig(ngf=2, n_blocks=1)).eval()
    rgb8 = np.random.default_rng(4).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    assert np.array_equal(translate_array(g, rgb8), translate_array(g, rgb8.astype(np.float32) / 255.0))


def test_padding_amounts() -> None:
    res = ResnetGenerator(ResnetConfig(ngf=2, n_blocks=1))
    unet = UnetGenerator(UnetConfig(ngf=2, num_downs=8))
    assert required_size(res, 256, 250) == (256, 252)
    assert pad_amounts(res, 256, 250) == (0, 0, 1, 1)
    assert required_size(res, 1, 1) == (8, 8)  # instance norm needs > 1 value at 1/4 scale
    assert required_size(unet, 300, 256) == (512, 256)
    assert pad_amounts(unet, 255, 256) == (0, 1, 0, 0)


def test_padding_does_not_reach_the_picture_for_a_local_model() -> None:
    # a ResNet without normalisation is local: cropping after padding must equal running the
    # same network on the picture padded by hand the same way
    torch.manual_seed(3)
    g = ResnetGenerator(ResnetConfig(ngf=2, n_blocks=1, norm="none")).eval()
    x = np.random.default_rng(2).random((30, 22, 3), dtype=np.float32)
    y = translate_array(g, x)
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    with torch.no_grad():
        ref = g(torch.from_numpy(padded.transpose(2, 0, 1).copy())[None] * 2 - 1)
    ref_np = ((ref[0].permute(1, 2, 0).numpy() + 1) / 2)[1:31, 1:23]
    assert np.abs(y - ref_np).max() < 1e-6


def test_progress_is_reported_and_cancel_stops() -> None:
    g = ResnetGenerator(ResnetConfig(ngf=2, n_blocks=1)).eval()
    ctx = RecordingContext()
    translate_array(g, np.zeros((8, 8, 3), np.float32), ctx=ctx)
    assert ctx.calls[0][0] == 0.0 and ctx.calls[-1][0] == 1.0
    cancelled = RecordingContext(cancel_after=0)
    with pytest.raises(JobCancelled):
        translate_array(g, np.zeros((8, 8, 3), np.float32), ctx=cancelled)


def test_bad_input_is_a_tool_error() -> None:
    g = ResnetGenerator(ResnetConfig(ngf=2, n_blocks=1)).eval()
    with pytest.raises(ToolError, match="RGB"):
        translate_array(g, np.zeros((8, 8), np.float32))
    with pytest.raises(ToolError, match="empty"):
        translate_array(g, np.zeros((0, 8, 3), np.float32))
    with pytest.raises(ToolError, match="mode"):
        translate_array(g, np.zeros((8, 8, 3), np.float32), mode="train")  # type: ignore[arg-type]
    gray = ResnetGenerator(ResnetConfig(in_channels=1, ngf=2, n_blocks=1)).eval()
    with pytest.raises(ToolError, match="1-channel"):
        translate_array(gray, np.zeros((8, 8, 3), np.float32))


# --------------------------------------------------------------------------- model cache
def _saved(tmp_path: Path, name: str, ngf: int = 4) -> Path:
    from ganpaint.engine.models.cards import ModelCard
    from ganpaint.engine.models.store import pack_components

    store = ModelStore(tmp_path / "models", include_resources=False)
    g = ResnetGenerator(ResnetConfig(ngf=ngf, n_blocks=1))
    card = ModelCard("resnet_generator", g.config.to_dict(), "translate")
    return store.add(pack_components({"forward": g.state_dict()}), card, name).path


def test_cache_returns_the_same_model_and_reloads_a_replaced_file(tmp_path: Path) -> None:
    path = _saved(tmp_path, "a")
    cache = ModelCache()
    ctx = RecordingContext()
    m1 = cache.get(path, ctx=ctx)
    assert cache.get(path) is m1 and len(cache) == 1
    assert any("Loading" in msg for _, msg in ctx.calls)
    _saved(tmp_path, "a")  # a new version replaces the file
    assert cache.get(path) is not m1


def test_cache_evicts_least_recently_used_beyond_budget(tmp_path: Path) -> None:
    paths = [_saved(tmp_path, n) for n in ("a", "b", "c")]
    one = model_bytes(load_model(paths[0]))
    cache = ModelCache(budget_bytes=int(one * 2.5))
    a = cache.get(paths[0])
    cache.get(paths[1])
    assert cache.get(paths[0]) is a  # touch a: b is now the oldest
    cache.get(paths[2])
    assert len(cache) == 2 and cache.total_bytes() <= cache.budget_bytes
    assert cache.get(paths[0]) is a
    tiny = ModelCache(budget_bytes=1)
    tiny.get(paths[0])
    tiny.get(paths[1])
    assert len(tiny) == 1  # the model in use is kept even over budget
    tiny.forget(paths[1])
    assert len(tiny) == 0
