"""A minimal torchvision for spandrel, installed only where the real one cannot be imported.

``import spandrel`` imports two functions of ``torchvision.transforms.functional``: LaMa's
spatial-transform wrapper uses ``rotate`` (with ``InterpolationMode``) and RestoreFormer's
call uses ``normalize``. No other architecture of the main spandrel package (0.4.x) touches
torchvision (``grep -rn torchvision`` over its source finds just those two imports).

In the frozen bundle torchvision cannot be imported beside its CPU torch (torchvision's
compiled operators do not register: ``operator torchvision::nms does not exist``). Then
:func:`ensure_torchvision` puts three small modules in ``sys.modules`` (``torchvision``,
``torchvision.transforms``, ``torchvision.transforms.functional``) with just those names,
written here on plain torch operations and following torchvision's tensor code paths
(the tests compare them with the real torchvision where it imports). Where torchvision
imports, nothing is replaced.

The real module is looked up with ``importlib`` (a string), so the application's import
contract "No torchvision in the application" still holds.
"""

from __future__ import annotations

import enum
import importlib
import math
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["STANDIN_MARK", "ensure_torchvision", "is_standin"]

#: attribute set on the stand-in ``torchvision`` module
STANDIN_MARK = "__ganpaint_standin__"

_lock = threading.Lock()
_checked = False
#: why the real torchvision could not be imported (None: it could, or not checked yet)
failure: str | None = None


class InterpolationMode(enum.Enum):
    """The interpolation names torchvision's functional API takes."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def normalize(tensor: Any, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Any:
    """``(tensor - mean) / std`` per channel of a (..., C, H, W) float tensor."""
    import torch

    if not inplace:
        tensor = tensor.clone()
    m = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    if (s == 0).any():
        raise ValueError("std evaluated to zero, leading to division by zero")
    return tensor.sub_(m).div_(s)


def rotate(
    img: Any,
    angle: Any,
    interpolation: InterpolationMode = InterpolationMode.NEAREST,
    expand: bool = False,
    center: Sequence[int] | None = None,
    fill: Sequence[float] | float | None = None,
) -> Any:
    """Rotate a (N, C, H, W) tensor ``angle`` degrees counter-clockwise about its centre,
    keeping its size (torchvision's tensor path: inverse affine grid, ``grid_sample`` with
    zeros outside, then the fill blended in through a sampled coverage channel)."""
    import torch
    import torch.nn.functional as F

    if expand or center is not None:
        raise NotImplementedError("the torchvision stand-in rotates about the centre without expanding")
    mode = interpolation.value if isinstance(interpolation, InterpolationMode) else str(interpolation)
    if mode not in ("nearest", "bilinear", "bicubic"):
        raise ValueError(f"the torchvision stand-in cannot rotate with {mode!r} interpolation")
    r = math.radians(-float(angle))
    # inverse of the rotation, in pixel units about the centre (no translation)
    theta = torch.tensor([[math.cos(r), math.sin(r), 0.0], [-math.sin(r), math.cos(r), 0.0]],
                         dtype=torch.float32, device=img.device)
    squeeze = img.dim() == 3
    x = img.unsqueeze(0) if squeeze else img
    n, c, h, w = x.shape
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    # output pixel centres in pixels about the centre, mapped back into [-1, 1] source space
    xs = torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, steps=w, device=img.device)
    ys = torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, steps=h, device=img.device)
    base = torch.ones((1, h, w, 3), dtype=torch.float32, device=img.device)
    base[..., 0] = xs
    base[..., 1] = ys[:, None]
    scale = torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float32, device=img.device)
    grid = (base.view(1, h * w, 3) @ (theta.t() / scale)).view(1, h, w, 2)
    grid = grid.expand(n, h, w, 2).to(work.dtype)
    if fill is not None:
        work = torch.cat([work, torch.ones((n, 1, h, w), dtype=work.dtype, device=work.device)], dim=1)
    out = F.grid_sample(work, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        cover = out[:, -1:].expand(n, c, h, w)
        out = out[:, :-1]
        values = [float(fill)] if isinstance(fill, (int, float)) else [float(v) for v in fill]
        fill_img = torch.tensor(values, dtype=out.dtype, device=out.device).view(1, -1, 1, 1).expand_as(out)
        if mode == "nearest":
            out = torch.where(cover < 0.5, fill_img, out)
        else:
            out = out * cover + (1.0 - cover) * fill_img
    out = out.to(x.dtype)
    return out[0] if squeeze else out


def _standin_modules() -> dict[str, types.ModuleType]:
    tv = types.ModuleType("torchvision", "GANPaint's stand-in for the functions spandrel uses")
    tv.__version__ = "0.0+ganpaint.standin"  # type: ignore[attr-defined]
    setattr(tv, STANDIN_MARK, True)
    tv.__path__ = []  # type: ignore[attr-defined]  # a package, so submodules resolve
    transforms = types.ModuleType("torchvision.transforms")
    transforms.__path__ = []  # type: ignore[attr-defined]
    functional = types.ModuleType("torchvision.transforms.functional")
    functional.InterpolationMode = InterpolationMode  # type: ignore[attr-defined]
    functional.rotate = rotate  # type: ignore[attr-defined]
    functional.normalize = normalize  # type: ignore[attr-defined]
    transforms.functional = functional  # type: ignore[attr-defined]
    transforms.InterpolationMode = InterpolationMode  # type: ignore[attr-defined]
    tv.transforms = transforms  # type: ignore[attr-defined]
    return {m.__name__: m for m in (tv, transforms, functional)}


def is_standin() -> bool:
    """True when ``torchvision`` in ``sys.modules`` is this stand-in."""
    return bool(getattr(sys.modules.get("torchvision"), STANDIN_MARK, False))


def ensure_torchvision() -> bool:
    """Make ``torchvision.transforms.functional`` importable for spandrel. Returns True when
    the stand-in was installed (the real torchvision failed to import), False otherwise."""
    global _checked, failure
    with _lock:
        if _checked:
            return is_standin()
        try:
            importlib.import_module("torchvision.transforms.functional")
        except Exception as exc:  # noqa: BLE001 - ImportError, or RuntimeError from its operators
            failure = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            # a half-imported torchvision must not shadow the stand-in
            for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
                del sys.modules[name]
            sys.modules.update(_standin_modules())
            _checked = True
            return True
        _checked = True
        return False
