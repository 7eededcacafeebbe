"""Issue 17 point 1: the StyleGAN2 recipe's defaults that left the faces model mode-collapsed.

R1's weight is StyleGAN2-ADA's heuristic for the default crop and batch (it was ten times
that), and the default DiffAugment no longer blanks part of every picture D sees (cutout)."""

from __future__ import annotations

import pytest
import torch

from ganpaint.train import make_recipe


def test_default_r1_is_the_ada_heuristic_for_the_default_crop_and_batch() -> None:
    r = make_recipe("stylegan2")
    heuristic = 0.0002 * r.crop**2 / r.batch
    assert r.r1 == pytest.approx(heuristic, rel=0.05)
    assert make_recipe("stylegan2", r1=0.0).r1 == 0.0  # still switchable off / settable


def test_the_default_r1_step_pulls_d_ten_times_less_than_before() -> None:
    """One lazy-R1 step (step 0) of the default recipe moves D's weights about a tenth as far
    as the old weight 1.0 did, from the same start and the same pictures."""
    tiny = {"crop": 16, "batch": 4, "style_dim": 16, "n_mlp": 2, "channel_max": 16, "d_reg_every": 2,
            "diffaug": "", "lr": 1e-4}

    def r1_move(r1: float) -> float:
        torch.manual_seed(0)
        t = make_recipe("stylegan2", tiny, r1=r1).build("cpu")
        before = {k: v.clone() for k, v in t.D.state_dict().items()}
        torch.manual_seed(1)
        real = torch.rand(4, 3, 16, 16) * 2 - 1
        torch.manual_seed(2)
        t.step({"A": real})
        torch.manual_seed(0)
        t0 = make_recipe("stylegan2", tiny, r1=0.0).build("cpu")
        torch.manual_seed(2)
        t0.step({"A": real})  # the same step without R1: what the loss alone moved
        return sum(float((t.D.state_dict()[k] - t0.D.state_dict()[k]).norm()) for k in before)

    default = make_recipe("stylegan2").r1
    assert default < 1.0
    moved_default, moved_old = r1_move(default), r1_move(1.0)
    assert moved_old > 0 and moved_default < 0.5 * moved_old


def test_default_augmentation_keeps_every_pixel() -> None:
    from ganpaint.nn.stylegan2 import diff_augment

    r = make_recipe("stylegan2")
    assert "cutout" not in r.diffaug and "translation" in r.diffaug
    x = torch.ones(8, 3, 32, 32)
    y = diff_augment(x, r.diffaug, torch.Generator().manual_seed(0))
    # colour jitter changes values, translation pads the border: no interior square is blanked
    inner = y[:, :, 8:24, 8:24]
    assert (inner.abs().amax(1) > 1e-6).all()
    y_cut = diff_augment(x, "cutout", torch.Generator().manual_seed(0))
    assert (y_cut[:, :, 8:24, 8:24].abs().amax(1) < 1e-6).any()  # what cutout did


def test_d_lr_mul_sets_d_learning_rate_and_moves_d_further() -> None:
    """``d_lr_mul`` (two time-scale update): D's Adam runs at lr * d_lr_mul (times the lazy-R1
    factor), G's is untouched, and one step moves D's weights further than at 1."""
    tiny = {"crop": 16, "batch": 4, "style_dim": 16, "n_mlp": 2, "channel_max": 16, "d_reg_every": 2,
            "diffaug": "", "r1": 0.0, "lr": 1e-4}
    ratio = 2 / 3
    moved = {}
    for mul in (1.0, 4.0):
        torch.manual_seed(0)
        t = make_recipe("stylegan2", tiny, d_lr_mul=mul).build("cpu")
        assert t.optimizers["D"].param_groups[0]["lr"] == pytest.approx(1e-4 * mul * ratio)
        assert t.optimizers["G"].param_groups[0]["lr"] == pytest.approx(1e-4)
        before = [p.detach().clone() for p in t.D.parameters()]
        torch.manual_seed(1)
        t.step({"A": torch.rand(4, 3, 16, 16) * 2 - 1})
        moved[mul] = sum(float((p.detach() - b).norm()) for p, b in zip(t.D.parameters(), before, strict=True))
    assert moved[4.0] > 2.5 * moved[1.0]
    with pytest.raises(ValueError, match="d_lr_mul"):
        make_recipe("stylegan2", d_lr_mul=0.0)


def test_d_widths_set_the_discriminator_alone() -> None:
    r = make_recipe("stylegan2", crop=16, widths="8,8,4", d_widths="8,16,32", batch=2)
    t = r.build("cpu")
    assert r.generator_config().channels == (8, 8, 4) and r.d_channels() == (8, 16, 32)
    convs = [m.weight for m in t.D.modules() if getattr(m, "weight", None) is not None and m.weight.dim() == 4]
    assert max(w.shape[0] for w in convs) == 32  # the 16 px block is 32 wide
    assert make_recipe("stylegan2", crop=16, widths="8,8,4").d_channels() == (8, 8, 4)  # default: G's
    with pytest.raises(ValueError, match="d_widths must be 3 positive widths"):
        make_recipe("stylegan2", crop=16, widths="8,8,4", d_widths="8,16")
