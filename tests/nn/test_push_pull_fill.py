"""nn.inpaint.push_pull_fill, the trained network's own first stage (issue 16): the pyramid
goes down to 1x1 with real-pixel means, and a cell with nothing known under it takes the
coarser estimate instead of 0."""

from __future__ import annotations

import pytest
import torch

from ganpaint.nn.inpaint import push_pull_fill


def test_half_unknown_picture_is_filled_from_the_known_half() -> None:
    # 64 x 128, right half unknown: the old pyramid stopped at 1x2 and gave 0 there
    image = torch.full((1, 3, 64, 128), 0.7)
    image[..., 64:] = -0.9  # whatever lies under the hole must not matter
    hole = torch.zeros(1, 1, 64, 128)
    hole[..., 64:] = 1.0
    out = push_pull_fill(image, hole)
    assert torch.allclose(out[..., 64:], torch.full_like(out[..., 64:], 0.7), atol=1e-6)
    assert torch.equal(out[..., :64], image[..., :64])


@pytest.mark.parametrize("size", [(63, 65), (1, 37), (29, 1), (5, 3), (1, 1), (7, 64)])
def test_constants_stay_exact_at_odd_sizes(size: tuple[int, int]) -> None:
    h, w = size
    g = torch.Generator().manual_seed(h * 100 + w)
    hole = (torch.rand(2, 1, h, w, generator=g) > 0.5).float()
    hole[0, 0, 0, 0] = 0.0  # at least one known pixel per picture
    hole[1, 0, -1, -1] = 0.0
    image = torch.full((2, 3, h, w), 0.25)
    image[hole.expand(-1, 3, -1, -1) > 0] = -1.0
    out = push_pull_fill(image, hole)
    assert torch.equal(out, torch.full_like(out, 0.25))


def test_one_known_corner_fills_a_whole_odd_picture() -> None:
    hole = torch.ones(1, 1, 63, 65)
    hole[..., -1, -1] = 0.0
    image = torch.zeros(1, 3, 63, 65)
    image[..., -1, -1] = torch.tensor([0.5, -0.5, 1.0])
    out = push_pull_fill(image, hole)
    want = torch.tensor([0.5, -0.5, 1.0]).view(1, 3, 1, 1).expand_as(out)
    assert torch.allclose(out, want, atol=1e-6)


def test_fill_is_a_convex_combination_and_known_pixels_are_kept() -> None:
    g = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 33, 47, generator=g) * 2 - 1
    hole = torch.zeros(1, 1, 33, 47)
    hole[..., 5:30, 20:47] = 1.0  # touches the right border
    out = push_pull_fill(image, hole)
    known = hole.expand_as(image) == 0
    assert torch.equal(out[known], image[known])
    lo = image[known].view(-1).min()
    hi = image[known].view(-1).max()
    assert out.min() >= lo - 1e-6 and out.max() <= hi + 1e-6


def test_fully_masked_picture_is_mid_grey() -> None:
    out = push_pull_fill(torch.rand(1, 3, 9, 6), torch.ones(1, 1, 9, 6))
    assert torch.equal(out, torch.zeros_like(out))


def test_gradients_flow_to_the_known_pixels() -> None:
    image = torch.rand(1, 3, 24, 40, requires_grad=True)
    hole = torch.zeros(1, 1, 24, 40)
    hole[..., :, 20:] = 1.0
    out = push_pull_fill(image, hole)
    out[..., 20:].sum().backward()
    grad = image.grad
    assert grad is not None and torch.isfinite(grad).all()
    assert grad[..., :20].abs().sum() > 0  # the fill depends on the known half
    assert grad[..., 20:].abs().sum() == 0  # never on what lies under the hole
