"""ResNet and U-Net generators: official key layout, shapes, options."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator

COMPAT = Path("/work/shared/compat")
needs_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="compat vectors not present")


def _layout(module: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def _file_layout(name: str) -> list[tuple[str, tuple[int, ...]]]:
    sd = torch.load(COMPAT / name, map_location="cpu", weights_only=True)
    return [(k, tuple(v.shape)) for k, v in sd.items()]


@needs_compat
@pytest.mark.parametrize(
    ("file", "model"),
    [
        ("cyclegan_resnet9_ngf8.pth", lambda: ResnetGenerator(ResnetConfig(ngf=8, n_blocks=9, norm="instance"))),
        ("pix2pix_unet256_batchnorm_ngf8.pth", lambda: UnetGenerator(UnetConfig(ngf=8, num_downs=8, norm="batch"))),
        ("unet256_instancenorm_ngf8.pth", lambda: UnetGenerator(UnetConfig(ngf=8, num_downs=8, norm="instance"))),
    ],
)
def test_key_names_order_and_shapes_match_official_files(file, model) -> None:
    assert _layout(model()) == _file_layout(file)


def test_resnet_full_width_keys() -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=64, n_blocks=9)).state_dict()
    assert tuple(sd["model.1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(sd["model.10.conv_block.1.weight"].shape) == (256, 256, 3, 3)
    assert tuple(sd["model.19.weight"].shape) == (256, 128, 3, 3)  # ConvTranspose: (in, out, k, k)
    assert tuple(sd["model.26.weight"].shape) == (3, 64, 7, 7)
    assert "model.2.weight" not in sd  # instance norm: no affine parameters, no buffers


def test_resnet_dropout_moves_second_conv_to_index_6() -> None:
    plain = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=6)).state_dict()
    drop = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=6, dropout=True)).state_dict()
    assert "model.10.conv_block.5.weight" in plain and "model.10.conv_block.6.weight" not in plain
    assert "model.10.conv_block.6.weight" in drop and "model.10.conv_block.5.weight" not in drop
    # six blocks: model.10 .. model.15, final conv at 10 + 6 + 7
    assert "model.15.conv_block.1.weight" in plain and "model.16.conv_block.1.weight" not in plain
    assert "model.23.weight" in plain


def test_resnet_zero_padding_has_no_pad_layers_in_blocks() -> None:
    g = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1, padding="zero"))
    sd = g.state_dict()
    assert "model.10.conv_block.0.weight" in sd and "model.10.conv_block.3.weight" in sd
    # the 7x7 convolutions pad by reflection whatever the block padding (as the reference does)
    assert isinstance(g.model[0], torch.nn.ReflectionPad2d) and "model.1.weight" in sd
    assert g(torch.zeros(1, 3, 16, 16)).shape == (1, 3, 16, 16)


def test_resnet_batch_norm_drops_conv_bias_and_keeps_running_stats() -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2, norm="batch")).state_dict()
    assert "model.1.bias" not in sd
    assert {"model.2.weight", "model.2.bias", "model.2.running_mean", "model.2.num_batches_tracked"} <= set(sd)
    assert "model.19.bias" in sd  # the output convolution (10 + 2 blocks + 7) always has a bias


def test_unet_depth_7_is_128_px_and_has_one_fewer_level() -> None:
    g7 = UnetGenerator(UnetConfig(ngf=4, num_downs=7))
    g8 = UnetGenerator(UnetConfig(ngf=4, num_downs=8))
    assert g7.size_multiple == 128 and g8.size_multiple == 256
    deepest7 = max(k.count("model.") for k in g7.state_dict())
    deepest8 = max(k.count("model.") for k in g8.state_dict())
    assert deepest8 == deepest7 + 1


@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_generators_keep_size_and_range(norm: str) -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 128, 64) * 2 - 1
    for g in (
        ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2, norm=norm)),
        UnetGenerator(UnetConfig(ngf=4, num_downs=6, norm=norm)),
    ):
        g.eval()
        with torch.no_grad():
            y = g(x)
        assert y.shape == (1, 3, 128, 64)
        assert float(y.abs().max()) <= 1.0


def test_unet_dropout_makes_train_mode_stochastic_and_eval_deterministic() -> None:
    g = UnetGenerator(UnetConfig(ngf=4, num_downs=6, norm="instance", dropout=True))
    x = torch.rand(1, 3, 64, 64)
    g.train()
    with torch.no_grad():
        assert not torch.equal(g(x.clone()), g(x.clone()))
    g.eval()
    with torch.no_grad():
        assert torch.equal(g(x.clone()), g(x.clone()))


def test_channels_options() -> None:
    g = ResnetGenerator(ResnetConfig(in_channels=1, out_channels=2, ngf=4, n_blocks=1))
    assert g(torch.zeros(1, 1, 16, 16)).shape == (1, 2, 16, 16)
    u = UnetGenerator(UnetConfig(in_channels=4, out_channels=1, ngf=4, num_downs=5))
    assert u(torch.zeros(1, 4, 32, 32)).shape == (1, 1, 32, 32)


@pytest.mark.parametrize(
    "bad",
    [dict(ngf=0), dict(n_blocks=-1), dict(norm="group"), dict(padding="circular")],
)
def test_resnet_config_validates(bad: dict) -> None:
    with pytest.raises(ValueError):
        ResnetConfig(**bad)


def test_unet_config_validates_and_round_trips() -> None:
    with pytest.raises(ValueError):
        UnetConfig(num_downs=4)
    with pytest.raises(ValueError, match="unknown U-Net"):
        UnetConfig.from_dict({"ngf": 8, "depth": 3})
    c = UnetConfig(ngf=8, num_downs=7, norm="instance", dropout=False)
    assert UnetConfig.from_dict(c.to_dict()) == c
