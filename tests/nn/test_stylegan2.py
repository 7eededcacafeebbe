"""StyleGAN2 building blocks: rosinality key layout, the compat vectors, pure-torch ops,
batch independence, noise modes, the residual discriminator, DiffAugment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganpaint.nn.stylegan2 import (
    Discriminator,
    Generator,
    ModulatedConv2d,
    StyleGAN2Config,
    diff_augment,
    fused_leaky_relu,
    standard_widths,
    upfirdn2d,
)
from ganpaint.nn.stylegan2.diffaugment import cutout, translation

COMPAT = Path("/work/shared/compat/stylegan2")
needs_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="compat vectors not present")
COMPAT_CONFIG = StyleGAN2Config(size=32, style_dim=64, n_mlp=3, channels=(48, 40, 32, 24))


def _to_uint8(img: torch.Tensor) -> np.ndarray:
    return ((img.clamp(-1, 1) + 1) / 2 * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _expected(name: str) -> np.ndarray:
    return np.asarray(Image.open(COMPAT / name).convert("RGB"))


def _tiny(size: int = 16, seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    n = int(math.log2(size)) - 1
    g = Generator(StyleGAN2Config(size=size, style_dim=16, n_mlp=2, channels=tuple([16] * (n - 1) + [8])))
    with torch.no_grad():  # trained-looking noise strengths, so the noise shows
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.3)
    return g.eval()


def _set_fused(g: torch.nn.Module, value: bool | None) -> None:
    for m in g.modules():
        if isinstance(m, ModulatedConv2d):
            m.fused = value


@pytest.fixture(scope="module")
def compat_g() -> tuple[Generator, dict]:
    ck = torch.load(COMPAT / "stylegan2_rosinality_32px.pt", map_location="cpu", weights_only=True)
    g = Generator(COMPAT_CONFIG).eval()
    g.load_state_dict({**ck["g_ema"], "latent_avg": ck["latent_avg"]}, strict=True)
    return g, ck


# ------------------------------------------------------------------------------------ layout
@needs_compat
def test_key_names_and_shapes_match_rosinality_g_ema(compat_g) -> None:
    g, ck = compat_g
    mine = {k: tuple(v.shape) for k, v in g.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in ck["g_ema"].items()}
    assert mine.pop("latent_avg") == (64,)
    assert mine == theirs
    # the blur kernels are stored too (binomial [1,3,3,1] outer product, times 4 after upsampling)
    assert torch.equal(g.state_dict()["convs.0.conv.blur.kernel"], ck["g_ema"]["convs.0.conv.blur.kernel"])


def test_layout_of_a_generator_built_here() -> None:
    sd = Generator(StyleGAN2Config(size=64, style_dim=32, n_mlp=4, channels=(32, 32, 16, 16, 8))).state_dict()
    assert tuple(sd["style.4.weight"].shape) == (32, 32) and "style.5.weight" not in sd
    assert tuple(sd["input.input"].shape) == (1, 32, 4, 4)
    assert tuple(sd["conv1.conv.weight"].shape) == (1, 32, 32, 3, 3)
    assert tuple(sd["convs.6.conv.weight"].shape) == (1, 8, 16, 3, 3)  # the 64 px upsampling conv
    assert tuple(sd["to_rgbs.3.conv.weight"].shape) == (1, 3, 8, 1, 1)
    assert [tuple(sd[f"noises.noise_{i}"].shape)[2] for i in range(9)] == [4, 8, 8, 16, 16, 32, 32, 64, 64]
    assert "noises.noise_9" not in sd and "convs.8.conv.weight" not in sd


@pytest.mark.parametrize(("size", "n_styles"), [(4, 2), (8, 4), (32, 8), (64, 10), (128, 12), (1024, 18)])
def test_number_of_style_inputs(size: int, n_styles: int) -> None:
    assert StyleGAN2Config(size=size, style_dim=8, n_mlp=1).n_styles == n_styles == int(math.log2(size)) * 2 - 2


def test_config_validation_and_round_trip() -> None:
    with pytest.raises(ValueError, match="power of two"):
        StyleGAN2Config(size=48)
    with pytest.raises(ValueError, match="channels must be 4 positive widths"):
        StyleGAN2Config(size=32, channels=(8, 8, 8))
    with pytest.raises(ValueError, match="n_mlp"):
        StyleGAN2Config(size=32, n_mlp=0)
    cfg = StyleGAN2Config(size=256, channel_multiplier=1)
    assert cfg.channels == standard_widths(256, 1) == (512, 512, 512, 512, 256, 128, 64)
    assert StyleGAN2Config(size=256).channels[-1] == 128  # multiplier 2 doubles the 64+ px widths
    assert StyleGAN2Config.from_dict(cfg.to_dict()) == cfg


# ------------------------------------------------------------------------------------ compat vectors
@needs_compat
@pytest.mark.parametrize("psi", [1, 0.5])
def test_compat_generation_and_truncation(compat_g, psi: float) -> None:
    g, ck = compat_g
    z = torch.from_numpy(np.load(COMPAT / "stylegan2_z.npy"))
    with torch.no_grad():
        w = g.mapping(z)
        w = ck["latent_avg"] + psi * (w - ck["latent_avg"])
        img = _to_uint8(g(w[:, None].expand(-1, g.n_styles, -1), "const"))
    for i in range(4):
        diff = np.abs(img[i].astype(int) - _expected(f"stylegan2_z{i}_psi{psi}.png"))
        assert diff.max() <= 1, (i, psi, diff.max())


@needs_compat
@pytest.mark.parametrize("fused", [True, False])
def test_compat_style_mixing_in_both_convolution_forms(compat_g, fused: bool) -> None:
    g, _ = compat_g
    z = torch.from_numpy(np.load(COMPAT / "stylegan2_z.npy"))
    _set_fused(g, fused)
    try:
        with torch.no_grad():
            w = g.mapping(z[:2])
            ws = torch.cat([w[0:1, None].expand(-1, 4, -1), w[1:2, None].expand(-1, 4, -1)], 1)
            img = _to_uint8(g(ws))
    finally:
        _set_fused(g, None)
    assert np.abs(img[0].astype(int) - _expected("stylegan2_mix_z0_z1_inject4.png")).max() <= 1


# ------------------------------------------------------------------------------------ ops
def _upfirdn_reference(x: np.ndarray, k: np.ndarray, up: int, down: int, pad: tuple[int, int]) -> np.ndarray:
    """Loops: zero insertion, padding (negative crops), true convolution, decimation."""
    h, w = x.shape
    u = np.zeros((h * up, w * up))
    u[::up, ::up] = x
    p0, p1 = pad
    u = np.pad(u, ((max(p0, 0), max(p1, 0)), (max(p0, 0), max(p1, 0))))
    u = u[max(-p0, 0) : u.shape[0] - max(-p1, 0), max(-p0, 0) : u.shape[1] - max(-p1, 0)]
    kf = k[::-1, ::-1]
    kh, kw = k.shape
    out = np.zeros((u.shape[0] - kh + 1, u.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (u[i : i + kh, j : j + kw] * kf).sum()
    return out[::down, ::down]


@pytest.mark.parametrize(("up", "down", "pad"), [(2, 1, (2, 1)), (1, 2, (1, 1)), (1, 1, (1, 1)), (2, 1, (-1, 2))])
def test_upfirdn2d_matches_a_loop_reference(up: int, down: int, pad: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 6))
    k = rng.random((4, 3))  # asymmetric: the flip matters
    got = upfirdn2d(torch.from_numpy(x).float(), torch.from_numpy(k).float(), up=up, down=down, pad=pad)
    for n in range(2):
        for c in range(3):
            ref = _upfirdn_reference(x[n, c], k, up, down, pad)
            np.testing.assert_allclose(got[n, c].numpy(), ref, rtol=1e-5, atol=1e-5)


def test_fused_leaky_relu() -> None:
    x = torch.tensor([[-2.0, 1.0], [0.5, -0.5]]).view(1, 2, 2, 1).permute(0, 1, 3, 2)  # (1, 2, 1, 2)
    b = torch.tensor([1.0, -1.0])
    out = fused_leaky_relu(x, b)
    want = F.leaky_relu(x + b.view(1, 2, 1, 1), 0.2) * math.sqrt(2)
    assert torch.allclose(out, want)
    assert torch.allclose(fused_leaky_relu(torch.tensor([[-1.0, 2.0]]), None), torch.tensor([[-0.2, 2.0]]) * math.sqrt(2))


# ------------------------------------------------------------------------------------ generator behaviour
def test_batch_items_are_independent_and_both_conv_forms_agree() -> None:
    g = _tiny()
    torch.manual_seed(1)
    ws = torch.randn(3, g.n_styles, 16)
    with torch.no_grad():
        _set_fused(g, True)
        grouped = g(ws)
        singles = torch.cat([g(ws[i : i + 1]) for i in range(3)])
        _set_fused(g, False)
        shared = g(ws)
    assert grouped.shape == (3, 3, 16, 16)
    assert torch.allclose(grouped, singles, atol=1e-5)
    assert torch.allclose(grouped, shared, atol=1e-5)


def test_noise_modes() -> None:
    g = _tiny()
    ws = torch.randn(2, g.n_styles, 16)
    with torch.no_grad():
        a, b = g(ws, "const"), g(ws, "const")
        r1 = g(ws, "random", torch.Generator().manual_seed(5))
        r2 = g(ws, "random", torch.Generator().manual_seed(5))
        r3 = g(ws, "random", torch.Generator().manual_seed(6))
        given = g(ws, g.stored_noise())
    assert torch.equal(a, b) and torch.equal(a, given)
    assert torch.equal(r1, r2) and not torch.allclose(r1, r3) and not torch.allclose(a, r1)
    with pytest.raises(ValueError, match="noise: expected 5 tensors"):
        g(ws, [None])
    with pytest.raises(ValueError, match=r"ws must have shape \(N, 6, 16\)"):
        g(torch.zeros(2, 5, 16))


def test_max_size_stops_after_a_to_rgb_level() -> None:
    g = _tiny(32)
    torch.manual_seed(4)
    ws = torch.randn(2, g.n_styles, 16)
    kept: list[torch.Tensor] = []  # the running RGB sum after each to-RGB of a full run
    hooks = [m.register_forward_hook(lambda _m, _i, out: kept.append(out.clone()))
             for m in [g.to_rgb1, *g.to_rgbs]]
    with torch.no_grad():
        full = g(ws)
        for h in hooks:
            h.remove()
        assert [t.shape[-1] for t in kept] == [4, 8, 16, 32]
        assert torch.equal(g(ws, max_size=32), full) and torch.equal(g(ws, max_size=4096), full)
        for max_size, side in ((31, 16), (16, 16), (9, 8), (8, 8), (4, 4)):
            draft = g(ws, max_size=max_size)
            assert draft.shape == (2, 3, side, side)
            assert torch.equal(draft, kept[[4, 8, 16, 32].index(side)])  # the full run's own level
        # random noise: the kept levels get the noise a full run with the same generator draws
        r_full = g(ws, "random", torch.Generator().manual_seed(7))
        r_draft = g(ws, "random", torch.Generator().manual_seed(7), max_size=16)
        r_again = g(ws, "random", torch.Generator().manual_seed(7), max_size=16)
    assert r_full.shape[-1] == 32 and torch.equal(r_draft, r_again) and r_draft.shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="max_size must be at least 4"):
        g(ws, max_size=3)


def test_synthesize_passes_max_size() -> None:
    from ganpaint.nn import stylegan_sampling as S

    g = _tiny(32)
    ws = torch.randn(1, g.n_styles, 16)
    with torch.no_grad():
        assert torch.equal(S.synthesize(g, ws, max_size=64), S.synthesize(g, ws))
        assert S.synthesize(g, ws, max_size=16).shape == (1, 3, 16, 16)
        assert S.synthesize(g, ws, noise="random", seed=2, max_size=8).shape == (1, 3, 8, 8)


def test_every_style_input_is_used() -> None:
    g = _tiny(32)
    torch.manual_seed(3)
    base = torch.randn(1, g.n_styles, 16)
    with torch.no_grad():
        ref = g(base)
        for i in range(g.n_styles):
            ws = base.clone()
            ws[:, i] = torch.randn(16)
            assert (g(ws) - ref).abs().max() > 1e-4, f"style input {i} has no effect"


def test_mean_latent_is_reproducible_and_gradients_reach_ws() -> None:
    g = _tiny()
    m1, m2 = g.mean_latent(256, seed=0), g.mean_latent(256, seed=0)
    assert m1.shape == (16,) and torch.equal(m1, m2)
    assert not torch.equal(m1, g.mean_latent(256, seed=1))
    ws = torch.zeros(1, g.n_styles, 16, requires_grad=True)
    g(ws).square().mean().backward()
    assert ws.grad is not None and ws.grad.abs().sum() > 0  # inversion optimises ws through G


# ------------------------------------------------------------------------------------ discriminator
def test_discriminator_layout_shapes_and_odd_batches() -> None:
    d = Discriminator(32, channels=(16, 16, 8, 8))
    sd = d.state_dict()
    assert tuple(sd["convs.0.0.weight"].shape) == (8, 3, 1, 1) and "convs.0.1.bias" in sd
    assert "convs.1.conv2.0.kernel" in sd and "convs.1.skip.1.weight" in sd and "convs.1.skip.1.bias" not in sd
    assert "convs.3.conv1.0.weight" in sd and "convs.4.conv1.0.weight" not in sd  # 32 -> 16 -> 8 -> 4
    assert tuple(sd["final_conv.0.weight"].shape) == (16, 17, 3, 3)  # + the stddev feature
    assert tuple(sd["final_linear.1.weight"].shape) == (1, 16)
    for n in (1, 3, 4, 6):
        x = torch.randn(n, 3, 32, 32, requires_grad=True)
        out = d(x)
        assert out.shape == (n, 1) and torch.isfinite(out).all()
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


# ------------------------------------------------------------------------------------ DiffAugment
def test_diffaugment_keeps_shape_and_passes_gradients() -> None:
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and (x.grad != 0).any()
    assert diff_augment(x, "") is x
    with pytest.raises(ValueError, match="unknown augmentation zoom"):
        diff_augment(x, "color,zoom")


def test_translation_shifts_and_cutout_blanks_a_square() -> None:
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel
    moved = translation(x, torch.Generator().manual_seed(0))
    pos = moved.reshape(64, -1).argmax(1)
    dy, dx = pos // 16 - 8, pos % 16 - 8
    assert moved.sum(dim=(1, 2, 3)).eq(1).all()  # the pixel stays whole (shift <= 2 px at 16 px)
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2 and (dy != 0).any() and (dx != 0).any()
    ones = torch.ones(32, 3, 16, 16)
    cut = cutout(ones, torch.Generator().manual_seed(0))
    zeroed = (cut[:, 0] == 0).sum(dim=(1, 2))
    assert zeroed.max() == 64 and zeroed.min() > 0  # an 8x8 square, clipped at the borders
    assert torch.equal(cut[:, 0], cut[:, 2])  # the same square on every channel
