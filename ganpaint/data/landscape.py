"""A procedural landscape renderer: terrain, sky, water, trees and light, in summer
or in winter, deterministic from a seed, vectorised numpy (no torch, no GPU).

A scene is three independent factors, each drawn from its own seed so they can be
mixed (issue 5 needs exactly that):

* :class:`Layout`  -- geometry: camera, hills, mountains, lake, forest, clouds' shapes, sun;
* :class:`Palette` -- colours of sky, light, grass, rock, sand, water, foliage, bark, haze;
* :class:`Texture` -- small-scale relief, colour patches, grain, cloud softness, snow patchiness.

``render(scene, "winter")`` draws the *same* scene as ``render(scene, "summer")``: same
terrain, camera, trees and clouds; only materials and light change (snow where the surface
faces up, bare deciduous trees, snow on conifers, a lower and colder sun, paler sky).

How it draws: the terrain is a periodic height field (spectral noise) ray-marched per
screen column with geometric depth steps (the "voxel space" idea); the first step whose
projection reaches a pixel row is found for all pixels at once with one ``searchsorted``,
then refined by interpolating between that step and the one before, so surfaces are
smooth and exactly textured. The lake is the flat plane ``max(height, water_level)``;
its reflection is a second march of a camera mirrored under the water plane. Trees are
small vectorised sprites drawn far to near with a depth test against the terrain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from ganpaint.data.noise import mix, sample_periodic, smoothstep, spectral_noise
from ganpaint.data.trees import TreeSet, draw_trees, place_trees

Season = Literal["summer", "winter"]
RGB = tuple[float, float, float]
SEASONS: tuple[Season, ...] = ("summer", "winter")

WORLD = 512.0  # the height field covers WORLD x WORLD world units and repeats
GRID = 256
CAM_Z = 10.0
Z_NEAR, Z_FAR, STEPS = 2.5, 470.0, 300
SNOW: RGB = (0.94, 0.96, 1.0)

# material labels of RenderBuffers.material
SKY, GRASS, ROCK, SAND, WATER, BARK, FOLIAGE, NEEDLES = range(8)


@dataclass(frozen=True)
class Layout:
    """Where things are. World units: a tree is ~8 tall, the view reaches ~470 deep."""

    seed: int = 0
    horizon: float = 0.42          # horizon row as a fraction of the picture height
    fov: float = 60.0              # horizontal field of view, degrees
    camera_height: float = 12.0    # above the ground under the camera
    hills: float = 10.0            # relief of the near ground
    mountains: float = 80.0        # height of the far range (0 = none)
    mountain_start: float = 200.0  # distance where the range starts rising
    roughness: float = 1.9         # spectral slope of the relief (higher = smoother)
    lake: float = 0.5              # lake size, 0 = no lake
    lake_x: float = 0.0            # lateral position, -1 .. 1 of the view
    lake_z: float = 120.0          # distance of the lake centre
    trees: float = 0.5             # forest density 0 .. 1
    conifers: float = 0.5          # share of conifers 0 .. 1
    clouds: float = 0.4            # cloud cover 0 .. 1 (summer; winter adds overcast)
    sun_azimuth: float = 20.0      # degrees right of the view direction
    sun_elevation: float = 30.0    # degrees above the horizon in summer


@dataclass(frozen=True)
class Palette:
    """Colours (linear-ish RGB in [0, 1]) and the light."""

    sky_zenith: RGB = (0.26, 0.45, 0.80)
    sky_horizon: RGB = (0.72, 0.82, 0.92)
    sun: RGB = (1.0, 0.95, 0.85)
    ambient: RGB = (0.45, 0.55, 0.70)
    grass: RGB = (0.30, 0.50, 0.18)
    grass_dry: RGB = (0.58, 0.55, 0.30)
    rock: RGB = (0.46, 0.43, 0.40)
    sand: RGB = (0.76, 0.70, 0.55)
    water: RGB = (0.12, 0.26, 0.34)
    foliage: RGB = (0.22, 0.42, 0.14)
    conifer: RGB = (0.10, 0.26, 0.16)
    bark: RGB = (0.30, 0.22, 0.16)
    haze: float = 1.0


@dataclass(frozen=True)
class Texture:
    """Small-scale detail, independent of layout and colours."""

    seed: int = 0
    detail: float = 1.0          # amplitude of small terrain bumps (world units)
    variation: float = 0.5       # strength of large colour patches
    patch_scale: float = 1.0     # >1 = smaller patches
    grain: float = 0.012         # per-pixel noise
    cloud_softness: float = 0.3
    snow_patchiness: float = 0.5


@dataclass(frozen=True)
class Scene:
    layout: Layout = field(default_factory=Layout)
    palette: Palette = field(default_factory=Palette)
    texture: Texture = field(default_factory=Texture)

    @classmethod
    def random(cls, seed: int) -> Scene:
        """A scene whose three factors come from independent child seeds of ``seed``."""
        kids = np.random.SeedSequence(int(seed)).spawn(3)
        return cls(
            sample_layout(np.random.default_rng(kids[0])),
            sample_palette(np.random.default_rng(kids[1])),
            sample_texture(np.random.default_rng(kids[2])),
        )

    def with_(self, **changes: object) -> Scene:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class RenderBuffers:
    """The picture and what is under each pixel (for tests, masks and metrics)."""

    image: np.ndarray          # (h, w, 3) float32 [0, 1]
    depth: np.ndarray          # (h, w) distance; inf for sky
    terrain_depth: np.ndarray  # (h, w) depth of the terrain alone (no trees)
    normal_y: np.ndarray       # (h, w) up component of the surface normal (terrain); 0 for sky
    material: np.ndarray       # (h, w) uint8 label (SKY, GRASS, ROCK, ...)
    snow: np.ndarray           # (h, w) float32 snow cover 0 .. 1


# --------------------------------------------------------------------------- sampling


def _u(rng: np.random.Generator, a: float, b: float) -> float:
    return float(rng.uniform(a, b))


def sample_layout(rng: np.random.Generator) -> Layout:
    return Layout(
        seed=int(rng.integers(2**31)),
        horizon=_u(rng, 0.33, 0.5),
        fov=_u(rng, 50, 70),
        camera_height=_u(rng, 7, 20),
        hills=_u(rng, 4, 18),
        mountains=_u(rng, 0, 130) if rng.random() < 0.85 else 0.0,
        mountain_start=_u(rng, 140, 280),
        roughness=_u(rng, 1.6, 2.2),
        lake=_u(rng, 0.3, 1.0) if rng.random() < 0.6 else 0.0,
        lake_x=_u(rng, -0.6, 0.6),
        lake_z=_u(rng, 60, 200),
        trees=_u(rng, 0.1, 0.9),
        conifers=_u(rng, 0.0, 1.0),
        clouds=_u(rng, 0.0, 0.8),
        sun_azimuth=_u(rng, -70, 70),
        sun_elevation=_u(rng, 12, 55),
    )


def _jitter(rng: np.random.Generator, base: RGB, amount: float) -> RGB:
    c = np.clip(np.array(base) + rng.normal(0, amount, 3), 0.0, 1.0)
    return (float(c[0]), float(c[1]), float(c[2]))


def sample_palette(rng: np.random.Generator) -> Palette:
    warm = rng.random() < 0.25  # a late-afternoon light now and then
    p = Palette(
        sky_zenith=_jitter(rng, (0.24, 0.43, 0.80), 0.06),
        sky_horizon=_jitter(rng, (0.93, 0.75, 0.58) if warm else (0.72, 0.82, 0.93), 0.04),
        sun=_jitter(rng, (1.0, 0.82, 0.62) if warm else (1.0, 0.95, 0.86), 0.03),
        ambient=_jitter(rng, (0.45, 0.55, 0.70), 0.04),
        grass=_jitter(rng, (0.30, 0.50, 0.18), 0.06),
        grass_dry=_jitter(rng, (0.58, 0.55, 0.30), 0.05),
        rock=_jitter(rng, (0.46, 0.43, 0.40), 0.06),
        sand=_jitter(rng, (0.76, 0.70, 0.55), 0.04),
        water=_jitter(rng, (0.12, 0.26, 0.34), 0.04),
        foliage=_jitter(rng, (0.22, 0.42, 0.14), 0.05),
        conifer=_jitter(rng, (0.10, 0.26, 0.16), 0.03),
        bark=_jitter(rng, (0.30, 0.22, 0.16), 0.03),
        haze=_u(rng, 0.6, 1.6),
    )
    return p


def sample_texture(rng: np.random.Generator) -> Texture:
    return Texture(
        seed=int(rng.integers(2**31)),
        detail=_u(rng, 0.3, 2.0),
        variation=_u(rng, 0.2, 0.9),
        patch_scale=_u(rng, 0.6, 2.0),
        grain=_u(rng, 0.004, 0.02),
        cloud_softness=_u(rng, 0.15, 0.6),
        snow_patchiness=_u(rng, 0.2, 0.8),
    )


def winter_palette(p: Palette) -> Palette:
    """The same palette in winter: cold light, pale sky, dormant grass, dark water."""

    def m(a: RGB, b: RGB, t: float) -> RGB:
        return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)

    return replace(
        p,
        sky_zenith=m(p.sky_zenith, (0.55, 0.62, 0.72), 0.6),
        sky_horizon=m(p.sky_horizon, (0.82, 0.86, 0.90), 0.7),
        sun=m(p.sun, (0.80, 0.86, 1.0), 0.8),
        ambient=m(p.ambient, (0.55, 0.64, 0.82), 0.6),
        grass=m(p.grass, (0.42, 0.38, 0.30), 0.8),
        grass_dry=m(p.grass_dry, (0.50, 0.45, 0.36), 0.6),
        water=m(p.water, (0.08, 0.14, 0.20), 0.6),
        conifer=m(p.conifer, (0.06, 0.16, 0.13), 0.4),
        haze=p.haze * 1.3,
    )


# --------------------------------------------------------------------------- geometry


@dataclass
class Terrain:
    height: np.ndarray   # (GRID, GRID) rows = z, cols = x (periodic, WORLD units)
    nx: np.ndarray
    ny: np.ndarray
    nz: np.ndarray
    forest: np.ndarray   # forest-density noise
    clouds: np.ndarray   # cloud noise (sky plane)
    patch: np.ndarray    # colour patches (texture)
    fine: np.ndarray     # fine colour noise, period 64 units (texture)
    water_level: float
    cam_h: float
    rock_line: float


@lru_cache(maxsize=8)
def _terrain(layout: Layout, texture: Texture) -> Terrain:
    rng = np.random.default_rng(layout.seed)
    macro = spectral_noise(rng, GRID, layout.roughness, high=0.25)
    ridged = 1.0 - np.abs(spectral_noise(rng, GRID, layout.roughness + 0.2, high=0.3))
    forest = spectral_noise(rng, GRID, 1.6, high=0.2)
    clouds = spectral_noise(rng, GRID, 1.4)
    trng = np.random.default_rng(texture.seed)
    detail = spectral_noise(trng, GRID, 1.2, low=0.2)
    patch = spectral_noise(trng, GRID, 1.5, high=0.3)
    fine = spectral_noise(trng, GRID, 0.8)

    z = (np.arange(GRID, dtype=np.float32) + 0.5) * (WORLD / GRID)
    x = z - WORLD / 2
    zz, xx = np.meshgrid(z, x, indexing="ij")
    rise = smoothstep(layout.mountain_start, layout.mountain_start + 160.0, zz)
    h = layout.hills * macro + layout.mountains * rise * (0.35 + 0.65 * ridged**2)
    h = h + texture.detail * detail
    water = -1e9
    if layout.lake > 0:
        half = math.tan(math.radians(layout.fov / 2))
        lx = layout.lake_x * layout.lake_z * half
        sx, sz = 20.0 + 60.0 * layout.lake, 8.0 + 22.0 * layout.lake
        g = np.exp(-(((xx - lx) / sx) ** 2 + ((zz - layout.lake_z) / sz) ** 2))
        h = h - (layout.hills + 8.0) * 1.5 * g
        inside = h[g > 0.6]
        water = float(np.percentile(inside, 45)) if inside.size else -1e9
    h = h.astype(np.float32)
    cell = WORLD / GRID
    dzh = (np.roll(h, -1, 0) - np.roll(h, 1, 0)) / (2 * cell)
    dxh = (np.roll(h, -1, 1) - np.roll(h, 1, 1)) / (2 * cell)
    inv = 1.0 / np.sqrt(dxh**2 + dzh**2 + 1.0)
    ground = sample_periodic(h, np.linspace(-3, 3, 7, dtype=np.float32), np.full(7, CAM_Z + 15.0), WORLD)
    cam_h = float(max(ground.max(), water)) + layout.camera_height
    base = max(float(np.median(h)), water)
    return Terrain(
        height=h, nx=(-dxh * inv).astype(np.float32), ny=inv.astype(np.float32),
        nz=(-dzh * inv).astype(np.float32), forest=forest, clouds=clouds, patch=patch, fine=fine,
        water_level=water, cam_h=cam_h, rock_line=base + 0.55 * layout.mountains + 25.0,
    )


@dataclass
class _View:
    w: int
    h: int
    f: float       # focal length in pixels
    hz: float      # horizon row
    dx: np.ndarray  # (w,) lateral slope of each column


def _view(layout: Layout, w: int, h: int) -> _View:
    f = (w / 2) / math.tan(math.radians(layout.fov / 2))
    dx = ((np.arange(w, dtype=np.float32) + 0.5) - w / 2) / f
    return _View(w, h, f, layout.horizon * h, dx)


def _sun_dir(layout: Layout, season: Season) -> np.ndarray:
    el = math.radians(layout.sun_elevation * (0.45 if season == "winter" else 1.0))
    az = math.radians(layout.sun_azimuth)
    return np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)], np.float32)


def _first_hits(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each column of ``y`` (steps, w) and each row value in ``rows`` (h,), the first
    step whose running minimum is <= the row: the nearest surface covering that pixel."""
    steps, w = y.shape
    run = np.minimum.accumulate(y, axis=0)
    big = float(np.abs(np.clip(run, -1e6, 1e6)).max() + rows.max() + 10.0) * 2
    offs = np.arange(w, dtype=np.float64) * big
    flat = (-np.clip(run, -1e6, 1e6).astype(np.float64) + offs[None, :]).T.ravel()
    q = (-rows.astype(np.float64)[:, None] + offs[None, :]).T.ravel()
    idx = np.searchsorted(flat, q, side="left") - np.repeat(np.arange(w) * steps, len(rows))
    return idx.reshape(w, len(rows)).T  # (h, w); == steps means no hit (sky)


def _march(t: Terrain, v: _View) -> dict[str, np.ndarray]:
    zs = (Z_NEAR * (Z_FAR / Z_NEAR) ** (np.arange(STEPS) / (STEPS - 1))).astype(np.float32)
    xs = zs[:, None] * v.dx[None, :]
    hs = sample_periodic(t.height, xs, CAM_Z + zs[:, None] + 0 * xs, WORLD)
    surf = np.maximum(hs, t.water_level)
    y = v.hz + (t.cam_h - surf) * v.f / zs[:, None]
    rows = np.arange(v.h, dtype=np.float32) + 0.5
    idx = _first_hits(y, rows)
    hit = idx < STEPS
    i1 = np.clip(idx, 0, STEPS - 1)
    i0 = np.clip(idx - 1, 0, STEPS - 1)
    cols = np.broadcast_to(np.arange(v.w), idx.shape)
    slope = (rows[:, None] - v.hz) / v.f  # ray drop per unit depth
    z0, z1 = zs[i0], zs[i1]
    g0 = surf[i0, cols] - (t.cam_h - slope * z0)
    g1 = surf[i1, cols] - (t.cam_h - slope * z1)
    frac = np.where(idx > 0, np.clip(-g0 / np.maximum(g1 - g0, 1e-6), 0.0, 1.0), 1.0)
    z = np.where(hit, z0 + (z1 - z0) * frac, np.inf).astype(np.float32)
    return {"zs": zs, "hit": hit, "z": z, "surf": surf}


def _reflection_hits(t: Terrain, v: _View, zs: np.ndarray, water_px: np.ndarray) -> np.ndarray:
    """Depth of the land seen mirrored in the water at each water pixel (inf = sky)."""
    out = np.full(water_px.shape, np.inf, np.float32)
    rows = np.nonzero(water_px.any(axis=1))[0]
    if rows.size == 0:
        return out
    xs = zs[:, None] * v.dx[None, :]
    hs = sample_periodic(t.height, xs, CAM_Z + zs[:, None] + 0 * xs, WORLD)
    cam_m = 2 * t.water_level - t.cam_h
    yref = np.where(hs > t.water_level, v.hz + (cam_m - hs) * v.f / zs[:, None], np.inf)
    rc = rows.astype(np.float32) + 0.5
    rmirror = 2 * v.hz - rc
    dist = (t.cam_h - t.water_level) * v.f / np.maximum(rc - v.hz, 1e-3)  # where the ray meets the water
    allowed = zs[:, None] >= dist[None, :]                                  # (steps, R)
    cond = (yref[:, None, :] <= rmirror[None, :, None]) & allowed[:, :, None]
    first = cond.argmax(axis=0)
    any_hit = cond.any(axis=0)
    out[rows] = np.where(any_hit, zs[first], np.inf)
    return out


# --------------------------------------------------------------------------- shading


def _arr(c: RGB) -> np.ndarray:
    return np.asarray(c, dtype=np.float32)


def _sky(layout: Layout, pal: Palette, tex: Texture, t: Terrain, v: _View, season: Season,
         up: np.ndarray | None = None) -> np.ndarray:
    """Sky colour for rows whose view directions rise by ``up`` (tangent of the elevation;
    default: the picture's own rows). Reflections ask for rows mirrored past the top."""
    if up is None:
        up = (v.hz - (np.arange(v.h, dtype=np.float32) + 0.5)) / v.f
    up = up.astype(np.float32)
    top = max(v.hz / v.f, 1e-3)
    k = np.clip(up / top, 0.0, 1.0) ** 0.5
    sky = mix(_arr(pal.sky_horizon), _arr(pal.sky_zenith), k[:, None, None])
    sky = np.broadcast_to(sky, (up.size, v.w, 3)).copy()
    sd = _sun_dir(layout, season)
    norm = np.sqrt(v.dx[None, :] ** 2 + up[:, None] ** 2 + 1.0)
    cosang = np.clip((v.dx[None, :] * sd[0] + up[:, None] * sd[1] + sd[2]) / norm, 0.0, 1.0)
    sun = _arr(pal.sun)
    glow = 0.45 * cosang**200 + 0.18 * cosang**12
    sky += sun * glow[..., None]
    sky[cosang > 0.99975] = 1.0
    # clouds: a noise plane 300 units up, seen in perspective
    a = np.maximum(up, 1e-3)
    zc = 300.0 / a
    xc = v.dx[None, :] * zc[:, None]
    n = sample_periodic(t.clouds, xc / 3.0, np.broadcast_to(zc[:, None] / 3.0, xc.shape), WORLD)
    cover = min(1.0, layout.clouds + (0.35 if season == "winter" else 0.0))
    thr = 1.6 - 3.0 * cover
    dens = smoothstep(thr - tex.cloud_softness, thr + tex.cloud_softness, n)
    dens = dens * smoothstep(0.0, 0.06, up)[:, None]
    grey = 0.82 if season == "winter" else 0.95
    ccol = mix(_arr(pal.ambient) * 1.1, sun * grey, np.clip(0.5 + 0.25 * (n - thr), 0, 1)[..., None])
    sky = mix(sky, ccol, dens[..., None] * 0.9)
    return np.clip(sky, 0.0, 1.0).astype(np.float32)


def _shade_ground(
    x: np.ndarray, z: np.ndarray, depth: np.ndarray, t: Terrain, layout: Layout, pal: Palette,
    tex: Texture, season: Season,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Colour, snow cover, up-normal and material label of terrain points (flat arrays)."""
    wz = CAM_Z + z
    h = sample_periodic(t.height, x, wz, WORLD)
    n = np.stack([sample_periodic(c, x, wz, WORLD) for c in (t.nx, t.ny, t.nz)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    ny = n[:, 1]
    p = sample_periodic(t.patch, x * tex.patch_scale, wz * tex.patch_scale, WORLD)
    q = sample_periodic(t.fine, x, wz, 64.0)
    w_rock = np.maximum(smoothstep(0.86, 0.70, ny + 0.04 * q),
                        smoothstep(t.rock_line, t.rock_line + 25.0, h + 6.0 * p))
    w_sand = smoothstep(t.water_level + 1.6, t.water_level + 0.4, h) * (1 - w_rock)
    grass = mix(_arr(pal.grass), _arr(pal.grass_dry), np.clip(0.5 + 0.35 * p * tex.variation, 0, 1)[:, None])
    alb = mix(grass, _arr(pal.rock) * (1 + 0.15 * p[:, None]), w_rock[:, None])
    alb = mix(alb, _arr(pal.sand), w_sand[:, None])
    alb = alb * (1.0 + 0.10 * q * (0.5 + tex.variation))[:, None]
    snow = np.zeros_like(ny)
    if season == "winter":
        jit = tex.snow_patchiness * (0.05 * q + 0.06 * p)
        snow = smoothstep(0.62, 0.82, ny + jit)
        alb = mix(alb, _arr(SNOW), snow[:, None])
    light = _lighting(n, layout, pal, season)
    col = alb * light
    col = _fog(col, depth, pal)
    mat = np.where(w_rock > 0.5, ROCK, np.where(w_sand > 0.5, SAND, GRASS)).astype(np.uint8)
    return col, snow, ny, mat


def _lighting(n: np.ndarray, layout: Layout, pal: Palette, season: Season) -> np.ndarray:
    diff = np.clip(n @ _sun_dir(layout, season), 0.0, 1.0)[:, None]
    strength = 0.8 if season == "winter" else 1.0
    return _arr(pal.sun) * diff * strength + _arr(pal.ambient) * (0.40 + 0.25 * n[:, 1:2])


def _fog(col: np.ndarray, depth: np.ndarray, pal: Palette) -> np.ndarray:
    f = 1.0 - np.exp(-np.asarray(depth, np.float32) * np.float32(pal.haze / 420.0))
    return mix(col, _arr(pal.sky_horizon), f[..., None])


# --------------------------------------------------------------------------- render


def render(scene: Scene, season: Season = "summer", size: int | tuple[int, int] = 256) -> np.ndarray:
    """The scene as an (h, w, 3) float32 picture in [0, 1]."""
    return render_buffers(scene, season, size).image


def render_buffers(scene: Scene, season: Season = "summer", size: int | tuple[int, int] = 256) -> RenderBuffers:
    if season not in SEASONS:
        raise ValueError(f"season must be 'summer' or 'winter', not {season!r}")
    w, h = (size, size) if isinstance(size, int) else size
    if w < 8 or h < 8:
        raise ValueError(f"picture too small to render: {w}x{h}")
    layout, tex = scene.layout, scene.texture
    pal = winter_palette(scene.palette) if season == "winter" else scene.palette
    t = _terrain(layout, tex)
    v = _view(layout, w, h)
    m = _march(t, v)
    hit, z = m["hit"], m["z"]
    img = _sky(layout, pal, tex, t, v, season)
    material = np.full((h, w), SKY, np.uint8)
    snow = np.zeros((h, w), np.float32)
    normal_y = np.zeros((h, w), np.float32)
    zz = np.where(hit, z, 0.0)
    x = zz * v.dx[None, :]
    hgt = sample_periodic(t.height, x, CAM_Z + zz, WORLD)
    is_water = hit & (hgt < t.water_level)
    land = hit & ~is_water
    if land.any():
        col, sn, ny, mat = _shade_ground(x[land], z[land], z[land], t, layout, pal, tex, season)
        img[land], snow[land], normal_y[land], material[land] = col, sn, ny, mat
    if is_water.any():
        _shade_water(img, snow, normal_y, material, is_water, x, z, m["zs"], t, v, layout, pal, tex, season)
    depth = np.where(hit, z, np.inf).astype(np.float32)
    terrain_depth = depth.copy()
    trees: TreeSet = place_trees(layout, t, CAM_Z)
    draw_trees(img, depth, material, snow, trees, t, v, pal, _sun_dir(layout, season), season, tex.seed,
               fog=lambda c, d: _fog(c, d, pal))
    rng = np.random.default_rng([tex.seed, w, h])
    img = img + rng.normal(0.0, tex.grain, img.shape).astype(np.float32)
    return RenderBuffers(np.clip(img, 0.0, 1.0).astype(np.float32), depth, terrain_depth, normal_y, material, snow)


def _shade_water(
    img: np.ndarray, snow: np.ndarray, normal_y: np.ndarray, material: np.ndarray, mask: np.ndarray,
    x: np.ndarray, z: np.ndarray, zs: np.ndarray, t: Terrain, v: _View, layout: Layout, pal: Palette,
    tex: Texture, season: Season,
) -> None:
    sky_refl = _sky(layout, pal, tex, t, v, season, (np.arange(v.h, dtype=np.float32) + 0.5 - v.hz) / v.f)
    rz = _reflection_hits(t, v, zs, mask)
    rows, cols = np.nonzero(mask)
    xw, zw = x[mask], z[mask]
    ripple = sample_periodic(t.fine, xw * 0.5, (CAM_Z + zw) * 3.0, 64.0)
    jcols = np.clip(cols + np.round(ripple * 1.5).astype(int), 0, v.w - 1)
    rzp = rz[rows, jcols]
    refl = np.empty((rows.size, 3), np.float32)
    sky_hit = ~np.isfinite(rzp)
    refl[sky_hit] = sky_refl[rows[sky_hit], jcols[sky_hit]]
    if (~sky_hit).any():
        zl = rzp[~sky_hit]
        xl = zl * v.dx[jcols[~sky_hit]]
        col, _, _, _ = _shade_ground(xl, zl, zl, t, layout, pal, tex, season)
        refl[~sky_hit] = col
    grazing = (rows + 0.5 - v.hz) / v.f
    fres = (0.35 + 0.55 * np.exp(-grazing * 8.0))[:, None]
    base = _arr(pal.water) * (_arr(pal.ambient) + 0.3 * _arr(pal.sun))
    col = mix(base, refl * 0.9, fres) * (1.0 + 0.05 * ripple)[:, None]
    sn = np.zeros(rows.size, np.float32)
    if season == "winter":
        # the lake is frozen and snow lies on the ice (an upward surface) in patches
        p = sample_periodic(t.patch, xw * 2.0, (CAM_Z + zw) * 2.0, WORLD)
        sn = smoothstep(-0.4 - tex.snow_patchiness, 0.4, p) * 0.85
        ice = mix(_arr((0.62, 0.70, 0.78)) * (_arr(pal.ambient) + 0.4 * _arr(pal.sun)), refl, 0.25)
        col = mix(ice, _arr(SNOW) * (_arr(pal.ambient) * 0.5 + 0.6 * _arr(pal.sun)), sn[:, None])
    img[mask] = _fog(np.clip(col, 0, 1), zw, pal)
    snow[mask] = sn
    normal_y[mask] = 1.0
    material[mask] = WATER
