"""A procedural cartoon-face renderer with labelled attributes (the faces model's data).

``render(seed)`` draws one face and returns it with its labels. Every labelled attribute
is drawn from its own uniform (or Bernoulli) draw, independently of the others and of the
unlabelled "nuisance" factors (face shape, eye colour, clothes, hair style, tilt, ...), so a
linear boundary per attribute is learnable in a generator's latent space (InterFaceGAN) and
a classifier can be judged per attribute.

How it draws: Pillow's ImageDraw on an RGB canvas ``supersample`` times larger than the
output, then a box reduction (ImageDraw polygons are not antialiased; 4x4 supersampling is).
Everything is a polygon built with numpy in *head units* (head half-width ~1, x right,
y down, origin at the centre of the face), so one affine map (tilt, scale, shift) places the
whole head. Features on the face are points on an ellipsoid turned by the yaw angle
(``_Head.proj``): turning the head moves and foreshortens them; the nose, which stands out
of the surface, moves more than the eyes. About 5 ms per 64 px face on one core.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[float, float, float]
Kind = Literal["continuous", "binary"]


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: Kind
    low: float
    high: float
    doc: str


#: The labelled attributes, in label-vector order. Ranges are the sampling ranges.
ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("smile", "continuous", -1.0, 1.0, "mouth corners down (-1) .. big open smile (+1)"),
    Attribute("eyes_open", "continuous", 0.0, 1.0, "eyelids closed (0) .. wide open (1)"),
    Attribute("glasses", "binary", 0.0, 1.0, "wears glasses"),
    Attribute("hair_light", "continuous", 0.0, 1.0, "hair colour: black (0) .. pale blond (1)"),
    Attribute("hair_red", "continuous", 0.0, 1.0, "hair colour: ash/brown (0) .. ginger (1)"),
    Attribute("hair_length", "continuous", 0.0, 1.0, "bald (0) .. short .. long past the shoulders (1)"),
    Attribute("skin_tone", "continuous", 0.0, 1.0, "light (0) .. dark (1) skin"),
    Attribute("beard", "binary", 0.0, 1.0, "has a beard and moustache"),
    Attribute("age", "continuous", 0.0, 1.0, "age marks: none (0) .. wrinkles and eye bags (1)"),
    Attribute("head_turn", "continuous", -1.0, 1.0, "head turned to the picture's left (-1) .. right (+1), +-35 deg"),
    Attribute("background", "continuous", 0.0, 1.0, "background lightness: dark (0) .. light (1)"),
)
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
_BY_NAME = {a.name: a for a in ATTRIBUTES}

GLASSES_P = 0.35
BEARD_P = 0.3
MAX_TURN_DEG = 35.0


@dataclass(frozen=True)
class FaceParams:
    """Everything that decides a picture: the labelled attributes, then the nuisance factors."""

    # labelled
    smile: float = 0.3
    eyes_open: float = 0.8
    glasses: float = 0.0
    hair_light: float = 0.3
    hair_red: float = 0.2
    hair_length: float = 0.4
    skin_tone: float = 0.3
    beard: float = 0.0
    age: float = 0.0
    head_turn: float = 0.0
    background: float = 0.6
    # nuisance (not labelled; vary freely)
    bg_hue: float = 0.6
    bg_sat: float = 0.35
    face_width: float = 1.0      # 0.88 .. 1.08
    jaw: float = 0.3             # how much the jaw narrows, 0.15 .. 0.45
    eye_hue: float = 0.55        # iris colour from brown to blue/green
    eye_size: float = 1.0        # 0.85 .. 1.15
    gaze: float = 0.0            # iris shift -1 .. 1
    brow_tilt: float = 0.0       # -1 (sad) .. 1 (stern)
    nose_size: float = 1.0       # 0.8 .. 1.25
    mouth_width: float = 1.0     # 0.85 .. 1.15
    lip_red: float = 0.5         # lip colour strength
    blush: float = 0.3           # cheek blush alpha 0 .. 0.5
    parting: float = 0.0         # hair parting -1 .. 1
    fringe: float = 0.5          # fringe depth over the forehead 0 .. 1
    volume: float = 0.5          # hair volume 0 .. 1
    shirt_hue: float = 0.1
    shirt_light: float = 0.5
    glasses_style: int = 0       # 0 round, 1 rectangular
    glasses_hue: float = 0.0     # frame colour
    beard_length: float = 0.5    # 0 .. 1
    tilt_deg: float = 0.0        # head roll, -8 .. 8
    scale: float = 1.0           # 0.94 .. 1.06
    shift_x: float = 0.0         # fraction of the picture, -0.03 .. 0.03
    shift_y: float = 0.0

    def labels(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in ATTRIBUTE_NAMES}


def sample_params(seed: int, **overrides: float) -> FaceParams:
    """The face of ``seed``. Overrides fix any field (e.g. a smile sweep with all else fixed).

    Labelled attributes come first from their own generator, nuisance factors from another,
    so overriding one attribute never changes the others.
    """
    unknown = set(overrides) - {f.name for f in fields(FaceParams)}
    if unknown:
        raise ValueError(f"unknown face parameter(s): {', '.join(sorted(unknown))}")
    ra = np.random.default_rng([seed, 1])
    rn = np.random.default_rng([seed, 2])
    u = ra.random(11)
    labelled = dict(
        smile=-1 + 2 * u[0],
        eyes_open=math.sqrt(u[1]),  # mostly open: sleepy faces are less common, still covered
        glasses=float(u[2] < GLASSES_P),
        hair_light=u[3],
        hair_red=u[4],
        hair_length=u[5],
        skin_tone=u[6],
        beard=float(u[7] < BEARD_P),
        age=u[8],
        head_turn=-1 + 2 * u[9],
        background=u[10],
    )
    n = rn.random(32)
    nuisance = dict(
        bg_hue=n[0], bg_sat=0.15 + 0.4 * n[1], face_width=0.88 + 0.2 * n[2], jaw=0.15 + 0.3 * n[3],
        eye_hue=n[4], eye_size=0.85 + 0.3 * n[5], gaze=-1 + 2 * n[6], brow_tilt=-1 + 2 * n[7],
        nose_size=0.8 + 0.45 * n[8], mouth_width=0.85 + 0.3 * n[9], lip_red=n[10], blush=0.5 * n[11],
        parting=-1 + 2 * n[12], fringe=n[13], volume=n[14], shirt_hue=n[15], shirt_light=0.15 + 0.7 * n[16],
        glasses_style=int(n[17] < 0.5), glasses_hue=n[18], beard_length=n[19],
        tilt_deg=-8 + 16 * n[20], scale=0.94 + 0.12 * n[21], shift_x=-0.03 + 0.06 * n[22],
        shift_y=-0.03 + 0.06 * n[23],
    )
    values: dict[str, Any] = {**labelled, **nuisance}
    values = {k: (v if isinstance(v, int) else float(v)) for k, v in values.items()}
    values.update(overrides)
    return FaceParams(**values)


# ---------------------------------------------------------------- colours

_SKIN_RAMP = np.array([
    (0.99, 0.88, 0.80), (0.95, 0.76, 0.63), (0.82, 0.60, 0.44),
    (0.62, 0.42, 0.28), (0.42, 0.27, 0.18), (0.27, 0.17, 0.12),
])


def skin_colour(tone: float) -> RGB:
    """Piecewise-linear ramp from very light to very dark skin (monotone in lightness)."""
    t = float(np.clip(tone, 0, 1)) * (len(_SKIN_RAMP) - 1)
    i = min(int(t), len(_SKIN_RAMP) - 2)
    c = _SKIN_RAMP[i] + (t - i) * (_SKIN_RAMP[i + 1] - _SKIN_RAMP[i])
    return (float(c[0]), float(c[1]), float(c[2]))


def hair_colour(light: float, red: float) -> RGB:
    """Lightness from black to pale blond; ``red`` moves the hue from ash/brown to ginger."""
    lum = 0.07 + 0.78 * light ** 1.1
    brown = np.array([1.0, 0.80, 0.58])      # brown .. golden blond direction
    ginger = np.array([1.0, 0.55, 0.25])
    hue = brown + red * (ginger - brown)
    sat = 0.55 + 0.45 * red
    c = lum * (1 - sat) + lum * sat * hue / hue.mean() * 0.95
    return tuple(float(x) for x in np.clip(c, 0, 1))  # type: ignore[return-value]


def _hls(h: float, l: float, s: float) -> RGB:  # noqa: E741 (the usual letter)
    return colorsys.hls_to_rgb(h % 1.0, float(np.clip(l, 0, 1)), float(np.clip(s, 0, 1)))


def _shade(c: RGB, f: float) -> RGB:
    return (c[0] * f, c[1] * f, c[2] * f)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2]))


def _c8(c: RGB, alpha: float | None = None) -> tuple[int, ...]:
    rgb = tuple(int(round(255 * min(max(v, 0.0), 1.0))) for v in c)
    return rgb if alpha is None else (*rgb, int(round(255 * min(max(alpha, 0.0), 1.0))))


# ---------------------------------------------------------------- geometry

def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40,
             t0: float = 0.0, t1: float = 2 * math.pi) -> np.ndarray:
    t = np.linspace(t0, t1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _bezier(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float],
            n: int = 16) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    a, b, c = np.array(p0), np.array(p1), np.array(p2)
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t ** 2 * c


class _Head:
    """Head-units -> canvas pixels, with the yaw projection of points on the face."""

    A = 1.0    # face half-width (times face_width)
    B = 1.3    # face half-height

    def __init__(self, p: FaceParams, size_px: int) -> None:
        self.p = p
        self.a = self.A * p.face_width
        self.b = self.B
        self.theta = math.radians(MAX_TURN_DEG) * p.head_turn
        self.sin, self.cos = math.sin(self.theta), math.cos(self.theta)
        s = size_px * 0.255 * p.scale
        r = math.radians(p.tilt_deg)
        self.m = np.array([[s * math.cos(r), -s * math.sin(r)], [s * math.sin(r), s * math.cos(r)]])
        self.t = np.array([size_px * (0.5 + p.shift_x), size_px * (0.48 + p.shift_y)])
        self.unit = s

    def px(self, pts: np.ndarray) -> list[tuple[float, float]]:
        q = pts @ self.m.T + self.t
        return [tuple(v) for v in q.tolist()]  # type: ignore[misc]

    def proj(self, pts: np.ndarray, lift: float = 0.0) -> np.ndarray:
        """Points (u, y) on the face surface, seen after the yaw turn.

        The face is an ellipsoid of depth ~0.9 a; ``lift`` raises points off the surface
        (the nose tip, glasses) so they move further when the head turns.
        """
        u = pts[:, 0] / self.a
        yy = pts[:, 1] / self.b
        z = np.sqrt(np.clip(1 - u ** 2 - 0.35 * yy ** 2, 0.02, None)) * 0.9 + lift
        x = self.a * (u * self.cos + z * self.sin)
        return np.stack([x, pts[:, 1]], 1)

    def t_at(self, y: float, grow: float = 0.0) -> float:
        """The outline parameter where the right side of the outline reaches height ``y``."""
        return math.asin(max(-1.0, min(1.0, y / (self.b + grow))))

    def outline(self, grow: float = 0.0, n: int = 72, t: np.ndarray | None = None) -> np.ndarray:
        """The face silhouette: an egg with a narrowing jaw; the chin follows the turn.

        ``t`` is the angle parameter (0 = right, pi/2 = chin, pi = left, 3pi/2 = crown).
        """
        if t is None:
            t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        low = np.clip(np.sin(t), 0, None)
        # the silhouette of a turned ellipsoid is a little narrower than the front view
        width = self.a * math.sqrt(self.cos ** 2 + (0.9 * self.sin) ** 2) + grow
        x = width * np.cos(t) * (1 - self.p.jaw * low ** 2)
        x += 0.45 * self.a * self.sin * low ** 3  # the chin moves with the features
        y = (self.b + grow) * np.sin(t) + 0.04 * low
        return np.stack([x, y], 1)


# ---------------------------------------------------------------- drawing

def _background(p: FaceParams, n: int) -> Image.Image:
    light = 0.12 + 0.78 * p.background
    top = np.array(_hls(p.bg_hue, light + 0.06, p.bg_sat))
    bottom = np.array(_hls(p.bg_hue + 0.03, light - 0.06, p.bg_sat))
    t = np.linspace(0, 1, n, dtype=np.float32)[:, None, None]
    col = (top + t * (bottom - top)).astype(np.float32)
    arr = np.broadcast_to(col, (n, n, 3))
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def _draw_back_hair(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, hair: RGB) -> None:
    """Hair behind the head and neck, over the shoulders: from the crown down to ``bottom``."""
    L = p.hair_length
    if L < 0.3:
        return
    bottom = -0.2 + 2.8 * L                       # 0.64 (chin-length bob) .. 2.6 (past the shoulders)
    grow = 0.1 + 0.2 * p.volume
    top = h.outline(grow, t=np.linspace(math.pi, 2 * math.pi, 30))  # left -> crown -> right
    w = -top[0, 0]
    flare = 0.15 + 0.25 * p.volume * min(1.0, L * 1.5)
    right = _bezier((top[-1, 0], 0.0), (top[-1, 0] + flare, 0.6 * bottom), (top[-1, 0] + flare * 0.8, bottom), 12)
    # a rounded lower edge, hollow in the middle where the neck is
    hem = _bezier((top[-1, 0] + flare * 0.8, bottom), (0.0, bottom - 0.35 * min(1.0, L * 2)),
                  (top[0, 0] - flare * 0.8, bottom), 14)
    left = _bezier((top[0, 0] - flare * 0.8, bottom), (-w - flare, 0.6 * bottom), (top[0, 0], 0.0), 12)
    pts = np.concatenate([top, right, hem, left])
    d.polygon(h.px(pts), fill=_c8(_shade(hair, 0.82)))


def _draw_shirt(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams) -> None:
    shirt = _hls(p.shirt_hue, p.shirt_light, 0.45)
    sh = _ellipse(0, 2.55, 2.3, 0.9, 40, math.pi, 2 * math.pi)
    body = np.concatenate([sh, [[2.3, 4.0], [-2.3, 4.0]]])
    d.polygon(h.px(body), fill=_c8(shirt))


def _draw_neck(d: ImageDraw.ImageDraw, h: _Head, skin: RGB) -> None:
    neck = np.concatenate([[[-0.42, 0.6], [0.42, 0.6]], _ellipse(0, 1.66, 0.46, 0.3, 20, 0, math.pi)])
    d.polygon(h.px(neck), fill=_c8(_shade(skin, 0.8)))


def _draw_ears(d: ImageDraw.ImageDraw, h: _Head, skin: RGB) -> None:
    for side in (-1, 1):
        # an ear sits behind the silhouette; turning away from it brings it out
        x = side * h.a * (1.0 * h.cos) - 0.25 * h.a * h.sin
        rx = 0.2 * max(0.25, 1 - 0.9 * side * h.sin)
        pts = _ellipse(x + side * 0.02, 0.05, rx, 0.3, 24)
        d.polygon(h.px(pts), fill=_c8(_shade(skin, 0.92)))
        inner = _ellipse(x + side * 0.04, 0.07, rx * 0.45, 0.17, 16)
        d.polygon(h.px(inner), fill=_c8(_shade(skin, 0.75)))


def _draw_face(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, skin: RGB) -> None:
    d.polygon(h.px(h.outline()), fill=_c8(skin))
    if p.blush > 0.02:
        for side in (-1, 1):
            c = h.proj(np.array([[side * 0.52, 0.38]]))[0]
            d.polygon(h.px(_ellipse(c[0], c[1], 0.2 * (1 - 0.5 * side * h.sin), 0.12, 20)),
                      fill=_c8((0.9, 0.35, 0.35), p.blush * 0.45))


def _draw_age(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, skin: RGB) -> None:
    if p.age < 0.03:
        return
    line = _c8(_shade(skin, 0.5), 0.35 + 0.65 * p.age)
    w = max(1, int(round(h.unit * (0.03 + 0.035 * p.age))))
    faint = _c8(_shade(skin, 0.62), 0.25 + 0.5 * p.age)  # forehead lines: lighter, or they read as bars
    for k in range(1 + int(p.age * 2.99)):  # more with age
        y = -0.68 - 0.12 * k
        d.line(h.px(h.proj(_bezier((-0.36, y), (0, y - 0.05), (0.36, y), 12))), fill=faint,
               width=max(1, int(w * 0.7)))
    for side in (-1, 1):
        ex = side * 0.62
        for k in (-1, 0, 1):  # crow's feet
            seg = np.array([[ex, -0.08 + 0.05 * k], [ex + side * 0.14, -0.1 + 0.1 * k]])
            d.line(h.px(h.proj(seg)), fill=line, width=w)
        bag = _bezier((side * 0.24, 0.08), (side * 0.38, 0.2), (side * 0.52, 0.08), 10)
        d.line(h.px(h.proj(bag)), fill=line, width=w)
        fold = _bezier((side * 0.22, 0.38), (side * 0.4, 0.55), (side * 0.36, 0.78), 12)
        d.line(h.px(h.proj(fold)), fill=line, width=w)


def _draw_eyes(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, skin: RGB) -> None:
    iris = _hls(0.07 + 0.5 * p.eye_hue, 0.32, 0.55)
    lash = _c8((0.12, 0.08, 0.07))
    s = p.eye_size
    rx, ry = 0.17 * s, 0.14 * s
    up = 0.13 * s * p.eyes_open             # opening above the eye line
    lo = 0.06 * s * math.sqrt(p.eyes_open)  # and below
    for side in (-1, 1):
        cx, cy = side * 0.4, -0.05
        c = h.proj(np.array([[cx, cy]]))[0]
        fore = max(0.35, 1 - 0.8 * side * h.sin) ** 0.5  # the far eye looks narrower
        ball = _ellipse(cx, cy, rx, ry, 28)
        d.polygon(h.px(h.proj(ball)), fill=_c8((0.97, 0.97, 0.96)))
        ic = c + np.array([0.05 * p.gaze + 0.1 * h.sin, 0.0])
        d.polygon(h.px(_ellipse(ic[0], ic[1], 0.085 * s * fore, 0.09 * s, 20)), fill=_c8(iris))
        d.polygon(h.px(_ellipse(ic[0], ic[1], 0.042 * s * fore, 0.045 * s, 14)), fill=_c8((0.05, 0.04, 0.04)))
        d.polygon(h.px(_ellipse(ic[0] + 0.025 * s, ic[1] - 0.03 * s, 0.02 * s, 0.02 * s, 10)),
                  fill=_c8((1, 1, 1)))
        # lids: skin from above the ball down to the upper lid curve, and from below up
        upper = _bezier((cx - rx, cy), (cx, cy - 2 * up), (cx + rx, cy), 16)
        lower = _bezier((cx - rx, cy), (cx, cy + 2 * lo), (cx + rx, cy), 16)
        cap_top = _ellipse(cx, cy, rx * 1.15, ry * 1.35, 16, 0, -math.pi)
        cap_bot = _ellipse(cx, cy, rx * 1.15, ry * 1.35, 16, 0, math.pi)
        lid = _shade(skin, 0.96)
        d.polygon(h.px(h.proj(np.concatenate([upper, cap_top]))), fill=_c8(lid))
        d.polygon(h.px(h.proj(np.concatenate([lower, cap_bot]))), fill=_c8(skin))
        lw = max(1, int(round(h.unit * 0.04)))
        d.line(h.px(h.proj(upper)), fill=lash, width=lw, joint="curve")
        # a short lash flick at the outer corner
        o = np.array([[cx + side * rx, cy], [cx + side * (rx + 0.06), cy - 0.05]])
        d.line(h.px(h.proj(o)), fill=lash, width=lw)


def _draw_brows(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, hair: RGB) -> None:
    col = _c8(_shade(_mix(hair, (0.15, 0.1, 0.08), 0.35), 0.85))
    w = max(1, int(round(h.unit * 0.075)))
    for side in (-1, 1):
        inner_y = -0.34 + 0.06 * p.brow_tilt
        brow = _bezier((side * 0.2, inner_y), (side * 0.42, -0.46), (side * 0.62, -0.33), 12)
        d.line(h.px(h.proj(brow)), fill=col, width=w, joint="curve")


def _draw_nose(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, skin: RGB) -> None:
    n = p.nose_size
    tip = np.array([[0.0, 0.33 * (0.9 + 0.1 * n)]])
    t = h.proj(tip, lift=0.25 * n)[0]
    base = h.proj(np.array([[0.0, 0.0]]), lift=0.05)[0]
    shadow = _c8(_shade(skin, 0.72))
    w = max(1, int(round(h.unit * 0.04)))
    # the bridge line on the shaded side, then the nostril curve
    side = -1 if h.sin >= 0 else 1
    d.line(h.px(np.array([[base[0] + side * 0.06, -0.02], [t[0] + side * 0.03, t[1] - 0.06]])),
           fill=_c8(_shade(skin, 0.85)), width=w)
    curve = _bezier((t[0] - 0.13 * n, t[1] - 0.03), (t[0], t[1] + 0.09 * n), (t[0] + 0.13 * n, t[1] - 0.03), 12)
    d.line(h.px(curve), fill=shadow, width=w, joint="curve")


def _draw_beard(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, hair: RGB, rng: np.random.Generator) -> None:
    col = _shade(hair, 0.9)
    grow = 0.02 + 0.08 * p.beard_length
    ts = h.t_at(0.36, grow)
    lower = h.outline(grow, t=np.linspace(ts, math.pi - ts, 40))  # right side -> chin -> left
    lower[:, 1] += np.clip(lower[:, 1] - 0.5, 0, None) * 0.5 * p.beard_length  # a longer beard hangs
    # inner edge: up the left cheek, over the upper lip (moustache), down the right cheek
    inner = np.array([[-0.9, 0.36], [-0.66, 0.56], [-0.38, 0.57], [-0.12, 0.53], [0.0, 0.54],
                      [0.12, 0.53], [0.38, 0.57], [0.66, 0.56], [0.9, 0.36]])
    inner[:, 0] *= h.a
    d.polygon(h.px(np.concatenate([lower, h.proj(inner)])), fill=_c8(col))
    # hair texture: short darker strokes between the outline and the mouth
    dark = _c8(_shade(col, 0.72), 0.55)
    w = max(1, int(round(h.unit * 0.025)))
    centre = h.proj(np.array([[0.0, 0.75]]))[0]
    for _ in range(36):
        q = lower[rng.integers(3, len(lower) - 3)]
        q = q + rng.uniform(0.08, 0.55) * (centre - q)
        d.line(h.px(np.array([q, q + [0.03 * rng.standard_normal(), 0.08]])), fill=dark, width=w)


def _draw_mouth(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, skin: RGB) -> None:
    s = p.smile
    hw = 0.3 * p.mouth_width * (1 + 0.12 * max(s, 0))
    y = 0.7
    cy = y - 0.1 * s                       # corners rise with the smile
    lip = _mix(_shade(skin, 0.6), (0.65, 0.2, 0.22), 0.35 + 0.4 * p.lip_red)
    w = max(1, int(round(h.unit * 0.05)))
    opening = max(0.0, s - 0.25) / 0.75 * 0.3  # continuous: a wider grin opens the mouth
    top = _bezier((-hw, cy), (0, y + 0.08 * s), (hw, cy), 18)
    if opening > 0.01:
        bottom = _bezier((hw, cy), (0, y + 0.08 * s + 2 * opening), (-hw, cy), 18)
        poly = h.proj(np.concatenate([top, bottom]))
        d.polygon(h.px(poly), fill=_c8((0.35, 0.08, 0.1)))
        teeth_b = _bezier((hw * 0.9, cy + 0.01), (0, y + 0.08 * s + 0.8 * opening), (-hw * 0.9, cy + 0.01), 14)
        d.polygon(h.px(h.proj(np.concatenate([top, teeth_b]))), fill=_c8((0.97, 0.96, 0.93)))
        d.line(h.px(poly) + [h.px(poly[:1])[0]], fill=_c8(lip), width=w, joint="curve")
    else:
        d.line(h.px(h.proj(top)), fill=_c8(lip), width=w, joint="curve")
        # a hint of the lower lip
        under = _bezier((-hw * 0.45, y + 0.14 + 0.02 * s), (0, y + 0.17 + 0.02 * s), (hw * 0.45, y + 0.14 + 0.02 * s), 8)
        d.line(h.px(h.proj(under)), fill=_c8(_shade(skin, 0.8)), width=max(1, w // 2))


def _draw_front_hair(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams, hair: RGB) -> None:
    L = p.hair_length
    if L < 0.05:
        return
    grow = 0.04 + (0.06 + 0.14 * p.volume) * min(1.0, L * 2.5)
    # the cap: the top of the outline, grown outward, down to the hairline
    hairline = -0.95 + 0.38 * p.fringe * min(1.0, L * 2)    # a fringe stays above the brows
    side_y = -0.2 + min(1.0, L * 1.6) * 0.6                 # sideburns length
    ts = h.t_at(side_y, grow)
    top = h.outline(grow, t=np.linspace(math.pi - ts, 2 * math.pi + ts, 60))  # left -> crown -> right
    part = 0.35 * p.parting
    fringe = np.array([[0.62 * h.a, hairline + 0.06], [part + 0.2, hairline],
                       [part, hairline - 0.12 * (1 - p.fringe)], [part - 0.2, hairline],
                       [-0.62 * h.a, hairline + 0.06]])
    front = h.proj(fringe, lift=0.05)
    # the hair's inner edge follows the face outline (a band inside it) from the fringe's
    # ends down to the sideburns, so the face is framed by a curve, not a window
    inset = -0.12
    t_side = h.t_at(side_y, inset)
    t_temple = h.t_at(min(hairline + 0.12, side_y), inset)
    right = h.outline(inset, t=np.linspace(2 * math.pi + t_side, 2 * math.pi + t_temple, 10))
    left = h.outline(inset, t=np.linspace(math.pi - t_temple, math.pi - t_side, 10))
    pts = np.concatenate([top, right, front, left])
    col = hair
    alpha = min(1.0, (L - 0.05) / 0.1)  # a bald head fades into a buzz cut
    d.polygon(h.px(pts), fill=_c8(col, alpha))
    # strands: a few darker curves from the parting
    strand = _c8(_shade(hair, 0.75), 0.7 * alpha)
    w_px = max(1, int(round(h.unit * 0.03)))
    for k in (-2, -1, 1, 2):
        end_x = part + k * 0.3
        c = _bezier((part, -h.b * 0.97), (part + k * 0.2, -h.b * 0.9), (end_x, hairline - 0.08), 10)
        d.line(h.px(h.proj(c)), fill=strand, width=w_px)


def _draw_glasses(d: ImageDraw.ImageDraw, h: _Head, p: FaceParams) -> None:
    frame = _hls(p.glasses_hue, 0.18, 0.5) if p.glasses_hue < 0.7 else (0.75, 0.6, 0.25)
    w = max(1, int(round(h.unit * 0.055)))
    rims = []
    for side in (-1, 1):
        cx, cy = side * 0.4, -0.05
        if p.glasses_style == 0:
            rim = _ellipse(cx, cy, 0.25, 0.22, 32)
        else:  # a rectangle with rounded corners, as a superellipse
            t = np.linspace(0, 2 * math.pi, 36)
            rim = np.stack([cx + 0.27 * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.4,
                            cy + 0.19 * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.4], 1)
        rim = h.proj(rim, lift=0.12)
        rims.append(rim)
        d.polygon(h.px(rim), fill=_c8((0.85, 0.92, 1.0), 0.18))
        d.line(h.px(np.concatenate([rim, rim[:1]])), fill=_c8(frame), width=w, joint="curve")
    bridge = h.proj(_bezier((-0.15, -0.08), (0, -0.15), (0.15, -0.08), 8), lift=0.14)
    d.line(h.px(bridge), fill=_c8(frame), width=w)
    for side, rim in zip((-1, 1), rims, strict=True):
        if side * h.sin > 0.15:
            continue  # the temple on the far side is hidden behind the head
        i = np.argmax(side * rim[:, 0])
        end = np.array([[side * h.a * h.cos - 0.2 * h.a * h.sin, -0.02]])
        d.line(h.px(np.concatenate([rim[i:i + 1], end])), fill=_c8(frame), width=w)


def render_params(p: FaceParams, size: int = 64, supersample: int = 4) -> np.ndarray:
    """Draw ``p``: RGB uint8 (size, size, 3)."""
    n = size * supersample
    img = _background(p, n)
    d = ImageDraw.Draw(img, "RGBA")
    h = _Head(p, n)
    skin = skin_colour(p.skin_tone)
    hair = hair_colour(p.hair_light, p.hair_red)
    rng = np.random.default_rng(int(p.beard_length * 1e6) + int(p.jaw * 1e3))  # texture only
    _draw_shirt(d, h, p)
    _draw_back_hair(d, h, p, hair)
    _draw_neck(d, h, skin)
    _draw_ears(d, h, skin)
    _draw_face(d, h, p, skin)
    _draw_age(d, h, p, skin)
    if p.beard >= 0.5:
        _draw_beard(d, h, p, hair, rng)
    _draw_eyes(d, h, p, skin)
    _draw_brows(d, h, p, hair)
    _draw_nose(d, h, p, skin)
    _draw_mouth(d, h, p, skin)
    _draw_front_hair(d, h, p, hair)
    if p.glasses >= 0.5:
        _draw_glasses(d, h, p)
    if supersample > 1:
        img = img.reduce(supersample)
    return np.asarray(img, dtype=np.uint8)


@dataclass(frozen=True)
class Face:
    image: np.ndarray            # RGB float32 (size, size, 3) in [0, 1]
    labels: dict[str, float]     # ATTRIBUTE_NAMES -> value (binary ones are 0.0 / 1.0)
    params: FaceParams


def render(seed: int, size: int = 64, supersample: int = 4, **overrides: float) -> Face:
    """The face of ``seed`` (deterministic), with its labels."""
    p = sample_params(seed, **overrides)
    img = render_params(p, size, supersample).astype(np.float32) / 255.0
    return Face(img, p.labels(), p)


def render_batch(seeds: range | list[int], size: int = 64, supersample: int = 4
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Many faces: uint8 (N, size, size, 3) and float32 labels (N, len(ATTRIBUTES))."""
    seeds = list(seeds)
    images = np.empty((len(seeds), size, size, 3), np.uint8)
    labels = np.empty((len(seeds), len(ATTRIBUTES)), np.float32)
    for i, s in enumerate(seeds):
        p = sample_params(int(s))
        images[i] = render_params(p, size, supersample)
        labels[i] = [getattr(p, a) for a in ATTRIBUTE_NAMES]
    return images, labels


def with_labels(p: FaceParams, **labels: float) -> FaceParams:
    """``p`` with some labelled attributes changed (validated against ATTRIBUTES)."""
    for k, v in labels.items():
        a = _BY_NAME.get(k)
        if a is None:
            raise ValueError(f"unknown face attribute {k!r}; known: {', '.join(ATTRIBUTE_NAMES)}")
        if not a.low <= v <= a.high:
            raise ValueError(f"face attribute {k}={v} outside [{a.low}, {a.high}]")
    return replace(p, **labels)
