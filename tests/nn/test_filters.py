"""ganpaint.nn.filters: the separable Gaussian shared by the inpaint and sketch tools."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganpaint.nn.filters import gaussian_taps, separable


def test_taps_sum_to_one_and_are_symmetric() -> None:
    g = gaussian_taps(1.5, 5)
    assert g.shape == (11,) and float(g.sum()) == pytest.approx(1.0) and torch.equal(g, g.flip(0))
    assert int(g.argmax()) == 5


@pytest.mark.parametrize("shape", [(1, 3, 1, 9), (2, 1, 4, 4), (1, 2, 63, 65)])
def test_reflect_keeps_constants_and_sizes(shape: tuple[int, ...]) -> None:
    flat = torch.full(shape, 0.37)
    assert torch.allclose(separable(flat, gaussian_taps(1.5, 5), "reflect"), flat, atol=1e-6)


def test_zeros_equals_a_2d_convolution_with_zero_padding() -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 2, 20, 23)
    g = gaussian_taps(2.0, 6)
    k2 = (g[:, None] * g[None, :]).expand(2, 1, 13, 13)
    want = F.conv2d(F.pad(x, (6, 6, 6, 6)), k2, groups=2)
    assert torch.allclose(separable(x, g, "zeros"), want, atol=1e-6)
    # a side shorter than the kernel uses only its central taps: size kept, no error
    assert separable(torch.rand(1, 1, 3, 40), g, "zeros").shape == (1, 1, 3, 40)
    with pytest.raises(ValueError, match="padding"):
        separable(x, g, "wrap")  # type: ignore[arg-type]
