"""The Train dialog's "Translation (paired)" quick preset: a 128-pixel crop with pix2pix's
U-Net (issue 12, point 7). It failed at once with "crop 128 must be a multiple of 256"."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from ganpaint.engine.jobs import finetune as ft


def _pictures(folder: Path, n: int, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (136, 144, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_the_paired_quick_preset_trains_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.models.store import ModelStore

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    a, b = _pictures(tmp_path / "a", 2, 0), _pictures(tmp_path / "b", 2, 1)
    assert ft.preset_values("paired", "quick")["size"] == 128
    store, queue = ModelStore(), JobQueue()
    try:
        # the preset as the dialog sends it; only the run is shortened and the networks thinned
        req = ft.FinetuneRequest("paired", (str(a), str(b)), preset="quick", steps=1,
                                 options={"ngf": 4, "ndf": 4}, sample_every=0)
        job, _ = ft.make_finetune_job(req, store=store, queue=queue)
        queue.submit(job)
        assert job.wait(240) and job.state is JobState.DONE, job.error
        card = store.get(job.result.model_ref).card
        assert card.architecture == "unet_generator" and card.config["num_downs"] == 7
        assert card.extra["training"]["options"]["crop"] == 128
    finally:
        queue.shutdown()


@pytest.mark.parametrize(
    "opts, fixed, expected",
    [
        ({"crop": 128}, False, {"num_downs": 7, "crop": 128}),  # pix2pix's unet_128
        ({"crop": 256}, False, {}),  # the standard and long presets: as before
        ({"crop": 144}, False, {"num_downs": 5, "crop": 160}),  # a size no depth divides
        ({"crop": 128, "num_downs": 8}, True, {"crop": 256}),  # a starting model keeps its depth
        ({"crop": 300, "num_downs": 8}, True, {"crop": 512}),
        ({"crop": 128, "generator": "resnet"}, False, {}),
    ],
)
def test_the_unet_and_the_crop_are_made_to_agree(opts, fixed, expected) -> None:  # type: ignore[no-untyped-def]
    recipe = SimpleNamespace(generator="unet", num_downs=8, crop=256)
    assert ft.fit_unet_to_crop(recipe, opts, depth_fixed=fixed) == expected


def test_every_preset_builds_its_recipe() -> None:
    """No preset of a pix2pix family is refused by the recipe it runs (what the job does first)."""
    from dataclasses import replace

    from ganpaint.train import RECIPES

    for family, presets in ft.PRESETS.items():
        recipe_id = ft.families()[family].recipe if family in ft.families() else None
        if recipe_id not in RECIPES:
            continue
        base = RECIPES[recipe_id]()
        for preset in presets:
            opts = {"crop": ft.preset_values(family, preset)["size"]}
            opts.update(ft.fit_unet_to_crop(base, opts, depth_fixed=False))
            replace(base, **opts)  # raises ValueError if they disagree
