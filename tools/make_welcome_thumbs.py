"""Make the Welcome window's pictures: what each GAN tool does, with the shipped default models.

    .venv/bin/python tools/make_welcome_thumbs.py            # writes ganpaint/qt/resources/welcome/
    .venv/bin/python tools/make_welcome_thumbs.py --out DIR --device cpu

Every result comes from the real command line (``python -m ganpaint run TOOL ...``, built-in
plugins only, a temporary user folder so only the models the plugins ship are found), run on
the sample photo (resources/samples/dragonfly.jpg) where the tool takes a picture. Where a tool
needs more than the photo, this script makes the extra input:

* inpaint: an elliptic mask over the dragonfly (shown tinted in the "before" picture);
* sketch: a small line drawing of a leaf, a twig and a dragonfly, drawn here with a few
  Pillow strokes at the scale the default model learned (~130 px objects), plus seven dots
  of colour on a hints layer (drawn on the "before" picture);
* stylemix: the photo inverted into the scenes model (A alone), then the same with the fine
  styles (colours) of seed 1;
* faces: the sample is no face, so a generated face (seed 0) and two slider moves.

Each picture is a strip of panels 120 px high with arrows between them, written as
``<tool>.png``; ``thumbs.json`` records, per tool, the model name and sha256 and the exact
command arguments, so a changed default model shows that the pictures are stale.
Translate ships no model and gets no picture. Takes about two minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "samples" / "dragonfly.jpg"
OUT = ROOT / "ganpaint" / "qt" / "resources" / "welcome"
HEIGHT = 120
GAP = 18
WORK = (512, 384)  # the photo tools run at this size (the sample is 1024 x 768)
SMALL = (256, 192)  # sketch and inversion run here (the scale those models know)
CREDIT = ("season.png, inpaint.png and stylemix.png are adaptations of 'Dragonfly' by Bolly "
          "(CC-BY-SA-4.0, Debian lomiri-wallpapers-16.04), made by tools/make_welcome_thumbs.py, "
          "licensed CC-BY-SA-4.0; see resources/samples/CREDITS.md")
#: the dragonfly in the sample, in WORK pixels (x0, y0, x1, y1), found by eye
DRAGONFLY = (200, 115, 410, 208)


def run_cli(tool: str, args: list[str], env: dict[str, str], device: str) -> None:
    cmd = [sys.executable, "-m", "ganpaint", "run", tool, *args, "-q", "--safe-mode", "--device", device]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def fit(im: Image.Image, height: int = HEIGHT) -> Image.Image:
    im = im.convert("RGB")
    w = max(1, round(im.width * height / im.height))
    return im.resize((w, height), Image.Resampling.LANCZOS)


def strip(panels: list[Image.Image], arrows: bool = True) -> Image.Image:
    """Panels side by side, a grey arrow in each gap (``arrows``); the gaps are transparent."""
    panels = [fit(p) for p in panels]
    width = sum(p.width for p in panels) + GAP * (len(panels) - 1)
    out = Image.new("RGBA", (width, HEIGHT), (0, 0, 0, 0))
    draw = ImageDraw.Draw(out)
    x = 0
    for i, p in enumerate(panels):
        out.paste(p, (x, 0))
        x += p.width
        if i < len(panels) - 1:
            cy, x0 = HEIGHT // 2, x + 3
            if arrows:
                draw.polygon([(x0, cy - 7), (x0 + GAP - 6, cy), (x0, cy + 7)], fill=(128, 128, 128, 255))
            x += GAP
    return out


def tint(photo: Image.Image, mask: Image.Image) -> Image.Image:
    """The photo with the mask's area tinted red and outlined (the "before" of inpaint)."""
    base = photo.convert("RGB")
    red = Image.new("RGB", base.size, (220, 40, 40))
    shown = Image.composite(Image.blend(base, red, 0.45), base, mask)
    ImageDraw.Draw(shown).ellipse(DRAGONFLY, outline=(220, 40, 40), width=3)
    return shown


def draw_sketch(size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """A line drawing (dark lines on white) and its colour hints (RGBA dots)."""
    w, h = size
    sk = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(sk)
    cx, cy = 70, 110  # a leaf: two arcs, a midrib, veins and a stalk
    top = [(cx - 50 * math.cos(math.radians(t)), cy - 30 * math.sin(math.radians(t)) ** 1.3)
           for t in range(0, 181, 6)]
    bottom = [(cx - 50 * math.cos(math.radians(t)), cy - 28 * math.sin(math.radians(t)))
              for t in range(180, 361, 6)]
    outline = top + bottom
    d.line([*outline, outline[0]], fill="black", width=2)
    d.line([(cx - 50, cy), (cx + 50, cy)], fill="black", width=2)
    for i in range(-30, 40, 16):
        d.line([(cx + i, cy), (cx + i + 12, cy - 18)], fill="black", width=1)
        d.line([(cx + i, cy), (cx + i + 12, cy + 18)], fill="black", width=1)
    d.line([(cx - 50, cy), (cx - 62, cy + 12)], fill="black", width=2)
    d.line([(185, h), (180, 130), (176, 80)], fill="black", width=3)  # the twig
    bx, by = 176, 70  # the dragonfly: body, head, four wings
    d.line([(bx, by), (bx - 45, by + 40)], fill="black", width=3)
    d.ellipse((bx - 6, by - 6, bx + 6, by + 6), outline="black", width=2)
    for dx, dy, rx, ry in ((-40, -8, 38, 9), (-38, 6, 34, 8), (40, -8, 38, 9), (38, 6, 34, 8)):
        d.ellipse((bx + dx - rx, by + dy - ry, bx + dx + rx, by + dy + ry), outline="black", width=1)
    hints = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    e = ImageDraw.Draw(hints)
    sky, leaf, body, twig = (40, 110, 220), (80, 145, 45), (200, 170, 40), (120, 90, 60)
    for x, y, c in ((60, 100, leaf), (90, 118, leaf), (30, 30, sky), (230, 150, sky), (150, 180, sky),
                    (160, 85, body), (178, 140, twig)):
        e.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(*c, 255))
    return sk, hints


def model_info(tool: str, name: str) -> dict[str, object]:
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.plugins.manager import PluginManager

    pm = PluginManager(safe_mode=True)
    pm.load()
    entry = ModelStore(defaults=pm.models()).get(name, tool=tool)
    return {"model": name, "model_version": entry.version, "model_sha256": entry.card.sha256,
            "model_title": entry.card.title}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    record: dict[str, object] = {"sample": SAMPLE.name, "credit": CREDIT, "height": HEIGHT, "tools": {}}
    tools: dict[str, object] = record["tools"]  # type: ignore[assignment]

    with tempfile.TemporaryDirectory(prefix="ganpaint-welcome-") as tmpdir:
        tmp = Path(tmpdir)
        env = dict(os.environ, GANPAINT_DATA_DIR=str(tmp / "data"))
        photo = Image.open(SAMPLE).convert("RGB")
        work = photo.resize(WORK, Image.Resampling.LANCZOS)
        work.save(tmp / "photo.png")
        small = photo.resize(SMALL, Image.Resampling.LANCZOS)
        small.save(tmp / "small.png")

        def run(tool: str, model: str, runs: list[list[str]], panels: list[str]) -> list[Image.Image]:
            """Run the tool once per argument list (file names are relative to the temporary
            folder; each run's output is its ``-o`` file) and return the outputs."""
            outs = []
            for cli in runs:
                run_cli(tool, [str(tmp / a) if a.endswith(".png") else a for a in cli], env, args.device)
                outs.append(Image.open(tmp / cli[cli.index("-o") + 1]).convert("RGB"))
            tools[tool] = {**model_info(tool, model), "runs": [" ".join(r) for r in runs], "panels": panels}
            return outs

        def save(tool: str, panels: list[Image.Image], arrows: bool = True) -> None:
            strip(panels, arrows).save(args.out / f"{tool}.png", optimize=True)

        (winter,) = run("season", "season-default",
                        [["photo.png", "--model", "season-default", "--set", "direction=summer_to_winter",
                          "-o", "season.png"]],
                        ["the sample photo", "summer to winter"])
        save("season", [work, winter])

        mask = Image.new("L", WORK, 0)
        ImageDraw.Draw(mask).ellipse(DRAGONFLY, fill=255)
        mask.save(tmp / "mask.png")
        (filled,) = run("inpaint", "inpaint-default",
                        [["photo.png", "--mask", "mask.png", "--model", "inpaint-default", "-o", "inpaint.png"]],
                        ["the area to fill (an ellipse over the dragonfly, tinted)", "filled by the model"])
        save("inpaint", [tint(work, mask), filled])

        sk, hints = draw_sketch(SMALL)
        sk.save(tmp / "sketch.png")
        hints.save(tmp / "hints.png")
        (coloured,) = run("sketch", "sketch-default",
                          [["--sketch", "sketch.png", "--hints", "hints.png", "--size", f"{SMALL[0]}x{SMALL[1]}",
                            "--model", "sketch-default", "-o", "sketch-out.png"]],
                          ["a line drawing made by this script, with seven dots of colour", "coloured by the model"])
        shown = sk.copy()
        shown.paste(hints, (0, 0), hints)
        save("sketch", [shown, coloured])

        base = ["small.png", "--model", "scenes-default", "--set", "seed_b=1"]
        rebuilt, mixed = run("stylemix", "scenes-default",
                             [[*base, "--set", "preset=custom", "--set", "crossover=32", "-o", "mix-a.png"],
                              [*base, "--set", "preset=fine", "-o", "mix-fine.png"]],
                             ["the sample photo", "rebuilt by the 64 px scenes model (inverted)",
                              "the same with the fine styles (colours) of seed 1"])
        save("stylemix", [small, rebuilt, mixed])

        face = ["--size", "128x128", "--model", "faces-default", "--set", "seed=0"]
        faces = run("faces", "faces-default",
                    [[*face, "-o", "face0.png"], [*face, "--set", "hair_light=3", "-o", "face1.png"],
                     [*face, "--set", "background=-3", "-o", "face2.png"]],
                    ["a generated face (seed 0)", "Hair colour: lighter +3", "Background -3"])
        save("faces", faces, arrows=False)  # three separate moves, not a chain

    (args.out / "thumbs.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in args.out.glob("*.png"))
    for p in sorted(args.out.glob("*.png")):
        print(f"{p.name}: {Image.open(p).size[0]} x {HEIGHT}, {p.stat().st_size // 1024} KB")
    print(f"total {total // 1024} KB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
