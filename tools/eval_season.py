"""Judge a season-transfer model on the seasons dataset's paired test scenes.

    .venv/bin/python tools/eval_season.py judge --model plugins/season/ganpaint_season/models/season-default.safetensors \
        --json /tmp/season-eval.json --sheet docs/images/season-contact-sheet.png
    .venv/bin/python tools/eval_season.py large --model ... --out docs/images   # the 6000x4000 showcase

judge: summer -> winter on every test scene (120 procedural scenes rendered in both seasons,
never seen in training), scored against the ground-truth winter render with PSNR and SSIM
(numpy, gaussian window), for the model, the identity and a hand-written colour filter whose
few parameters are fitted on the TRAIN renders only (unpaired: summer and winter statistics).
All three are measured in the same run. winter -> summer is scored the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DATA = Path.home() / ".cache/ganpaint/data/seasons"
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), np.float32) / 255.0


def to_u8(a: np.ndarray) -> np.ndarray:
    return (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)


# ------------------------------------------------------------------------------ metrics
def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((to_u8(a).astype(np.float64) - to_u8(b)) ** 2)) / 255.0**2
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def _gauss(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-(x**2) / (2 * sigma**2))
    return (k / k.sum()).astype(np.float32)


def _filter_valid(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution of an (H, W, C) array with the 1-D kernel ``k``."""
    n = len(k)
    h, w = img.shape[:2]
    rows = sum(k[i] * img[i : h - n + 1 + i] for i in range(n))
    return sum(k[i] * rows[:, i : w - n + 1 + i] for i in range(n))  # type: ignore[no-any-return]


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: 11x11 gaussian window, sigma 1.5, K1 0.01, K2 0.03, data
    range 1) over the valid window positions and the three channels, on 8-bit-rounded pictures."""
    x = to_u8(a).astype(np.float32) / 255.0  # float32: ample for 8-bit pictures, half the work
    y = to_u8(b).astype(np.float32) / 255.0
    k = _gauss()
    c1, c2 = 0.01**2, 0.03**2
    mx, my = _filter_valid(x, k), _filter_valid(y, k)
    sxx = _filter_valid(x * x, k) - mx * mx
    syy = _filter_valid(y * y, k) - my * my
    sxy = _filter_valid(x * y, k) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


# ------------------------------------------------------------------------------ colour filter
@dataclass(frozen=True)
class ColourFilter:
    """Desaturate towards luma, then a per-channel gain and offset (brighten + cool shift)."""

    saturation: float
    gain: tuple[float, float, float]
    offset: tuple[float, float, float]

    def __call__(self, img: np.ndarray) -> np.ndarray:
        y = (img @ LUMA)[..., None]
        x = y + self.saturation * (img - y)
        return np.clip(x * np.array(self.gain, np.float32) + np.array(self.offset, np.float32), 0, 1)

    @classmethod
    def fit(cls, src: list[np.ndarray], dst: list[np.ndarray]) -> ColourFilter:
        """Fitted on unpaired pictures: the saturation scales the mean chroma (distance from luma)
        of ``src`` to that of ``dst``; gain and offset then match each channel's mean and std."""
        def chroma(imgs: list[np.ndarray]) -> float:
            return float(np.mean([np.abs(i - (i @ LUMA)[..., None]).mean() for i in imgs]))

        sat = chroma(dst) / max(chroma(src), 1e-6)
        desat = [(i @ LUMA)[..., None] + sat * (i - (i @ LUMA)[..., None]) for i in src]
        s = np.concatenate([d.reshape(-1, 3) for d in desat])
        t = np.concatenate([d.reshape(-1, 3) for d in dst])
        gain = t.std(0) / np.maximum(s.std(0), 1e-6)
        offset = t.mean(0) - gain * s.mean(0)
        return cls(float(sat), tuple(float(g) for g in gain), tuple(float(o) for o in offset))  # type: ignore[arg-type]


def train_renders(data: Path, season: str, limit: int) -> list[np.ndarray]:
    files = sorted((data / "train" / season / "render").glob("*.png"))[:limit]
    return [read_rgb(f) for f in files]


# ------------------------------------------------------------------------------ model
def model_fn(path: str, component: str) -> Callable[[np.ndarray], np.ndarray]:
    from ganpaint.engine.inference import translate_array
    from ganpaint.engine.loading import load_model

    model = load_model(path, component=component)
    return lambda img: translate_array(model, img)


def _score(method: Callable[[np.ndarray], np.ndarray], inputs: list[np.ndarray], truth: list[np.ndarray]) -> dict:
    ps, ss, outs, t0 = [], [], [], time.perf_counter()
    for x, gt in zip(inputs, truth, strict=True):
        y = method(x)
        outs.append(y)
        ps.append(psnr(y, gt))
        ss.append(ssim(y, gt))
    return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)), "psnr_each": ps, "ssim_each": ss,
            "seconds": time.perf_counter() - t0, "outputs": outs}


def judge(args: argparse.Namespace) -> int:
    data = Path(args.data)
    names = sorted(p.name for p in (data / "test" / "summer").glob("*.png"))[: args.limit or None]
    summer = [read_rgb(data / "test" / "summer" / n) for n in names]
    winter = [read_rgb(data / "test" / "winter" / n) for n in names]
    tr_s, tr_w = train_renders(data, "summer", args.fit_count), train_renders(data, "winter", args.fit_count)
    filt_sw, filt_ws = ColourFilter.fit(tr_s, tr_w), ColourFilter.fit(tr_w, tr_s)
    report: dict = {"model": str(args.model), "test_scenes": len(names), "filter_fit_pictures": len(tr_s),
                    "filter_summer_to_winter": asdict(filt_sw), "filter_winter_to_summer": asdict(filt_ws)}
    keep = {}
    n_rev = min(len(names), args.reverse_limit or len(names))
    for direction, comp, src, gt, filt in (("summer_to_winter", "forward", summer, winter, filt_sw),
                                           ("winter_to_summer", "reverse", winter[:n_rev], summer[:n_rev], filt_ws)):
        rows = {"identity": _score(lambda x: x, src, gt), "colour_filter": _score(filt, src, gt),
                "ours": _score(model_fn(str(args.model), comp), src, gt)}
        ours, fil = np.array(rows["ours"]["psnr_each"]), np.array(rows["colour_filter"]["psnr_each"])
        report[direction] = {k: {m: v[m] for m in ("psnr", "ssim", "seconds")} for k, v in rows.items()}
        report[direction]["ours_beats_filter_psnr_scenes"] = int((ours > fil).sum())
        report[direction]["ours_beats_identity_psnr_scenes"] = int((ours > np.array(rows["identity"]["psnr_each"])).sum())
        keep[direction] = rows
        report[direction]["scenes"] = len(src)
        print(f"{direction} ({len(src)} scenes)")
        for k, v in rows.items():
            print(f"  {k:14s} PSNR {v['psnr']:6.2f} dB  SSIM {v['ssim']:.4f}  ({v['seconds']:.1f} s)")
        print(f"  ours > filter on {report[direction]['ours_beats_filter_psnr_scenes']}/{len(src)} scenes")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    if args.sheet:
        rows = keep["summer_to_winter"]
        pick = np.linspace(0, len(names) - 1, args.sheet_rows).round().astype(int)
        contact_sheet([[summer[i], rows["colour_filter"]["outputs"][i], rows["ours"]["outputs"][i], winter[i]]
                       for i in pick], ["summer (input)", "colour filter", "ours", "winter (truth)"],
                      [names[i] for i in pick], Path(args.sheet))
    return 0


def contact_sheet(rows: list[list[np.ndarray]], headers: list[str], labels: list[str], out: Path,
                  cell: int = 192) -> None:
    pad, top, left = 4, 22, 60
    sheet = Image.new("RGB", (left + len(headers) * (cell + pad), top + len(rows) * (cell + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, h in enumerate(headers):
        draw.text((left + j * (cell + pad) + 4, 5), h, fill="black")
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        y = top + i * (cell + pad)
        draw.text((4, y + cell // 2 - 6), label.removesuffix(".png"), fill="black")
        for j, img in enumerate(row):
            tile = Image.fromarray(to_u8(img)).resize((cell, cell), Image.LANCZOS)
            sheet.paste(tile, (left + j * (cell + pad), y))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)


# ------------------------------------------------------------------------------ 6000x4000
def large(args: argparse.Namespace) -> int:
    """A 6000x4000 summer picture (a procedural scene rendered at 3000x2000, scaled up 2x)
    through the tool's code path (translate_array -> tiling), timed, with peak memory."""
    import resource

    from ganpaint_season import DEFAULT_MODEL, ganpaint_register_tools
    from ganpaint_season.tool import run as run_season

    from ganpaint.data.landscape import Scene, render
    from ganpaint.testing import RecordingContext, make_request

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w, h = (int(v) for v in args.size.split("x"))
    t0 = time.perf_counter()
    if args.input and Path(args.input).is_file():
        big = read_rgb(Path(args.input))
    else:  # rendering at full size takes long: half size, then a Lanczos 2x
        small = render(Scene.random(args.scene_seed), "summer", (w // 2, h // 2))
        big = np.asarray(Image.fromarray(to_u8(small)).resize((w, h), Image.LANCZOS), np.float32) / 255.0
        del small
        if args.input:
            Image.fromarray(to_u8(big)).save(args.input)
    print(f"source picture {w}x{h} ready in {time.perf_counter() - t0:.1f} s", flush=True)
    if args.render_only:
        return 0
    spec = ganpaint_register_tools()[0]
    req = make_request(big, spec=spec, params={"model": DEFAULT_MODEL})
    ctx = RecordingContext(models={(DEFAULT_MODEL, "season"): str(args.model)})
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    res = run_season(req, ctx)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    notes = sorted({m for _, m in ctx.calls if m})
    info = {"size": f"{w}x{h}", "seconds": round(secs, 1), "peak_rss_mb": round(peak / 1024),
            "rss_before_run_mb": round(rss0 / 1024), "progress_messages": notes[:12]}
    print(json.dumps(info, indent=1))
    y = res.image
    small_size = (1500, round(1500 * h / w))
    Image.fromarray(to_u8(big)).resize(small_size, Image.LANCZOS).save(out / "season-6000x4000-input.jpg", quality=88)
    Image.fromarray(to_u8(y)).resize(small_size, Image.LANCZOS).save(out / "season-6000x4000.jpg", quality=88)
    for label, (fx, fy) in {"a": (0.2, 0.58), "b": (0.65, 0.72)}.items():
        side = min(512, w, h)
        cx, cy = min(int(fx * w), w - side), min(int(fy * h), h - side)
        box = (slice(cy, cy + side), slice(cx, cx + side))
        pair = np.concatenate([big[box], np.ones((side, 8, 3), np.float32), y[box]], axis=1)
        Image.fromarray(to_u8(pair)).save(out / f"season-crop-{label}.png")
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--data", default=str(DATA))
    j.add_argument("--model", required=True, help="a season model file (safetensors with forward + reverse)")
    j.add_argument("--limit", type=int, default=0, help="first N test scenes only (0 = all)")
    j.add_argument("--reverse-limit", type=int, default=0, help="winter -> summer on the first N only (0 = all)")
    j.add_argument("--fit-count", type=int, default=200, help="train renders per season for the colour filter")
    j.add_argument("--json")
    j.add_argument("--sheet")
    j.add_argument("--sheet-rows", type=int, default=6)
    g = sub.add_parser("large")
    g.add_argument("--model", required=True)
    g.add_argument("--out", default="docs/images")
    g.add_argument("--scene-seed", type=int, default=424242)
    g.add_argument("--size", default="6000x4000", help="WxH")
    g.add_argument("--input", help="the source picture: read if it exists, else rendered and saved here")
    g.add_argument("--render-only", action="store_true")
    g.add_argument("--json")
    args = ap.parse_args(argv)
    return judge(args) if args.cmd == "judge" else large(args)


if __name__ == "__main__":
    sys.exit(main())
