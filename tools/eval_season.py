"""Judge a season-transfer model on the seasons dataset's paired test scenes.

    .venv/bin/python tools/eval_season.py judge --model plugins/season/ganpaint_season/models/season-default.safetensors \
        --json /tmp/season-eval.json --sheet docs/images/season-contact-sheet.png
    .venv/bin/python tools/eval_season.py large --model ... --out docs/images   # the 6000x4000 showcase
    .venv/bin/python tools/eval_season.py photos --model plugins/season/ganpaint_season/models/season-default.safetensors \
        --json /tmp/season-photos.json --sheet docs/images/season-photos-contact-sheet.png

photos: the tool on real photos the season model never saw (HELD_OUT below), summer -> winter
judged by the four figures of ganpaint_season.measures (gradient correlation and luma SSIM
with the input, flat-region high-frequency energy ratio, snow cover) for the tool as it ships
("keep the picture"), the network's raw output and the hand filter (desaturate, cool tint,
lift: the colour filter fitted on the train renders, parameters as in the model card), all in
the same run; the contact sheet shows input, filter, ours, raw and winter -> summer.

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
    from ganpaint.engine.inference.translate import translate_array
    from ganpaint.engine.models.loading import load_model

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


# ------------------------------------------------------------------------------ held-out photos
#: real photos the season model never trained on: (Debian package or wheel, file inside it,
#: author, licence). The seasons set trained on the Lomiri landscapes and china.jpg; these are
#: the outdoor (and one indoor) photos of the same packages that it never saw, plus a winter
#: photo from lomiri-wallpapers-20.04. Share-alike ones are used for judging only.
HELD_OUT = [
    ("deb:lomiri-wallpapers-16.04", "usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg", "Sander Klootwijk",
     "CC-BY-SA-4.0"),
    ("deb:lomiri-wallpapers-16.04", "usr/share/backgrounds/Dragonfly_by_Bolly.jpg", "Bolly", "CC-BY-SA-4.0"),
    ("deb:lomiri-wallpapers-16.04", "usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi",
     "CC-BY-4.0"),
    ("deb:lomiri-wallpapers-16.04", "usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg", "Jakub Mede", "CC-BY-4.0"),
    ("deb:lomiri-wallpapers-20.04", "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg", "Lukas Baubkus",
     "CC-BY-SA-3.0"),
    ("whl:scikit-image", "skimage/data/camera.png", "Lav Varshney", "CC0-1.0"),
    ("whl:scikit-image", "skimage/data/rocket.jpg", "SpaceX", "public-domain"),
    ("whl:scikit-learn", "sklearn/datasets/images/flower.jpg", "see sklearn/datasets/images/README.txt",
     "CC-BY-2.0"),
]
#: the hand filter's parameters (ColourFilter.fit on 200 train renders per season; the card's
#: extra.evaluation.filter_summer_to_winter)
HAND_FILTER = ColourFilter(0.7730071869685629, (0.8612439632415771, 0.931105375289917, 0.8364344835281372),
                           (0.12228864431381226, 0.09501788020133972, 0.26892906427383423))


def held_out_photos(cache: Path, side: int) -> list[tuple[str, np.ndarray, str, str]]:
    from ganpaint.data.debian import fetch_deb, fetch_wheel
    from ganpaint.data.photos import SKIMAGE_VERSION, SKLEARN_VERSION

    roots: dict[str, Path] = {}
    out = []
    for where, member, author, licence in HELD_OUT:
        if where not in roots:
            kind, name = where.split(":", 1)
            if kind == "deb":
                roots[where] = fetch_deb(name, cache).root
            else:
                version = SKIMAGE_VERSION if name == "scikit-image" else SKLEARN_VERSION
                roots[where] = fetch_wheel(name, version, cache, member.rsplit("/", 1)[0] + "/").root
        with Image.open(roots[where] / member) as im:
            im = im.convert("RGB")
            im.thumbnail((side, side), Image.Resampling.LANCZOS)
            out.append((Path(member).stem, np.asarray(im, np.float32) / 255.0, author, licence))
    return out


def photos(args: argparse.Namespace) -> int:
    from ganpaint_season.measures import flat_hf_ratio, gradient_correlation, luma_ssim, snow_cover
    from ganpaint_season.structure import summer_to_winter, winter_to_summer

    forward, reverse = model_fn(str(args.model), "forward"), model_fn(str(args.model), "reverse")
    pics = held_out_photos(Path(args.cache), args.side)
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "hand_filter": HAND_FILTER,
        "ours": lambda x: summer_to_winter(x, forward),
        "network_raw": forward,
    }
    figures = {"gradient_correlation": gradient_correlation, "luma_ssim": luma_ssim,
               "flat_hf_ratio": flat_hf_ratio, "snow_cover": lambda y, x: snow_cover(y)}
    per: dict[str, dict[str, dict[str, float]]] = {m: {} for m in methods}
    rows, labels = [], []
    for name, x, _, _ in pics:
        outs = {}
        for m, fn in methods.items():
            t0 = time.perf_counter()
            y = fn(x)
            secs = time.perf_counter() - t0
            outs[m] = y
            per[m][name] = {k: round(float(f(y, x)), 4) for k, f in figures.items()} | {"seconds": round(secs, 2)}
        per["input"] = per.get("input", {})
        per["input"][name] = {"snow_cover": round(snow_cover(x), 4)}
        w2s = winter_to_summer(x, reverse)
        print(f"{name:32s} " + "  ".join(f"{m}: gc {per[m][name]['gradient_correlation']:.3f} "
                                          f"hf {per[m][name]['flat_hf_ratio']:.2f} snow {per[m][name]['snow_cover']:.3f}"
                                          for m in methods), flush=True)
        rows.append([x, outs["hand_filter"], outs["ours"], outs["network_raw"], w2s])
        labels.append(name)
    summary = {m: {k: {"mean": round(float(np.mean([per[m][n][k] for n in per[m]])), 4),
                       "median": round(float(np.median([per[m][n][k] for n in per[m]])), 4),
                       "min": round(float(np.min([per[m][n][k] for n in per[m]])), 4),
                       "max": round(float(np.max([per[m][n][k] for n in per[m]])), 4)}
                   for k in figures} for m in methods}
    summary["input"] = {"snow_cover": {"mean": round(float(np.mean([v["snow_cover"] for v in per["input"].values()])), 4)}}
    report = {"model": str(args.model), "side": args.side, "photos": [
        {"name": n, "author": a, "licence": lic} for n, _, a, lic in pics], "summary": summary, "per_photo": per}
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    if args.card:
        write_card(Path(args.model), report, args)
    if args.sheet:
        photo_sheet(rows, ["input (summer)", "hand filter", "ours: winter", "network raw", "ours: input -> summer"],
                    labels, Path(args.sheet))
    return 0


PHOTOS_COMMAND = ("OMP_NUM_THREADS=1 .venv/bin/python tools/eval_season.py photos --model "
                  "plugins/season/ganpaint_season/models/season-default.safetensors --json /tmp/season-photos.json "
                  "--sheet docs/images/season-photos-contact-sheet.png --card")


def write_card(model: Path, report: dict, args: argparse.Namespace) -> None:
    """Put the held-out photo figures into the model's card, embedded and beside (the weights,
    and so the card's sha256 of them, stay as they are)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from ganpaint.core.atomic import atomic_write_text
    from ganpaint.engine.models.cards import METADATA_KEY, card_of_file

    card = card_of_file(model)
    sm = report["summary"]
    o, f, raw = sm["ours"], sm["hand_filter"], sm["network_raw"]
    n = len(report["photos"])
    verdict = (
        f"On {n} real photos it never saw (summer -> winter, the tool's default 'Keep the picture', "
        f"{args.side} px): gradient correlation with the input {o['gradient_correlation']['mean']:.3f} "
        f"(lowest {o['gradient_correlation']['min']:.3f}; the network's raw output "
        f"{raw['gradient_correlation']['mean']:.3f}, the hand filter {f['gradient_correlation']['mean']:.3f}); "
        f"flat-region high-frequency energy {o['flat_hf_ratio']['mean']:.2f}x the input's (highest "
        f"{o['flat_hf_ratio']['max']:.2f}; raw {raw['flat_hf_ratio']['mean']:.2f}x, filter "
        f"{f['flat_hf_ratio']['mean']:.2f}x); snow cover {o['snow_cover']['mean']:.3f} (filter "
        f"{f['snow_cover']['mean']:.3f}, raw {raw['snow_cover']['mean']:.3f}, input "
        f"{sm['input']['snow_cover']['mean']:.3f}); luma SSIM {o['luma_ssim']['mean']:.3f} (filter "
        f"{f['luma_ssim']['mean']:.3f}, raw {raw['luma_ssim']['mean']:.3f})."
    )
    old_desc = card.description.split(" On ")[0] if " On " in card.description else card.description
    extra = dict(card.extra)
    extra["evaluation_photos"] = {k: report[k] for k in ("side", "photos", "summary", "per_photo")} | {
        "judged_through": "ganpaint_season.structure (the tool with keep_picture on, its default); network_raw = "
                          "keep_picture off; hand_filter = the colour filter of extra.evaluation",
        "command": PHOTOS_COMMAND, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    extra["verdict_photos"] = verdict
    metrics = dict(card.metrics)
    for method in ("ours", "hand_filter", "network_raw"):
        for k in ("gradient_correlation", "luma_ssim", "flat_hf_ratio", "snow_cover"):
            metrics[f"photos_{method}_{k}"] = sm[method][k]["mean"]
    card = card.replace(description=f"{old_desc} {verdict}", metrics=metrics, extra=extra)
    with safe_open(str(model), "pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    tmp = model.with_name(model.name + ".tmp")
    save_file(tensors, str(tmp), metadata={METADATA_KEY: card.to_json(indent=None)})
    tmp.replace(model)
    atomic_write_text(model.with_name(model.name + ".card.json"), card.to_json() + "\n")
    print(f"card of {model} updated")


def photo_sheet(rows: list[list[np.ndarray]], headers: list[str], labels: list[str], out: Path,
                width: int = 240) -> None:
    """Like contact_sheet, but each row keeps its photo's aspect ratio."""
    pad, top, left = 4, 22, 150
    tiles = [[Image.fromarray(to_u8(img)).resize((width, max(1, round(width * img.shape[0] / img.shape[1]))),
                                                 Image.Resampling.LANCZOS) for img in row] for row in rows]
    height = top + sum(r[0].size[1] + pad for r in tiles)
    sheet = Image.new("RGB", (left + len(headers) * (width + pad), height), "white")
    draw = ImageDraw.Draw(sheet)
    for j, h in enumerate(headers):
        draw.text((left + j * (width + pad) + 4, 5), h, fill="black")
    y = top
    for row, label in zip(tiles, labels, strict=True):
        draw.text((4, y + row[0].size[1] // 2 - 6), label[:24], fill="black")
        for j, tile in enumerate(row):
            sheet.paste(tile, (left + j * (width + pad), y))
        y += row[0].size[1] + pad
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
    ph = sub.add_parser("photos", help="the four figures on held-out real photos, with the hand filter")
    ph.add_argument("--model", required=True)
    ph.add_argument("--cache", default=str(DATA.parent / "_sources"), help="where the packages are fetched")
    ph.add_argument("--side", type=int, default=768, help="photos scaled to this long side")
    ph.add_argument("--json")
    ph.add_argument("--sheet")
    ph.add_argument("--card", action="store_true", help="write the figures into the model's card (embedded and beside)")
    args = ap.parse_args(argv)
    return {"judge": judge, "large": large, "photos": photos}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
