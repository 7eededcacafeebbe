"""Keep the picture: the season change taken from the network at its own scale, laid onto
the input without its detail (numpy and Pillow only, no torch).

    picture -> work size (the long side WORK_SIDE, the scale the generator learned)
            -> generator (the caller's function) -> its colour/light change, fitted as a
               local per-channel gain and offset (a guided filter: out = a * in + b, with
               a shrunk towards 1 and clamped, so flat regions only shift and edges stay)
            -> a and b brought back to full size (bilinear) and applied to the full picture
    summer -> winter: + snow where surfaces face up (horizontal structure, ground, the
                      network's own whitening), never on the sky, keeping the texture
    winter -> summer: the change only where vegetation can be (green, or snow-covered
                      ground), never on sky, water, wood or buildings

Every map that decides something is computed at the work size and is smooth, so nothing
at the full size can add a grid, a checkerboard or stripes: the full-size output is the
input's own pixels times a smooth gain plus a smooth offset, blended with a smooth mask.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

#: colour distance at which the edge-aware means stop mixing two pixels
EDGE_SIGMA = 0.08
#: the long side the generator runs at (it was trained on whole scenes of 128-256 px)
WORK_SIDE = 256
#: guided-filter regularisation: local variance below this keeps the input's own contrast
EPS = 0.004
#: the local gain never drops below this (the input's detail is never flattened or inverted)
GAIN_MIN, GAIN_MAX = 0.35, 1.15
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: the colour of fresh snow in daylight (a little blue), scaled to luma 1
SNOW_RGB = np.array([0.90, 0.93, 0.97], np.float32) / float(np.array([0.90, 0.93, 0.97]) @ LUMA)
#: snow's luma is SNOW_BASE + SNOW_CONTRAST * the input's luma: the picture's light and dark
#: (a trunk's edge, a shadow, texture) stay visible under the snow, at about half contrast
SNOW_BASE, SNOW_CONTRAST = 0.62, 0.45

Translate = Callable[[np.ndarray], np.ndarray]


# ------------------------------------------------------------------------------ resampling
def resize(img: np.ndarray, h: int, w: int, up: bool = False) -> np.ndarray:
    """(H, W) or (H, W, C) float32 to (h, w): box (area) when shrinking, bicubic when
    enlarging (bicubic: smooth maps stay smooth, no kinks at the work-size samples); per channel in Pillow's float mode (no 8-bit rounding)."""
    if img.shape[:2] == (h, w):
        return img.astype(np.float32, copy=True)
    f = Image.Resampling.BICUBIC if up or (h >= img.shape[0] and w >= img.shape[1]) else Image.Resampling.BOX
    if img.ndim == 2:
        return np.asarray(Image.fromarray(img.astype(np.float32), "F").resize((w, h), f), np.float32)
    return np.stack([resize(img[..., c], h, w, up) for c in range(img.shape[2])], axis=-1)


def work_size(h: int, w: int, side: int = WORK_SIDE) -> tuple[int, int]:
    """The size the generator runs at: the long side ``side`` (never enlarged)."""
    s = min(1.0, side / max(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


def box(img: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window (edges: the window shrinks; summed-area table)."""
    if r <= 0:
        return img.astype(np.float32, copy=True)
    out = img.astype(np.float64)
    for axis in (0, 1):
        n = out.shape[axis]
        c = np.cumsum(out, axis=axis)
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
        idx = np.arange(n)
        hi, lo = np.minimum(idx + r + 1, n), np.maximum(idx - r, 0)
        out = (np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis))
        shape = [1] * out.ndim
        shape[axis] = n
        out = out / (hi - lo).reshape(shape)
    return out.astype(np.float32)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def hsv(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), saturation and value of an RGB float picture."""
    mx, mn = img.max(-1), img.min(-1)
    d = mx - mn
    s = np.where(mx > 1e-6, d / np.maximum(mx, 1e-6), 0.0)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    dd = np.maximum(d, 1e-6)
    h = np.where(mx == r, (g - b) / dd % 6, np.where(mx == g, (b - r) / dd + 2, (r - g) / dd + 4)) * 60.0
    return np.where(d > 1e-6, h, 0.0).astype(np.float32), s.astype(np.float32), mx.astype(np.float32)


# ------------------------------------------------------------------------------ the transfer
def edge_mean(f: np.ndarray, guide: np.ndarray, r: int, sigma: float = EDGE_SIGMA) -> np.ndarray:
    """Edge-aware mean of ``f`` (H, W[, K]) over a (2r+1)^2 window: each neighbour weighs
    exp(-|guide_q - guide_p|^2 / 2 sigma^2), so values do not leak across the guide's edges
    (no halo around a head against the sky). Offsets are taken with a stride of about r/3
    (odd, so a 2-pixel grid still averages out)."""
    h, w = guide.shape[:2]
    flat = f.ndim == 2
    ff = f[..., None] if flat else f
    step = max(1, r // 3) | 1
    g = np.pad(guide, ((r, r), (r, r), (0, 0)), mode="edge")
    fp = np.pad(ff, ((r, r), (r, r), (0, 0)), mode="edge")
    acc = np.zeros(ff.shape, np.float32)
    total = np.zeros((h, w, 1), np.float32)
    offsets = sorted({*range(-r, r + 1, step), -r, r})
    for dy in offsets:
        for dx in offsets:
            gq = g[r + dy : r + dy + h, r + dx : r + dx + w]
            wgt = np.exp(-((gq - guide) ** 2).sum(-1, keepdims=True) / (2 * sigma * sigma)).astype(np.float32)
            acc += wgt * fp[r + dy : r + dy + h, r + dx : r + dx + w]
            total += wgt
    out = acc / total
    return out[..., 0] if flat else out


def split_box(f: np.ndarray, r: int, part: np.ndarray | None) -> np.ndarray:
    """``box(f, r)``, but with ``part`` (a soft 0..1 map, e.g. the sky) each pixel averages only
    over its own side: part pixels over part pixels, the rest over the rest."""
    if part is None:
        return box(f, r)
    p = part[..., None] if f.ndim == 3 else part
    inside = box(f * p, r) / np.maximum(box(p, r), 1e-6)
    outside = box(f * (1 - p), r) / np.maximum(box(1 - p, r), 1e-6)
    return p * inside + (1 - p) * outside


def fit_gain_offset(x: np.ndarray, y: np.ndarray, r: int, eps: float = EPS,
                    part: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per channel, per pixel: y ~ a * x + b over (2r+1)^2 windows (a guided filter with the
    input as its own guide), a shrunk towards 1 by ``eps`` and clamped to [GAIN_MIN,
    GAIN_MAX]; both then averaged twice more, so they vary smoothly (plain means, not
    edge-aware ones: a gain that jumps at an edge would change that edge's contrast, and the
    picture's structure with it). ``y`` is first smoothed over 5x5 twice, so a network's grid
    or stripes (periods of a few pixels) never reach a or b. With ``part`` (the sky) every
    mean stays on its own side of the skyline, so the ground's change does not glow into the
    sky above it (no halo along a ridge or round a head)."""
    y = box(box(y, 2), 2)
    mx, my = split_box(x, r, part), split_box(y, r, part)
    cov = split_box(x * y, r, part) - mx * my
    var = split_box(x * x, r, part) - mx * mx
    a = np.clip((cov + eps) / (np.maximum(var, 0.0) + eps), GAIN_MIN, GAIN_MAX)
    b = my - a * mx
    return split_box(split_box(a, r, part), r, part), split_box(split_box(b, r, part), r, part)


def transfer(x: np.ndarray, xs: np.ndarray, ys: np.ndarray,
             sky: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's change ``xs -> ys`` (work size) laid on the full picture ``x``, sky and
    ground fitted apart when ``sky`` is given. Returns (out, a, b) with a and b at the work size."""
    r = max(1, round(max(xs.shape[:2]) / 40))
    a, b = fit_gain_offset(xs, ys, r, part=sky)
    h, w = x.shape[:2]
    out = np.empty_like(x, dtype=np.float32)
    for c in range(3):  # one channel at a time: a 6000x4000 picture needs only two full planes more
        out[..., c] = x[..., c] * resize(a[..., c], h, w, up=True) + resize(b[..., c], h, w, up=True)
    return out, a, b


# ------------------------------------------------------------------------------ what is where
def sky_mask(xs: np.ndarray) -> np.ndarray:
    """Soft sky at the work size: sky-like pixels (blue, or bright and smooth) reached from
    the top edge through sky-like pixels, row by row, never across a colour edge (so a
    snowfield below the horizon is not sky); a step may go a few pixels sideways (towers and
    poles do not cut the sky below them off), and a column may cross a thin obstacle (a
    cable, a wire) to sky of the same colour as above it."""
    hue, sat, val = hsv(xs)
    luma = xs @ LUMA
    r = max(1, round(max(xs.shape[:2]) / 96))
    texture = np.sqrt(np.maximum(box(luma * luma, 1) - box(luma, 1) ** 2, 0.0))  # 3x3: an outline spoils 1 px
    blue = smoothstep(170, 195, hue) * (1 - smoothstep(250, 275, hue)) * smoothstep(0.08, 0.18, sat) \
        * smoothstep(0.06, 0.15, val)
    bright = smoothstep(0.6, 0.75, val) * (1 - smoothstep(0.12, 0.25, sat))
    smooth = 1 - smoothstep(0.02, 0.05, texture)
    like = np.maximum(blue, bright) * smooth
    passable = (box(like, 2 * r) > 0.4) | (like > 0.5)  # thin lines across the sky are absorbed
    soft = box(xs, 1)  # 3x3: a wider mean would stop the sky a few pixels above every skyline
    edge = np.zeros(like.shape, np.float32)
    edge[1:] = np.abs(soft[1:] - soft[:-1]).sum(-1)
    h, w = passable.shape
    joined = np.zeros_like(passable)
    reach = np.ones(w, bool)           # the row above was sky here (or a few pixels beside)
    last = soft[0].copy()              # each column's latest sky colour
    gap = np.zeros(w, np.int32)        # rows since each column was last sky
    step = max(1, round(max(h, w) / 64))
    jump = max(2, round(max(h, w) / 24))  # a cable or a wire this thick is crossed
    idx = np.arange(w)
    for i in range(h):
        direct = reach & (edge[i] < 0.06)
        across = (gap > 0) & (gap <= jump) & (np.abs(soft[i] - last).sum(-1) < 0.1)
        joined[i] = passable[i] & (direct | across)
        last[joined[i]] = soft[i][joined[i]]
        gap = np.where(joined[i], 0, gap + 1)
        c = np.concatenate([[0], np.cumsum(joined[i])])
        reach = (c[np.minimum(idx + step + 1, w)] - c[np.maximum(idx - step, 0)]) > 0
    # pockets cut off on every side (between two cables) join when their colour is the colour
    # of the sky found in the same rows
    counts = joined.sum(1)
    ok = counts >= max(3, w // 20)
    if ok.any():
        row_sky = (soft * joined[..., None]).sum(1) / np.maximum(counts, 1)[:, None]
        rows_ok = np.flatnonzero(ok)
        row_sky = row_sky[rows_ok[np.abs(np.arange(h)[:, None] - rows_ok[None, :]).argmin(1)]]
        pocket = passable & (np.abs(soft - row_sky[:, None, :]).sum(-1) < 0.08)
        pocket &= (np.arange(h) <= rows_ok.max())[:, None]  # never below the lowest row of real sky
        joined |= pocket
    found = joined.astype(np.float32)
    return np.maximum(found, box(found, r) * like)  # soft only on the far side of the skyline


def water_mask(xs: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Blue or blue-grey pixels that are not sky (lakes, sea, rivers)."""
    hue, sat, val = hsv(xs)
    blue = smoothstep(165, 190, hue) * (1 - smoothstep(250, 275, hue)) * smoothstep(0.08, 0.2, sat)
    return blue * (1 - sky)


def upward(xs: np.ndarray) -> np.ndarray:
    """How much the structure around a pixel is horizontal (0..1): ground, roofs and ledges
    recede into horizontal texture and lines; trunks, walls and poles are vertical."""
    luma = xs @ LUMA
    if min(luma.shape) < 2:  # a line or a pixel has no orientation
        return np.full(luma.shape, 0.5, np.float32)
    gy, gx = np.gradient(luma)
    r = max(1, round(max(xs.shape[:2]) / 32))  # wide: a thin pole does not make a whole field vertical
    jyy, jxx = box(gy * gy, r), box(gx * gx, r)
    return (jyy + 1e-5) / (jxx + jyy + 2e-5)


def snow_amount(xs: np.ndarray, ys: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Soft snow cover at the work size, 0..1: where the structure is horizontal (surfaces
    facing up), low in the frame (the ground), lit from above and whitened by the network;
    never on the sky, little on dark things or vivid ones that are not green."""
    h, w = xs.shape[:2]
    rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    ground = smoothstep(0.25, 0.7, rows) * np.ones((1, w), np.float32)
    lx, ly = xs @ LUMA, ys @ LUMA
    r = max(1, round(max(h, w) / 64))
    _, sat_y, _ = hsv(ys)
    white = box(smoothstep(0.6, 0.85, ly) * (1 - smoothstep(0.15, 0.3, sat_y)), r)  # the network's own snow
    lit = box(smoothstep(-0.04, 0.1, lx - box(lx, 2 * r)), r)  # tops catch the light (and the snow)
    flat_up = 2.0 * upward(xs) - 1.0  # -1 vertical structure .. +1 horizontal
    hue, sat, val = hsv(xs)
    plant = smoothstep(50, 70, hue) * (1 - smoothstep(160, 180, hue))  # green is where snow lies
    object_ = smoothstep(0.45, 0.7, sat) * (1 - plant) + 1.5 * (1 - smoothstep(0.1, 0.3, val))  # vivid or dark
    score = 0.6 * flat_up + 0.5 * ground + 0.3 * white + 0.3 * lit - 0.6 * np.clip(object_, 0, 1)
    m = smoothstep(0.25, 0.55, edge_mean(score, xs, 2 * r)) * (1 - sky)
    # wide and soft (snow never draws a line of its own), then cut by the sky again so it
    # never glows past an outline into the sky
    return np.clip(box(box(m, r), r) * (1 - sky), 0.0, 1.0)


def vegetation(xs: np.ndarray, ys: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Where winter -> summer may change the picture (0..1): green or yellow-green pixels, or
    snow lying on the ground, and where the network itself turns things green; never the sky,
    water, or warm saturated surfaces (wood, brick, roofs)."""
    hue, sat, val = hsv(xs)
    h, w = xs.shape[:2]
    rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    green = smoothstep(55, 75, hue) * (1 - smoothstep(160, 180, hue)) * smoothstep(0.1, 0.2, sat)
    snow_ground = smoothstep(0.7, 0.85, val) * (1 - smoothstep(0.08, 0.15, sat)) * smoothstep(0.45, 0.7, rows) \
        * upward(xs)  # white (snow, not sand or mud), low in the frame, lying flat
    warm = (1 - smoothstep(35, 50, hue)) * smoothstep(0.2, 0.35, sat)  # wood, brick, skin
    greener = ys[..., 1] - 0.5 * (ys[..., 0] + ys[..., 2]) - (xs[..., 1] - 0.5 * (xs[..., 0] + xs[..., 2]))
    m = np.maximum(green, snow_ground) * smoothstep(0.01, 0.06, greener) * (1 - warm)
    m = m * (1 - sky) * (1 - water_mask(xs, sky))
    r = max(1, round(max(h, w) / 64))
    sky_or_water = np.maximum(sky, water_mask(xs, sky))
    return np.clip(box(box(m, r), r) * (1 - sky_or_water) * (1 - warm), 0.0, 1.0)  # soft, yet never past an edge


# ------------------------------------------------------------------------------ the two directions
def summer_to_winter(x: np.ndarray, translate: Translate, side: int = WORK_SIDE) -> np.ndarray:
    h, w = x.shape[:2]
    xs = resize(x, *work_size(h, w, side))
    ys = np.asarray(translate(xs), np.float32)
    sky = sky_mask(xs)
    out, _, _ = transfer(x, xs, ys, sky)
    m = resize(snow_amount(xs, ys, sky), h, w, up=True)[..., None]
    snow = (SNOW_BASE + SNOW_CONTRAST * (x @ LUMA))[..., None] * SNOW_RGB
    return np.clip(out * (1 - m) + snow * m, 0.0, 1.0).astype(np.float32)


def winter_to_summer(x: np.ndarray, translate: Translate, side: int = WORK_SIDE) -> np.ndarray:
    h, w = x.shape[:2]
    xs = resize(x, *work_size(h, w, side))
    ys = np.asarray(translate(xs), np.float32)
    sky = sky_mask(xs)
    out, _, _ = transfer(x, xs, ys, sky)
    m = resize(vegetation(xs, ys, sky), h, w, up=True)[..., None]
    return np.clip(x + m * (out - x), 0.0, 1.0).astype(np.float32)
