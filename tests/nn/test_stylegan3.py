"""ganpaint.nn.stylegan3: the StyleGAN3 generator (configs T and R) in plain torch.

Shapes, determinism, the filtered leaky ReLU, filter design, and equality with pictures made
by NVlabs' own code from their StyleGAN3-T and -R pickles (read from ../shared/compat/nvlabs or
$GANPAINT_COMPAT_DIR/nvlabs, never committed; skipped when absent).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganpaint.engine.models.loading import build_model
from ganpaint.nn.stylegan3 import (
    Generator,
    StyleGAN3Config,
    design_lowpass_filter,
    filtered_lrelu,
    layer_geometry,
    upfirdn2d,
)
from ganpaint.testing.compat import compat_dir

NV = compat_dir("nvlabs")
needs_nvlabs = pytest.mark.skipif(not NV.is_dir(), reason="NVlabs test vectors not present")

SMALL = StyleGAN3Config(img_resolution=16, z_dim=8, w_dim=12, channel_base=256, channel_max=8, mapping_layers=3)


def _to8(img: torch.Tensor) -> np.ndarray:
    """As NVlabs' gen_images.py: (img * 127.5 + 128).clamp(0, 255) -> uint8, HWC."""
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


# ------------------------------------------------------------------------------ structure
def test_shapes_and_ws() -> None:
    torch.manual_seed(0)
    G = Generator(SMALL).eval()
    z = torch.randn(3, 8)
    with torch.no_grad():
        ws = G.mapping(z)
        img = G.synthesis(ws)
    assert ws.shape == (3, SMALL.num_ws, 12) and SMALL.num_ws == 16
    assert img.shape == (3, 3, 16, 16) and torch.isfinite(img).all()
    geos = layer_geometry(SMALL)
    assert [g.name for g in geos] == G.synthesis.layer_names
    assert geos[-1].is_torgb and geos[-1].out_channels == 3 and geos[-1].conv_kernel == 1
    assert geos[-2].out_size == 16 and geos[0].out_size == 16 + 2 * SMALL.margin_size
    with pytest.raises(ValueError, match="ws must have shape"):
        G.synthesis(ws[:, :-1])
    with pytest.raises(ValueError, match="z must have shape"):
        G.mapping(torch.randn(2, 12))


def test_deterministic_and_batch_independent() -> None:
    torch.manual_seed(1)
    G = Generator(SMALL).eval()
    z = torch.randn(2, 8)
    with torch.no_grad():
        a, b = G(z), G(z)
        one = G(z[1:])
    assert torch.equal(a, b)
    torch.testing.assert_close(a[1:], one, atol=1e-5, rtol=0)


def test_truncation_psi_zero_gives_the_mean_w() -> None:
    torch.manual_seed(2)
    G = Generator(SMALL).eval()
    G.mapping.w_avg.copy_(torch.randn(12))
    with torch.no_grad():
        ws = G.mapping(torch.randn(2, 8), truncation_psi=0.0)
        cut = G.mapping(torch.randn(2, 8), truncation_psi=0.0, truncation_cutoff=4)
    assert torch.allclose(ws, G.mapping.w_avg.expand_as(ws))
    assert torch.allclose(cut[:, :4], G.mapping.w_avg.expand(2, 4, 12))
    assert not torch.allclose(cut[:, 4:], G.mapping.w_avg.expand(2, 12, 12))


def test_config_round_trip_and_registry() -> None:
    d = SMALL.to_dict()
    assert StyleGAN3Config.from_dict(d) == SMALL
    with pytest.raises(ValueError, match="unknown StyleGAN3 options"):
        StyleGAN3Config.from_dict({**d, "fused": True})
    with pytest.raises(ValueError, match="power of two"):
        StyleGAN3Config(img_resolution=20)
    m = build_model("stylegan3", d, device="meta")
    assert isinstance(m, Generator)
    assert all(t.is_meta for t in m.state_dict().values())
    sd = Generator(SMALL).state_dict()
    assert set(m.state_dict()) == set(sd)
    # the designed filters are stored buffers (persistent), so a file fills them
    assert any(k.endswith("up_filter") for k in sd) and any(k.endswith("down_filter") for k in sd)


# ------------------------------------------------------------------------------ operations
def test_filtered_lrelu_without_resampling_is_bias_lrelu_gain_clamp() -> None:
    torch.manual_seed(3)
    x = torch.randn(2, 4, 7, 7) * 300
    b = torch.randn(4)
    out = filtered_lrelu(x, None, None, b, gain=math.sqrt(2), slope=0.2, clamp=256.0)
    ref = (F.leaky_relu(x + b.view(1, -1, 1, 1), 0.2) * math.sqrt(2)).clamp(-256, 256)
    torch.testing.assert_close(out, ref)


def test_upfirdn2d_separable_equals_outer_product_and_padding() -> None:
    torch.manual_seed(4)
    x = torch.randn(1, 2, 9, 9)
    f = torch.rand(6)
    sep = upfirdn2d(x, f, up=2, padding=(3, 2, 3, 2), gain=4)
    full = upfirdn2d(x, torch.outer(f, f), up=2, padding=(3, 2, 3, 2), gain=4)
    torch.testing.assert_close(sep, full, atol=1e-5, rtol=1e-5)
    assert sep.shape[-1] == 9 * 2 + 5 - 6 + 1
    # a unit impulse comes out as the (flipped back) filter: a true convolution
    imp = torch.zeros(1, 1, 1, 7)
    imp[0, 0, 0, 3] = 1
    asym = torch.tensor([1.0, 2.0, 3.0])
    row = upfirdn2d(imp, asym[None], padding=(2, 2, 0, 0))
    assert row[0, 0, 0, 3:6].tolist() == [1.0, 2.0, 3.0] and float(row.sum()) == 6.0
    # down-sampling keeps every second sample
    assert upfirdn2d(x, None, down=2).shape[-1] == 5


def test_lowpass_design_is_a_unit_gain_lowpass() -> None:
    f = design_lowpass_filter(12, cutoff=2.0, width=4.0, fs=16)
    assert f is not None and f.shape == (12,)
    assert abs(float(f.sum()) - 1) < 1e-6 and torch.allclose(f, f.flip(0))
    r = design_lowpass_filter(12, cutoff=2.0, width=4.0, fs=16, radial=True)
    assert r is not None and r.shape == (12, 12) and abs(float(r.sum()) - 1) < 1e-6
    assert torch.allclose(r, r.t()) and design_lowpass_filter(1, 2.0, 4.0, 16) is None


# ------------------------------------------------------------------------------ NVlabs reference
def _nvlabs_generator(name: str) -> Generator:
    from ganpaint.engine.models.nvlabs_convert import stylegan3_from_nvlabs
    from ganpaint.engine.models.nvlabs_pickle import read_generator

    net = read_generator(NV / name)
    cfg, sd, _ = stylegan3_from_nvlabs(net)
    G = Generator(StyleGAN3Config.from_dict(cfg))
    fresh = G.state_dict()
    # GANPaint's own filter design reproduces the filters NVlabs stored (scipy's firwin / jinc)
    for k, v in fresh.items():
        if k.endswith(("up_filter", "down_filter")):
            torch.testing.assert_close(v, sd[k], atol=2e-6, rtol=0)
    G.load_state_dict(sd)
    return G.eval()


@needs_nvlabs
@pytest.mark.parametrize("config", ["t", "r"])
@pytest.mark.parametrize("psi", [1.0, 0.5])
def test_matches_nvlabs_reference_pictures(config: str, psi: float) -> None:
    from PIL import Image

    G = _nvlabs_generator(f"stylegan3{config}_16px.pkl")
    z = torch.from_numpy(np.load(NV / "stylegan3_z.npy"))
    with torch.no_grad():
        pics = _to8(G(z, truncation_psi=psi))
    for i in range(z.shape[0]):
        ref = np.asarray(Image.open(NV / f"stylegan3{config}_z{i}_psi{psi:g}.png").convert("RGB"))
        assert ref.std() > 5  # a real picture, not a flat one
        assert np.abs(ref.astype(int) - pics[i].astype(int)).max() <= 1
