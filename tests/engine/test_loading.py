"""Building models from cards and loading weights without random initialisation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from ganpaint.engine.models.cards import ModelCard, ModelFileError
from ganpaint.engine.models.loading import build_model, load_model, register_architecture
from ganpaint.engine.models.store import ModelStore, pack_components
from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", include_resources=False)


def _stored(store: ModelStore, model: nn.Module, arch: str, name: str = "m", **card_kw) -> Path:
    card = ModelCard(arch, model.config.to_dict(), "translate", **card_kw)
    return store.add(pack_components({"forward": model.state_dict()}), card, name).path


@pytest.mark.parametrize(
    ("arch", "model"),
    [
        ("resnet_generator", lambda: ResnetGenerator(ResnetConfig(ngf=4, n_blocks=3, norm="batch", dropout=True))),
        ("unet_generator", lambda: UnetGenerator(UnetConfig(ngf=2, num_downs=6, norm="batch"))),
    ],
)
def test_loaded_weights_and_buffers_equal_the_stored_ones(store: ModelStore, arch: str, model) -> None:
    m = model()
    with torch.no_grad():  # make the running statistics non-trivial
        for name, buf in m.named_buffers():
            if name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
    path = _stored(store, m, arch)
    loaded = load_model(path)
    assert not loaded.training
    assert not any(p.requires_grad for p in loaded.parameters())
    for k, v in m.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert loaded.card.architecture == arch and loaded.component == "forward"


def test_loading_draws_no_random_numbers(store: ModelStore) -> None:
    # building on the meta device runs no init kernels: the global RNG is untouched
    path = _stored(store, ResnetGenerator(ResnetConfig(ngf=8, n_blocks=9)), "resnet_generator")
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    load_model(path)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_build_on_meta_has_no_storage() -> None:
    m = build_model("resnet_generator", ResnetConfig(ngf=64).to_dict(), device="meta")
    assert all(p.is_meta for p in m.parameters())


def test_unknown_architecture_and_bad_options_are_clear() -> None:
    with pytest.raises(ModelFileError, match="unknown architecture 'stylegan9'.*resnet_generator"):
        build_model("stylegan9", {})
    with pytest.raises(ModelFileError, match="bad options for unet_generator.*num_downs"):
        build_model("unet_generator", {"num_downs": 2})


def test_card_that_does_not_fit_the_weights(store: ModelStore) -> None:
    m = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2))
    path = _stored(store, m, "resnet_generator")
    lying = ModelCard("resnet_generator", {**m.config.to_dict(), "ngf": 8}, "translate")
    with pytest.raises(ModelFileError, match="wrong shapes"):
        load_model(path, card=lying)


def test_missing_direction_is_named(store: ModelStore) -> None:
    path = _stored(store, ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1)), "resnet_generator")
    with pytest.raises(ModelFileError, match="no 'reverse' network.*forward"):
        load_model(path, component="reverse")


def test_plugins_can_register_an_architecture(store: ModelStore) -> None:
    class Tiny(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, width, 1)

    register_architecture("test-tiny", lambda cfg: Tiny(**cfg))
    src = Tiny(5)
    card = ModelCard("test-tiny", {"width": 5}, "tiny", components=())
    path = store.add(src.state_dict(), card, "tiny").path
    loaded = load_model(path)
    assert isinstance(loaded, Tiny) and torch.equal(loaded.conv.weight, src.conv.weight)


def test_file_without_card_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(1)}, str(path))
    with pytest.raises(ModelFileError, match="no model card"):
        load_model(path)


def test_dtype_option(store: ModelStore) -> None:
    path = _stored(store, UnetGenerator(UnetConfig(ngf=2, num_downs=5, norm="instance")), "unet_generator")
    assert next(load_model(path, dtype=torch.bfloat16).parameters()).dtype == torch.bfloat16
