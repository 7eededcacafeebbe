"""Trees for the landscape renderer: placement on the terrain (layout) and small
vectorised sprites (conifers; deciduous trees in leaf or bare) drawn with a depth test."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ganpaint.data.noise import sample_periodic

if TYPE_CHECKING:
    from ganpaint.data.landscape import Layout, Palette, Terrain

WORLD = 512.0
BARK, FOLIAGE, NEEDLES = 5, 6, 7
SNOW = np.array([0.94, 0.96, 1.0], np.float32)


@dataclass
class TreeSet:
    """Trees sorted far to near. ``depth`` is the distance from the camera."""

    x: np.ndarray
    depth: np.ndarray
    base: np.ndarray
    height: np.ndarray
    conifer: np.ndarray  # bool
    seed: np.ndarray     # int per tree (shape details)


def place_trees(layout: Layout, t: Terrain, cam_z: float) -> TreeSet:
    """Where the trees stand: on gentle slopes above the water and below the rocks,
    clustered where the forest noise is high. Depends on the layout only."""
    rng = np.random.default_rng([layout.seed, 7])
    n = int(2500 * layout.trees) + 1
    d0, d1 = 14.0, 380.0
    d = np.sqrt(rng.uniform(d0 * d0, d1 * d1, n)).astype(np.float32)
    half = math.tan(math.radians(layout.fov / 2)) * 1.1
    x = (rng.uniform(-1, 1, n) * d * half).astype(np.float32)
    kind_r = rng.uniform(0, 1, n)
    size_r = rng.uniform(0, 1, n)
    seeds = rng.integers(0, 2**31, n)
    wz = cam_z + d
    h = sample_periodic(t.height, x, wz, WORLD)
    ny = sample_periodic(t.ny, x, wz, WORLD)
    forest = sample_periodic(t.forest, x, wz, WORLD)
    keep = (h > t.water_level + 0.8) & (ny > 0.86) & (forest > 1.0 - 2.2 * layout.trees) & (h < t.rock_line - 8)
    alt = np.clip((h - t.water_level) / 60.0, 0, 1) if t.water_level > -1e8 else np.zeros_like(h)
    conifer = kind_r < np.clip(layout.conifers + 0.3 * alt, 0, 1)
    height = np.where(conifer, 7.0 + 6.0 * size_r, 5.5 + 4.5 * size_r).astype(np.float32)
    order = np.argsort(-d[keep], kind="stable")
    sel = np.nonzero(keep)[0][order]
    return TreeSet(x[sel], d[sel], h[sel], height[sel], conifer[sel], seeds[sel])


def _light(pal: Palette, shade: np.ndarray) -> np.ndarray:
    return np.asarray(pal.sun, np.float32) * shade[..., None] + np.asarray(pal.ambient, np.float32) * 0.45


def draw_trees(
    img: np.ndarray, depth: np.ndarray, material: np.ndarray, snow: np.ndarray, trees: TreeSet,
    t: Terrain, v: Any, pal: Palette, sun: np.ndarray, season: str, tex_seed: int,
    fog: Callable[[np.ndarray, float], np.ndarray],
) -> None:
    """Draw every tree into the buffers (in place), far to near, hidden by nearer terrain."""
    side = float(np.sign(sun[0]) or 1.0)
    sun_up = float(max(sun[1], 0.15))
    for i in range(trees.depth.size):
        d = float(trees.depth[i])
        ph = float(trees.height[i]) * v.f / d
        if ph < 1.5:
            continue
        pw = ph * (0.5 if trees.conifer[i] else 0.8)
        bx = v.w / 2 + float(trees.x[i]) * v.f / d
        by = v.hz + (t.cam_h - float(trees.base[i])) * v.f / d
        r0, r1 = max(0, int(by - ph)), min(v.h, int(math.ceil(by)) + 1)
        c0, c1 = max(0, int(bx - pw / 2)), min(v.w, int(math.ceil(bx + pw / 2)) + 1)
        if r0 >= r1 or c0 >= c1:
            continue
        win = (slice(r0, r1), slice(c0, c1))
        front = d < depth[win] + 1.5
        if not front.any():  # hidden behind nearer ground
            continue
        rr = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
        cc = np.arange(c0, c1, dtype=np.float32)[None, :] + 0.5
        u = np.broadcast_to((cc - bx) / (pw / 2), (r1 - r0, c1 - c0))
        vv = np.broadcast_to((by - rr) / ph, (r1 - r0, c1 - c0))
        seed = int(trees.seed[i])
        if ph < 5:  # a few pixels: a plain silhouette in one colour is all that shows
            cov, col, mat, sn = _tiny(u, vv, bool(trees.conifer[i]), pal, sun_up, season)
        elif trees.conifer[i]:
            cov, col, mat, sn = _conifer(u, vv, seed, pal, side, sun_up, season)
        elif season == "winter":
            cov, col, mat, sn = _bare(u, vv, pw, ph, seed, pal, side, sun_up)
        else:
            cov, col, mat, sn = _leafy(u, vv, seed, pal, sun)
        vis = (cov > 0.0) & front
        if not vis.any():
            continue
        col = fog(col, d)
        a = (cov * vis)[..., None]
        img[win] = img[win] * (1 - a) + col * a
        solid = vis & (cov >= 0.5)
        depth[win] = np.where(solid, d, depth[win])
        material[win] = np.where(solid, mat, material[win])
        snow[win] = np.where(solid, sn, snow[win])


def _tiny(u, v, conifer, pal, sun_up, season):  # type: ignore[no-untyped-def]
    if conifer:
        shape = (np.abs(u) < 1.0 - v) & (v >= 0) & (v <= 1)
        base = np.asarray(pal.conifer, np.float32)
        mat = NEEDLES
    else:
        shape = ((u / 0.95) ** 2 + ((v - 0.6) / 0.4) ** 2 < 1.0) & (v >= 0)
        base = np.asarray(pal.bark if season == "winter" else pal.foliage, np.float32)
        mat = BARK if season == "winter" else FOLIAGE
    cov = shape.astype(np.float32) * (0.5 if (season == "winter" and not conifer) else 1.0)
    col = np.broadcast_to(base * _light(pal, np.float32(0.6 * sun_up * 1.6)), u.shape + (3,))
    return cov, col, np.full(u.shape, mat), np.zeros(u.shape, np.float32)


def _wobble(u: np.ndarray, v: np.ndarray, seed: int) -> np.ndarray:
    ph = (seed % 997) * 0.01
    return np.sin(u * 9.1 + v * 23.7 + ph) * np.sin(u * 17.3 - v * 11.9 + 2 * ph)


def _conifer(u, v, seed, pal, side, sun_up, season):  # type: ignore[no-untyped-def]
    tiers = 3 + seed % 3
    vv = (v - 0.1) / 0.9
    tv = np.mod(vv * tiers, 1.0)
    wob = _wobble(u, v, seed)
    hw = (1.0 - vv) * (0.55 + 0.45 * (1.0 - tv)) * (1.0 + 0.08 * wob)
    fol = (vv >= 0) & (vv <= 1) & (np.abs(u) < hw)
    trunk = (np.abs(u) < 0.09) & (v >= 0) & (v < 0.14)
    shade = np.clip(0.55 + 0.35 * u * side, 0.2, 1.0) * sun_up * 1.6
    base = np.asarray(pal.conifer, np.float32) * (0.9 + 0.12 * wob)[..., None]
    col = base * _light(pal, shade)
    col = np.where(trunk[..., None] & ~fol[..., None], np.asarray(pal.bark, np.float32) * _light(pal, shade), col)
    sn = np.zeros(u.shape, np.float32)
    if season == "winter":
        # snow rests on the upper, outer surfaces of each tier of branches
        edge = fol & ((hw - np.abs(u)) < 0.22 * hw + 0.04) & (tv > 0.1) & (wob > -0.5)
        sn = edge.astype(np.float32)
        col = np.where(edge[..., None], SNOW * _light(pal, np.clip(0.8 + 0.2 * u * side, 0.5, 1) * sun_up * 1.6), col)
    cov = (fol | trunk).astype(np.float32)
    mat = np.where(fol, NEEDLES, BARK)
    return cov, col, mat, sn


def _leafy(u, v, seed, pal, sun):  # type: ignore[no-untyped-def]
    cu, cv = u / 0.95, (v - 0.62) / 0.38
    rr = cu * cu + cv * cv
    wob = _wobble(u, v, seed)
    crown = rr < 1.0 + 0.25 * wob
    trunk = (np.abs(u) < 0.08 * (1.2 - 0.6 * v)) & (v >= 0) & (v < 0.55)
    nz = np.sqrt(np.clip(1.0 - rr, 0.0, 1.0))
    n = np.stack([cu, cv, -nz], -1)  # a round crown facing the camera
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
    sdir = np.asarray([sun[0], sun[1], -abs(sun[2]) * 0.3], np.float32)
    shade = np.clip(n @ (sdir / np.linalg.norm(sdir)), 0.0, 1.0) * 0.9 + 0.1
    leaves = np.asarray(pal.foliage, np.float32) * (0.9 + 0.15 * wob)[..., None]
    col = np.where(crown[..., None], leaves * _light(pal, shade),
                   np.asarray(pal.bark, np.float32) * _light(pal, np.full(u.shape, 0.5, np.float32)))
    cov = (crown | trunk).astype(np.float32)
    mat = np.where(crown, FOLIAGE, BARK)
    return cov, col, mat, np.zeros(u.shape, np.float32)


def _branches(seed: int) -> list[tuple[float, float, float, float, float]]:
    """Segments (u0, v0, u1, v1, width) of a bare crown in the tree's unit box."""
    rng = np.random.default_rng(seed)
    segs: list[tuple[float, float, float, float, float]] = [(0.0, 0.0, 0.0, 0.5, 0.14)]
    for k in range(int(rng.integers(3, 6))):
        ang = math.radians(rng.uniform(-55, 55) + (k - 2) * 6)
        ln = rng.uniform(0.25, 0.42)
        u0, v0 = 0.0, rng.uniform(0.32, 0.5)
        u1, v1 = u0 + 1.9 * ln * math.sin(ang), v0 + ln * math.cos(ang)
        segs.append((u0, v0, u1, v1, 0.08))
        for s in (-1, 1):
            a2 = ang + s * math.radians(rng.uniform(15, 40))
            l2 = ln * rng.uniform(0.4, 0.7)
            segs.append((u1, v1, u1 + 1.9 * l2 * math.sin(a2), min(0.98, v1 + l2 * math.cos(a2)), 0.04))
    return segs


def _bare(u, v, pw, ph, seed, pal, side, sun_up):  # type: ignore[no-untyped-def]
    pu, pv = u * pw / 2, v * ph  # pixel units
    cov = np.zeros(u.shape, np.float64)
    segs = _branches(seed)
    if ph < 16:  # small in the picture: twigs would be sub-pixel, keep trunk and limbs
        segs = [sg for sg in segs if sg[4] > 0.05]
    for u0, v0, u1, v1, wd in segs:
        ax, ay = u0 * pw / 2, v0 * ph
        bx, by = u1 * pw / 2, v1 * ph
        ex, ey = bx - ax, by - ay
        tt = ((pu - ax) * ex + (pv - ay) * ey) * (1.0 / max(ex * ex + ey * ey, 1e-6))
        np.minimum(np.maximum(tt, 0.0, out=tt), 1.0, out=tt)
        dist = np.hypot(pu - ax - tt * ex, pv - ay - tt * ey)
        half = max(0.35, wd * pw / 2)
        np.maximum(cov, np.minimum(half + 0.5 - dist, 1.0), out=cov)
    cu, cv = u / 0.95, (v - 0.66) / 0.34
    haze = (cu * cu + cv * cv < 1.0) & (_wobble(u * 1.5, v * 1.5, seed) > 0.1)
    cov = np.maximum(np.maximum(cov, 0.0), 0.3 * haze)  # the fine twigs read as a thin brown veil
    shade = np.clip(0.5 + 0.3 * u * side, 0.2, 1.0) * sun_up * 1.6
    col = np.asarray(pal.bark, np.float32) * 0.8 * _light(pal, shade)
    mat = np.full(u.shape, BARK)
    return cov, col, mat, np.zeros(u.shape, np.float32)
