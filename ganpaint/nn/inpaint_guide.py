"""The inpainting network's second first-stage fill: OpenCV's Frequency Selective
Reconstruction (FSR; Seiler, Jonscher, Schöberl and Kaup 2015, "Resampling images to a regular
grid from a non-regular subset of pixel positions using frequency selective reconstruction",
in ``cv2.xphoto.inpaint`` of opencv-contrib).

Why a second stage beside push-pull: push-pull is the smooth mean of the surroundings;
FSR extrapolates each block's dominant 2-D frequencies into the hole, so lines and texture
run on. Measured on the held-out real photos of ``ganpaint data build inpaint`` (hole PSNR,
docs/models.md): free-form strokes push-pull 19.01 dB, FSR 19.22, Telea 19.02, their 50/50
blend 19.58; FSR's edge strength is 32.6 against push-pull's 18.7 (the real photos' 56.6).

OpenCV is an optional import here: without opencv-contrib (``cv2.xphoto``) the guide is the
push-pull fill itself (:func:`guide_available` says which), so the network still runs and a
caller can tell the user what is missing. The guide is computed on 8-bit pictures on the
CPU (FSR's input), one picture of the batch at a time, and never carries a gradient.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganpaint.core import opencv_fill
from ganpaint.core.opencv_fill import FILLS

GUIDES = ("", "fsr")
#: the largest side the guide is computed at (larger pictures: scaled down, then the guide up)
GUIDE_MAX_SIDE = 320
#: the hint a caller shows when the guide library is missing
MISSING = "opencv-contrib-python-headless is not installed (pip install 'opencv-contrib-python-headless>=4.8')"


def guide_available(kind: str) -> bool:
    """Whether ``kind`` ("" or a key of FILLS) can be computed here ("" always can)."""
    return kind == "" or (kind in FILLS and opencv_fill.available())


def fill_u8(kind: str, picture: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """The ``kind`` fill (a key of FILLS) of one (H, W, 3) uint8 picture where ``hole`` (H, W,
    bool) is True; None when it cannot be made. Shift-map runs in a child process
    (ganpaint.core.opencv_fill.ISOLATED: it is not repeatable beside other work), FSR here."""
    if kind in opencv_fill.ISOLATED:
        return opencv_fill.fill_u8_isolated(kind, picture, hole)
    return opencv_fill.fill_u8(kind, picture, hole)


def fsr_fill_u8(picture: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """:func:`fill_u8` with FSR."""
    return fill_u8("fsr", picture, hole)


def computed_fills(kind: str, image: torch.Tensor, hole: torch.Tensor,
                   max_side: int = GUIDE_MAX_SIDE) -> list[torch.Tensor | None]:
    """The ``kind`` fill (a key of FILLS) of each picture of B x 3 x H x W ``image`` in [-1, 1]
    with its hole (B x 1 x H x W, > 0.5 = unknown): 3 x H x W float32 CPU tensors, None where
    it cannot be computed. A picture larger than ``max_side`` is filled at that size (the
    known pixels averaged down, any pixel with an unknown one under it counted as hole) and
    the fill scaled back up (bicubic): FSR's and shift-map's time grow with the hole's area,
    and at 512 px they would take seconds. FSR frees the GIL and shift-map runs in a child
    process, so a caller may compute two kinds at once in threads."""
    if kind not in FILLS:
        raise ValueError(f"unknown inpainting fill {kind!r}; known: {', '.join(repr(g) for g in FILLS)}")
    with torch.no_grad():
        x = image.detach().float().clamp(-1, 1).cpu()
        known = (hole.detach().float() <= 0.5).float().cpu()
        h, w = x.shape[-2:]
        scale = min(1.0, max_side / max(h, w))
        if scale < 1.0:
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
            ks = F.interpolate(known, size=size, mode="area")
            x = F.interpolate(x * known, size=size, mode="area") / ks.clamp_min(1e-6)
            known = (ks >= 0.999).float()
        pics = ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        holes = (known < 0.5)[:, 0].numpy()
        out: list[torch.Tensor | None] = []
        for i in range(pics.shape[0]):
            filled = fill_u8(kind, pics[i], holes[i])
            if filled is None:
                out.append(None)
                continue
            t = torch.from_numpy(filled.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
            if scale < 1.0:
                t = F.interpolate(t, size=(h, w), mode="bicubic", align_corners=False).clamp(-1, 1)
            out.append(t[0])
    return out


def with_fallback(fills: list[torch.Tensor | None], fallback: torch.Tensor) -> torch.Tensor:
    """:func:`computed_fills`' pictures as one batch like ``fallback``, whose picture stands
    in wherever a fill is None."""
    out = fallback.detach().clone()
    for i, t in enumerate(fills):
        if t is not None:
            out[i] = t.to(out.device, out.dtype)
    return out


def guide_fill(kind: str, image: torch.Tensor, hole: torch.Tensor, fallback: torch.Tensor,
               max_side: int = GUIDE_MAX_SIDE) -> torch.Tensor:
    """The ``kind`` fill ("" or a key of FILLS; :func:`computed_fills`) of ``image`` as one
    batch, same shape and dtype; ``fallback`` (e.g. the push-pull fill; all of it for kind
    "") stands in for every picture it cannot be computed for."""
    if kind == "":
        return fallback
    return with_fallback(computed_fills(kind, image, hole, max_side), fallback)
