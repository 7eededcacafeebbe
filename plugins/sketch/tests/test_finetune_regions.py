"""Issue 17: fine-tuning on hints spread over their regions (tools/train_sketch.py --finetune),
its model file (card extra.hint_input = "regions") and the tool's second pass for it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import ganpaint_sketch
import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.core.specs import Role
from ganpaint.engine.models.cards import card_of_file
from ganpaint.testing import run_tool

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def train_sketch():
    spec = importlib.util.spec_from_file_location("train_sketch_tool", ROOT / "tools" / "train_sketch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["train_sketch_tool"] = mod
    spec.loader.exec_module(mod)
    return mod


def _data(root: Path, n: int = 3, size: int = 160) -> Path:
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        d = np.hypot(yy - size / 2, xx - size / 2 - 10 * i)
        ring = np.abs(d - 40) < 1.5
        sketch = np.where(ring, 0, 255).astype(np.uint8)
        colour = np.full((size, size, 3), 230, np.uint8)
        colour[d < 40] = (40 + 60 * i, 90, 200)
        colour[ring] = 0
        for sub, img in (("A", sketch), ("B", colour)):
            (root / "train" / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / "train" / sub / f"p{i}.png")
    return root


def test_training_sample_is_built_as_the_tool_builds_its_input(train_sketch, tmp_path: Path) -> None:
    data = _data(tmp_path / "d")
    a, b = data / "train" / "A" / "p0.png", data / "train" / "B" / "p0.png"
    seen_hints = False
    for seed in range(6):
        x, y = train_sketch.training_sample(a, b, np.random.default_rng(seed), p_none=0.0 if seed % 2 else 1.0)
        assert x.shape == (5, 128, 128) and y.shape == (3, 128, 128)
        assert float(x[0].min()) < -0.5 and float(x[0].max()) == pytest.approx(1.0)  # ink and paper
        mask = (x[4] + 1) / 2
        if seed % 2:
            assert float(mask.mean()) > 0.2  # spread over whole regions, not dots
            seen_hints = True
        else:
            assert float(mask.max()) == pytest.approx(0.0)
        assert -1.0 <= float(y.min()) and float(y.max()) <= 1.0
    assert seen_hints


def test_finetune_runs_resumes_and_exports_a_region_hint_model(train_sketch, tmp_path: Path) -> None:
    data = _data(tmp_path / "d")
    run = tmp_path / "run"
    common = ["--finetune", str(data), "--run-dir", str(run), "--batch", "2", "--checkpoint-every", "1"]
    assert train_sketch.main([*common, "--steps", "1"]) == 0
    first = (run / "last.safetensors").read_bytes()
    assert train_sketch.main([*common, "--steps", "2"]) == 0  # resumes at step 1
    assert (run / "step00002.safetensors").is_file() and (run / "last.safetensors").read_bytes() != first
    assert len((run / "log.tsv").read_text().splitlines()) == 2
    out = tmp_path / "ft.safetensors"
    with pytest.raises(SystemExit):  # never over the shipped default by accident
        train_sketch.main(["--export", str(run / "last.safetensors")])
    assert train_sketch.main(["--export", str(run / "last.safetensors"), "--out", str(out)]) == 0
    card = card_of_file(out)
    assert card.extra["hint_input"] == "regions" and card.tool == "sketch"


def test_a_region_hint_model_colours_hinted_regions_in_a_second_pass(plugin_host, tmp_path: Path) -> None:
    import safetensors.torch

    from ganpaint.engine.models.cards import METADATA_KEY, ModelCard
    from ganpaint.testing import RecordingContext

    card = card_of_file(ganpaint_sketch.MODEL_FILE)
    tensors = safetensors.torch.load_file(str(ganpaint_sketch.MODEL_FILE))
    path = tmp_path / "regions.safetensors"
    new = ModelCard.from_dict({**card.to_dict(), "extra": {**card.extra, "hint_input": "regions"}})
    safetensors.torch.save_file(tensors, str(path), metadata={METADATA_KEY: new.to_json(indent=None)})
    plugin_host.register(ganpaint_sketch, "sketch")
    n = 160
    yy, xx = np.mgrid[0:n, 0:n]
    inside = np.hypot(yy - 80, xx - 80) < 40
    sk = np.ones((n, n, 3), np.float32)
    sk[np.abs(np.hypot(yy - 80, xx - 80) - 40) < 1.5] = 0.0
    hints = np.zeros((n, n, 4), np.float32)
    hints[76:84, 76:84] = (0.9, 0.2, 0.1, 1.0)
    calls: list[torch.Tensor] = []
    outs = {}
    for name, p in (("plain", ganpaint_sketch.MODEL_FILE), ("regions", path)):
        ctx = RecordingContext(models={(name, "sketch"): str(p)})
        from ganpaint.engine.models.model_cache import default_cache

        model = default_cache().get(str(p), component="forward", device="cpu", dtype=torch.float32, ctx=ctx)
        hook = model.register_forward_pre_hook(lambda _m, args: calls.append(args[0][:, 4].max()))
        try:
            calls.clear()
            outs[name] = run_tool(plugin_host, "sketch", sk, {"model": name}, ctx=ctx,
                                  extra={Role.SKETCH: sk, Role.HINTS: hints}).image
        finally:
            hook.remove()
        # the plain model runs once, without hints; the region model a second time, with them spread
        assert [bool(c > 0) for c in calls] == ([False] if name == "plain" else [False, True])
    assert np.abs(outs["regions"][inside] - outs["plain"][inside]).mean() > 0.01
    assert np.abs(outs["regions"][~inside & (sk[..., 0] > 0.5)] - outs["plain"][~inside & (sk[..., 0] > 0.5)]).max() < 1e-3
