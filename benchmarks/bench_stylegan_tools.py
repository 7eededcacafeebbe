"""Latency of the style-mixing and face-slider tools (CPU, eager PyTorch, fp32).

For the 32 px compat generator (when /work/shared/compat is there) and random generators with
the training recipe's default widths at 64, 128 and 256 px (256 up to 16 px, then 4096 // res):

* generation: the ``faces`` tool run end to end at the model's resolution (seed -> picture,
  directions file read, placed on a canvas of that size);
* slider preview: the same with a slider moved as a draft (``request.preview``: what a held
  slider re-runs; synthesised at most ``stylegan_tools.PREVIEW_SIZE`` px), target < 150 ms;
* slider release: the same run at full resolution (the one run when the slider is let go);
* inversion: ``latent.inversion.invert``, time per 100 steps (measured over 20; not for 256 px,
  whose run would take minutes on this machine).

Rows are median wall times; the note gives CPU time (the machine is shared).

    python benchmarks/run.py --only stylegan_tools
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ganpaint.engine.inference.devices import prepare_torch_env

prepare_torch_env()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from ganpaint.core.specs import ToolRequest  # noqa: E402
from ganpaint.engine.models.cards import METADATA_KEY  # noqa: E402
from ganpaint.engine.models.checkpoints import weights_sha256  # noqa: E402
from ganpaint.engine.models.directions import DirectionSet, save_directions  # noqa: E402
from ganpaint.engine.models.loading import load_model  # noqa: E402
from ganpaint.engine.models.store import ModelStore  # noqa: E402
from ganpaint.engine.models.stylegan_import import stylegan_card  # noqa: E402
from ganpaint.latent.inversion import invert  # noqa: E402
from ganpaint.latent.stylegan_tools import PREVIEW_SIZE  # noqa: E402
from ganpaint.nn import stylegan_sampling as S  # noqa: E402
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config  # noqa: E402
from ganpaint.testing import RecordingContext  # noqa: E402

COMPAT = Path("/work/shared/compat/stylegan2/stylegan2_rosinality_32px.pt")
REPEATS = 5


def _recipe_widths(size: int) -> tuple[int, ...]:
    res = [2**i for i in range(2, size.bit_length())]
    return tuple(256 if r <= 16 else 4096 // r for r in res)


def _models(root: Path) -> list[tuple[str, str]]:
    """(label, store name) of each generator benchmarked, written into the store at ``root``."""
    out = []
    if COMPAT.is_file():
        e = ModelStore(root, include_resources=False).import_files(COMPAT, name="compat32")
        out.append(("compat 32 px", e.name))
    for plugin in ("ganpaint_faces", "ganpaint_stylemix"):  # the shipped defaults, when installed
        try:
            src = Path(__import__(plugin).MODEL_FILE)
        except (ImportError, AttributeError):
            continue
        if src.is_file():
            name = src.name[: -len(".safetensors")]
            shutil.copyfile(src, root / src.name)
            out.append((f"{name} {load_model(src).size} px", name))
    for size in (64, 128, 256):
        torch.manual_seed(0)
        cfg = StyleGAN2Config(size=size, style_dim=256, n_mlp=4, channels=_recipe_widths(size))
        g = Generator(cfg).eval()
        g.latent_avg.copy_(g.mean_latent(1024))
        sd = {f"g_ema.{k}": v.contiguous() for k, v in g.state_dict().items()}
        card = dataclasses.replace(stylegan_card(cfg), sha256=weights_sha256(sd), name=f"recipe{size}")
        save_file(sd, str(root / f"recipe{size}.safetensors"), metadata={METADATA_KEY: card.to_json(indent=None)})
        out.append((f"recipe {size} px", f"recipe{size}"))
    return out


def _timed(fn: Any, repeats: int = REPEATS) -> tuple[float, float]:
    fn()  # warm-up (model load, first-call costs)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _bench(store: ModelStore, label: str, name: str) -> list[dict[str, Any]]:
    from ganpaint_faces import ganpaint_register_tools
    from ganpaint_faces.tool import run as faces_run

    spec = ganpaint_register_tools()[0]
    entry = store.get(name)
    ctx = RecordingContext(models={(name, "faces"): str(entry.path)})
    G = load_model(entry.path)
    assert isinstance(G, Generator)
    ds = DirectionSet(name, entry.card.sha256, G.style_dim)
    ds.add("smile", np.random.default_rng(0).normal(size=G.style_dim), kind="boundary", scale=1.0)
    save_directions(ds, store.root)

    def tool(params: dict[str, Any], preview: bool = False) -> None:
        p = spec.resolve_params({"model": name, **params})
        faces_run(ToolRequest("faces", {}, p, canvas=(G.size, G.size), preview=preview), ctx)

    gen_wall, gen_cpu = _timed(lambda: tool({"seed": 3}))
    sl_wall, sl_cpu = _timed(lambda: tool({"seed": 3, "smile": 1.2}, preview=True))
    rel_wall, rel_cpu = _timed(lambda: tool({"seed": 3, "smile": 1.2}))
    draft = min(G.size, PREVIEW_SIZE)
    rows = [
        {"name": f"faces generate {label}", "value": gen_wall, "unit": "ms", "target": "",
         "note": f"cpu {gen_cpu:.0f} ms"},
        {"name": f"faces slider preview {label}", "value": sl_wall, "unit": "ms", "target": "< 150",
         "note": f"cpu {sl_cpu:.0f} ms, drafted at {draft} px"},
        {"name": f"faces slider release {label}", "value": rel_wall, "unit": "ms", "target": "",
         "note": f"cpu {rel_cpu:.0f} ms, full {G.size} px"},
    ]
    if G.size <= 128:
        with torch.inference_mode():
            pic = S.to_pictures(S.generate(G, S.sample_z(G, 1, 11), psi=0.7))[0]
        inv_wall, inv_cpu = _timed(lambda: invert(G, pic, steps=20), repeats=1)
        rows.append({"name": f"inversion {label}", "value": inv_wall * 5 / 1000, "unit": "s/100 steps",
                     "target": "", "note": f"cpu {inv_cpu * 5 / 1000:.1f} s"})
    return rows


def run() -> list[dict[str, Any]]:
    import os

    rows: list[dict[str, Any]] = []
    old = os.environ.get("GANPAINT_DATA_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GANPAINT_DATA_DIR"] = tmp  # directions are written under the data folder
        try:
            root = Path(tmp) / "models"
            root.mkdir()
            store = ModelStore(root, include_resources=False)
            for label, name in _models(root):
                new = _bench(store, label, name)
                rows += new
                for r in new:
                    print(f"{r['name']:<44} {r['value']:>8.1f} {r['unit']}  {r['note']}", file=sys.stderr, flush=True)
        finally:
            if old is None:
                os.environ.pop("GANPAINT_DATA_DIR", None)
            else:
                os.environ["GANPAINT_DATA_DIR"] = old
    return rows


if __name__ == "__main__":
    run()
