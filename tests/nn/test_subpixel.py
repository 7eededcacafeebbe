"""Transposed convolutions as one ordinary convolution + interleave (ganpaint.nn.subpixel)."""

from __future__ import annotations

import importlib.util
import itertools

import pytest
import torch
from torch import nn

from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator
from ganpaint.nn.subpixel import SubpixelConvTranspose2d, subpixel_copy

CASES = [(k, s, p, op) for k, s, p in itertools.product((1, 2, 3, 4, 5), (1, 2, 3), (0, 1, 2)) for op in range(s)]


@pytest.mark.parametrize(("k", "s", "p", "op"), CASES)
def test_equals_the_transposed_convolution(k: int, s: int, p: int, op: int) -> None:
    torch.manual_seed(k * 100 + s * 10 + p)
    ct = nn.ConvTranspose2d(5, 4, k, s, p, op)
    sub = SubpixelConvTranspose2d(ct)
    for h, w in ((7, 9), (8, 8), (1, 3)):
        x = torch.randn(2, 5, h, w)
        try:
            ref = ct(x)
        except RuntimeError:  # a size the transposed convolution itself refuses
            continue
        if ref.numel() == 0:  # padding eats the whole output
            continue
        out = sub(x)
        assert out.shape == ref.shape
        assert torch.allclose(out, ref, atol=1e-5), (k, s, p, op, h, w)


def test_rectangular_kernels_strides_and_no_bias() -> None:
    ct = nn.ConvTranspose2d(3, 2, (4, 3), (2, 3), (1, 0), (0, 2), bias=False)
    x = torch.randn(1, 3, 6, 5)
    assert torch.allclose(SubpixelConvTranspose2d(ct)(x), ct(x), atol=1e-5)


def test_refuses_groups_and_dilation() -> None:
    with pytest.raises(ValueError, match="ungrouped"):
        SubpixelConvTranspose2d(nn.ConvTranspose2d(4, 4, 3, 2, groups=2))
    with pytest.raises(ValueError, match="undilated"):
        SubpixelConvTranspose2d(nn.ConvTranspose2d(4, 4, 3, 2, dilation=2))


@pytest.mark.parametrize("kind", ["unet", "resnet"])
def test_copy_of_a_generator_is_equivalent_and_leaves_the_original(kind: str) -> None:
    torch.manual_seed(0)
    g = (UnetGenerator(UnetConfig(ngf=4, num_downs=5)) if kind == "unet"
         else ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1))).eval()
    keys = list(g.state_dict())
    sub = subpixel_copy(g)
    assert list(g.state_dict()) == keys  # the model itself is untouched
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in sub.modules())
    assert any(isinstance(m, SubpixelConvTranspose2d) for m in sub.modules())
    x = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(sub(x), g(x), atol=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="ganpaint[fast] not installed")
def test_a_converted_graph_stays_size_generic() -> None:
    """Converters trace at one size and run at others: no size may be frozen into the graph."""
    import openvino as ov

    torch.manual_seed(1)
    ct = nn.ConvTranspose2d(3, 2, 4, 2, 1)
    with torch.no_grad():
        net = ov.compile_model(ov.convert_model(SubpixelConvTranspose2d(ct), example_input=torch.randn(1, 3, 8, 8),
                                                input=[(1, 3, -1, -1)]), "CPU",
                               {"INFERENCE_PRECISION_HINT": "f32"})  # its default on AMX CPUs is bf16
        for h, w in ((5, 11), (16, 4)):
            x = torch.randn(1, 3, h, w)
            out = torch.from_numpy(net.create_infer_request().infer({0: x.numpy()})[0].copy())
            assert torch.allclose(out, ct(x), atol=1e-5)
