"""Inpaint tool latency with the shipped default model: square pictures of 512, 1024 and
4096 px with a 20 % hole (one box in the middle plus a stroke), through the tool's run()
(crop with context, working size 512, fill, paste), and once more at 512 px with Texture 0 (no
shift-map texture, the cost of the default Texture's exemplar detail). The model is loaded once before timing;
each row is the median of a few runs (1 at 4096 px). Torch uses the usual thread count
(GANPAINT_THREADS / all cores), as in the editor. Two last rows time the default model's FSR
guide at a full 512 px, on noise and on the sample photo (the tool computes it at <= 320 px).

``python benchmarks/bench_inpaint.py`` prints the rows; benchmarks/run.py collects them.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np


def _hole(n: int) -> np.ndarray:
    """A centred box plus a diagonal band: 20 % of the picture."""
    m = np.zeros((n, n), np.float32)
    side = int(n * 0.42)
    a = (n - side) // 2
    m[a:a + side, a:a + side] = 1.0
    yy, xx = np.mgrid[0:n, 0:n]
    band = np.abs(yy - xx) < n * 0.02
    m[band] = 1.0
    return m


def run() -> list[dict[str, Any]]:
    import ganpaint_inpaint
    from ganpaint_inpaint import tool

    from ganpaint.engine.inference.devices import prepare_torch_env
    from ganpaint.testing import RecordingContext, make_request

    prepare_torch_env()
    if not ganpaint_inpaint.MODEL_FILE.is_file():
        return [{"name": "inpaint: default model", "value": float("nan"), "unit": "s", "target": "",
                 "note": "not trained yet"}]
    spec = ganpaint_inpaint.ganpaint_register_tools()[0]
    ctx = RecordingContext(models={("default", spec.id): str(ganpaint_inpaint.MODEL_FILE)})
    rng = np.random.default_rng(0)
    rows = []
    cases = [(512, 5, "< 2 s", None), (512, 5, "", 0.0), (1024, 3, "< 3 s", None), (4096, 1, "< 10 s", None)]
    pictures = {n: rng.random((n, n, 3), dtype=np.float32) for n in (512, 1024, 4096)}
    for n, runs, target, texture in cases:
        img = pictures[n]
        mask = _hole(n)
        params: dict[str, Any] = {"model": "default"} if texture is None else {"model": "default", "texture": texture}
        req = make_request(img, spec=spec, params=params, mask=mask)
        if n == 512 and texture is None:
            tool.run(req, ctx)  # load + warm up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            res = tool.run(req, ctx)
            times.append(time.perf_counter() - t0)
        what = "default model" if texture is None else f"Texture {texture:g} (no shift-map)"
        rows.append({
            "name": f"inpaint: {n}x{n}, 20% hole, {what}", "value": statistics.median(times), "unit": "s",
            "target": target,
            "note": f"hole {mask.mean():.0%}; model ran on {res.metadata['box'][2]}x{res.metadata['box'][3]} crop "
                    f"at <= {res.metadata['work_size']} px",
        })
    # the share of the FSR guide (ganpaint.nn.inpaint_guide) in the 512 px row: the guide alone
    from ganpaint.nn.inpaint_guide import GUIDE_MAX_SIDE, MISSING, fsr_fill_u8, guide_available

    if guide_available("fsr"):
        from PIL import Image

        from ganpaint.core.paths import resources_dir

        hole = _hole(512) > 0.5
        with Image.open(resources_dir() / "samples" / "dragonfly.jpg") as im:
            photo = np.asarray(im.convert("RGB").resize((512, 512)))
        # noise is FSR's slowest case (no dominant frequency to stop at); a photo is typical
        for what, pic in (("noise, as above", (rng.random((512, 512, 3)) * 255).astype(np.uint8)),
                          ("the sample photo", photo)):
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                fsr_fill_u8(pic, hole)
                times.append(time.perf_counter() - t0)
            rows.append({"name": f"inpaint: FSR at full 512x512, {what}", "value": statistics.median(times),
                         "unit": "s", "target": "",
                         "note": f"cv2.xphoto FSR_FAST, single-threaded; the tool runs it at <= {GUIDE_MAX_SIDE} px"})
    else:
        rows.append({"name": "inpaint: FSR guide alone", "value": float("nan"), "unit": "s", "target": "",
                     "note": MISSING})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<52} {row['value']:>9.2f} {row['unit']:<3} target {row['target']:<8} {row['note']}")
