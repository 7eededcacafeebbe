"""Write the held-out figures of the shipped faces default into its model card.

The figures come after shipping (the slider figures need the directions ``ship_stylegan.py``
computes), so they are added to the card afterwards: into the card JSON beside the weights and
into the safetensors header, the weights untouched (their sha256 is checked against the card).

  python tools/faces_card_figures.py --collapse COLLAPSE.json --sliders SLIDERS.json \\
      --invert INVERT.json --new-row NAME [--old-row NAME] [--note TEXT] [--upscaler NAME ...]
  python tools/faces_card_figures.py --upscaler realesr-animevideov3 faces-upscale-x4

COLLAPSE.json: ``tools/eval_collapse.py`` with the previous default and the new model in one run
(``--new-row``/``--old-row`` name their rows). SLIDERS.json: ``tools/eval_stylegan.py sliders``
(with ``--withhold``: the verdicts). INVERT.json: ``tools/eval_stylegan.py invert`` with the encoder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "plugins/faces/ganpaint_faces/models/faces-default.safetensors"


def figures(col: dict[str, Any], sl: dict[str, Any], inv: dict[str, Any], new_row: str, old_row: str
            ) -> tuple[dict[str, float], dict[str, Any], str]:
    """(metrics, evaluation, verdict) for the card."""
    new, was = col["rows"][new_row], col["rows"][old_row]
    floor = col["rows"]["real B (reference)"]["fd"]
    m: dict[str, float] = {
        "fd_classifier": round(new["fd"], 4), "fd_floor": round(floor, 4),
        "fd_previous_default_same_run": round(was["fd"], 4),
        "attributes_every_decile_2pct": new["attributes_meeting_2pct"],
        "attributes_every_decile_2pct_previous_default": was["attributes_meeting_2pct"],
        "diversity_features_vs_real": round(new["diversity_features_vs_real"], 4),
        "diversity_thumbs8_vs_real": round(new["diversity_thumbs8_vs_real"], 4),
        "inversion_psnr": round(inv["inverted_psnr"], 4),
        "inversion_psnr_from_encoder": round(inv["encoder_inverted_psnr"], 4),
        "inversion_mean_latent_psnr": round(inv["mean_psnr"], 4),
        "inversion_best_of_256_psnr": round(inv["best_random_psnr"], 4),
        "slider_random_ratio_median": round(sl["random_summary"]["ratio_median"], 4),
    }
    for name, d in sl["directions"].items():
        m[f"slider_{name}_spearman"] = round(d["spearman"], 4)
        m[f"slider_{name}_ratio"] = round(d["ratio"], 4)
        m[f"slider_{name}_target_change"] = round(d["target_change"], 4)
    verdicts: dict[str, str] = sl.get("verdicts", {})
    shipped = [n for n, why in verdicts.items() if not why]
    withheld = [n for n, why in verdicts.items() if why]
    evaluation = {
        "collapse": {"command": "python tools/eval_collapse.py --data DATA/test/render --model OLD NEW --n 1000",
                     "rows": {"previous faces-default": was, "this model": new}},
        "sliders": {"command": "python tools/eval_stylegan.py sliders --model faces-default.safetensors --withhold",
                    "table": sl.get("table", ""), "verdicts": verdicts},
        "inversion": {"command": "python tools/eval_stylegan.py invert --model faces-default.safetensors --data "
                                 "DATA/test/render --n 24 --no-init-baseline --encoder encoders/faces-default.safetensors",
                      "summary": inv},
    }
    verdict = (f"Classifier-feature FD {new['fd']:.2f} against 2,000 held-out renders (previous default "
               f"{was['fd']:.2f} in the same run, floor {floor:.3f}); {new['attributes_meeting_2pct']}/11 attributes "
               f"reach every decile of the training data with >= 2 % of samples (previous "
               f"{was['attributes_meeting_2pct']}/11). Sliders shipped (monotonic, >= 0.25 of the range, more "
               f"selective than the median random direction): {', '.join(shipped) or 'none'}; withheld: "
               f"{', '.join(withheld) or 'none'}. Inversion of held-out renders: {inv['inverted_psnr']:.2f} dB "
               f"({inv['encoder_inverted_psnr']:.2f} from the shipped encoder's guess) against {inv['mean_psnr']:.2f} "
               f"for the mean latent.")
    return m, evaluation, verdict


def write(model: Path, metrics: dict[str, float], evaluation: dict[str, Any] | None, verdict: str, note: str = "",
          upscaler: list[str] | None = None) -> str:
    import safetensors.torch

    from ganpaint.engine.models.cards import METADATA_KEY
    from ganpaint.engine.models.checkpoints import weights_sha256

    sidecar = Path(str(model) + ".card.json")
    card = json.loads(sidecar.read_text())
    card["metrics"] = {**card["metrics"], **metrics}
    extra = dict(card["extra"])
    if upscaler is not None:
        extra["upscaler"] = list(upscaler)
    if evaluation is not None:
        old_verdict = extra.get("verdict", "")
        extra["evaluation"] = evaluation
        extra["verdict"] = f"{note} {verdict}".strip()
        base = card["description"]
        if old_verdict and base.endswith(old_verdict):
            base = base[: -len(old_verdict)].rstrip()
        card["description"] = f"{base} {extra['verdict']}"
    card["extra"] = extra
    sd = safetensors.torch.load_file(str(model))
    if weights_sha256({k: v.contiguous() for k, v in sd.items()}) != card["sha256"]:
        raise SystemExit(f"{model}: the weights do not match the card's sha256; not rewritten")
    tmp = model.with_suffix(".tmp")
    safetensors.torch.save_file(sd, str(tmp), metadata={METADATA_KEY: json.dumps(card, ensure_ascii=False)})
    tmp.replace(model)
    sidecar.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return str(card["sha256"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collapse")
    ap.add_argument("--sliders")
    ap.add_argument("--invert")
    ap.add_argument("--new-row", help="the new model's row in COLLAPSE.json")
    ap.add_argument("--upscaler", nargs="*", metavar="NAME",
                    help="the card's upscalers, best first (extra.upscaler); alone, only they are written")
    ap.add_argument("--old-row", default="faces-default", help="the previous default's row")
    ap.add_argument("--note", default="", help="a sentence before the figures (how the model was made)")
    ap.add_argument("--model", default=str(MODEL))
    args = ap.parse_args(argv)
    if not (args.collapse or args.sliders or args.invert):
        if args.upscaler is None:
            ap.error("give --collapse, --sliders, --invert and --new-row, or --upscaler")
        sha = write(Path(args.model), {}, None, "", upscaler=args.upscaler)
        print(f"upscalers {args.upscaler} written; weights {sha[:16]} unchanged")
        return 0
    if not (args.collapse and args.sliders and args.invert and args.new_row):
        ap.error("--collapse, --sliders, --invert and --new-row go together")
    col = json.loads(Path(args.collapse).read_text())
    sl = json.loads(Path(args.sliders).read_text())
    inv = json.loads(Path(args.invert).read_text())["summary"]
    metrics, evaluation, verdict = figures(col, sl, inv, args.new_row, args.old_row)
    sha = write(Path(args.model), metrics, evaluation, verdict, args.note, upscaler=args.upscaler)
    print(verdict)
    print(f"card rewritten; weights {sha[:16]} unchanged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
