"""Ship a trained sketch model as the plugin's default (engineer P).

The default is made in three steps (the card records all three):

    D=~/.cache/ganpaint/data/sketch-pairs/train          # ganpaint data build sketch-pairs --count 1000
    ganpaint train sketch --data $D/A --data-b $D/B --paired names --steps 350 --batch 2 \
        --as sketch-p2p --bf16 --set ndf=16                                     # ours
    ganpaint train sketch ... --as sketch-l1only --set adversarial=false ...   # the ablation
    python tools/eval_sketch.py --ours <sketch-p2p file> --l1 <sketch-l1only file> --json eval.json
    python tools/train_sketch.py --model sketch-p2p --eval eval.json

This script takes the stored model, stores its weights in fp16 (half the file; the tool
computes in float32) with a card naming it ``sketch-default``, the metrics of the
judging run and what the model learned from, into
``plugins/sketch/ganpaint_sketch/models/sketch-default.safetensors`` (+ ``.card.json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "plugins" / "sketch" / "ganpaint_sketch" / "models" / "sketch-default.safetensors"

DESCRIPTION = (
    "pix2pix (U-Net, 7 levels, ngf 32, batch norm, dropout; PatchGAN ndf 16; L1 x100 + adversarial + "
    "feature matching x10) that colours line art, with optional colour hints (5 input channels: sketch, hint "
    "RGB, hint mask). Trained by GANPaint on this machine on public-domain openclipart drawings (line art "
    "from their strokes or colour edges) and XDoG line art of CC0/CC-BY photo crops, at 128 px crops of "
    "the 256 px pairs (so drawings about 128-143 px across), with hints sampled from the ground truth. "
    "Batch-norm statistics are re-estimated on training batches at the end of the run (dropout off). "
    "Drawings much larger than ~150 px per object are at a scale it has not seen."
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="store a trained sketch model as the plugin's fp16 default")
    ap.add_argument("--model", required=True, help="model-store name of the trained (GAN) model")
    ap.add_argument("--eval", type=Path, required=True, help="tools/eval_sketch.py --json output")
    ap.add_argument("--l1-command", default="", help="the ablation's training command (for the card)")
    ap.add_argument("--first-command", default="",
                    help="for a model continued with --resume: the command that started the run (the card "
                    "then holds both, joined by &&)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    import safetensors.torch
    import torch

    from ganpaint.engine.cards import METADATA_KEY, ModelCard
    from ganpaint.engine.checkpoints import weights_sha256
    from ganpaint.engine.store import ModelStore

    entry = ModelStore().get(args.model)
    tensors = safetensors.torch.load_file(str(entry.path))
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
    ev = json.loads(args.eval.read_text())
    m = ev["metrics"]
    metrics = {
        "judged_on": f"{ev['pairs']} held-out openclipart pairs (test split by content hash) at {ev['size']} px, "
                     "no hints; baselines in the same run",
        "psnr": round(m["ours"]["psnr"], 3), "ssim": round(m["ours"]["ssim"], 4),
        "sharpness_ratio": round(m["ours"]["sharpness"], 4),
        "psnr_with_8_hint_dots": round(m["ours_hints8"]["psnr"], 3),
        "ssim_with_8_hint_dots": round(m["ours_hints8"]["ssim"], 4),
        "l1_only": {k: round(v, 4) for k, v in m["l1_only"].items()},
        "flat_fill": {k: round(v, 4) for k, v in m["flat_fill"].items()},
        "verdict": ev["verdict"],
    }
    v = ev["verdict"]
    failed = [what for what, ok in (("PSNR", v["beats_flat_fill_psnr"]), ("SSIM", v["beats_flat_fill_ssim"]))
              if not ok]
    honest = ""
    if failed:
        honest += (f" Judged honestly: it does NOT beat the flat-fill baseline on {' and '.join(failed)} "
                   f"(ours {m['ours']['psnr']:.2f} dB / {m['ours']['ssim']:.3f}, flat fill "
                   f"{m['flat_fill']['psnr']:.2f} dB / {m['flat_fill']['ssim']:.3f}): too few steps on this machine.")
    if not v["sharper_than_l1_only"]:
        honest += " It is NOT sharper than the L1-only ablation."
    old = entry.card
    extra = dict(old.extra)
    extra["ablation_training_command"] = args.l1_command
    extra["judging_command"] = ev.get("command", "")
    extra["stored_dtype"] = "float16 (computed in float32)"
    card = ModelCard.from_dict({
        **old.to_dict(),
        "name": "sketch-default",
        "title": "Sketch to image (default)",
        "description": DESCRIPTION + honest,
        "licence": "CC-BY-4.0",
        "training_data": [
            {"name": "sketch-pairs (ganpaint data build sketch-pairs --seed 0: every openclipart drawing)",
             "licence": "public domain (openclipart-svg, Debian) + CC0-1.0 / CC-BY-4.0 (lomiri-wallpapers) + "
                        "CC0 (scikit-image data) + CC-BY-2.0 (scikit-learn sample photos)",
             "manifest": "resources/data-manifests/sketch-pairs.json"},
        ],
        "metrics": metrics,
        "training_command": (f"{args.first_command} && " if args.first_command else "") + old.training_command,
        "sha256": weights_sha256(half),
        "version": 1,
        "extra": extra,
    })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(half, str(args.out), metadata={METADATA_KEY: card.to_json(indent=None)})
    args.out.chmod(0o644)
    Path(str(args.out) + ".card.json").write_text(card.to_json() + "\n")
    del torch
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and its card")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
