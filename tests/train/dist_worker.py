"""One process of a 2-process gloo training run, started by tests/train/test_distributed.py
(not a test module itself). Reads torchrun's variables (RANK, WORLD_SIZE, MASTER_ADDR/PORT)
from the environment and a JSON job from argv[1]:

    {"runs": [{"recipe": ID, "options": {...}, "data": {...}, "steps": N, "run_dir": DIR,
               "stop_after": K or null, "stop_rank": R}], "out": FILE, "device": "cpu" | "cuda"}

For each run it trains with ganpaint.train.train(dist=...), and rank 0 writes the events'
losses to ``out`` as JSON ({run_dir: [[kind, step, losses], ...]}).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from ganpaint.train import distributed as dd
from ganpaint.train import load_data, train


def recipe_for(recipe_id: str, options: dict):
    if recipe_id == "sketch":
        from ganpaint_sketch.training import SketchRecipe

        return SketchRecipe(**options)
    from ganpaint.train import make_recipe

    return make_recipe(recipe_id, options)


def main() -> int:
    torch.set_num_threads(1)
    job = json.loads(Path(sys.argv[1]).read_text())
    ctx, device = dd.init(job.get("device", "cpu"))  # cuda: nccl, cuda:LOCAL_RANK
    assert ctx.world == 2, ctx
    results = {}
    for spec in job["runs"]:
        d = spec["data"]
        data = load_data(d["data"], d.get("data_b"), paired=d.get("paired"))
        steps_done = {"n": 0}
        stop_after, stop_rank = spec.get("stop_after"), spec.get("stop_rank", 1)

        def cancel(steps_done=steps_done, stop_after=stop_after, stop_rank=stop_rank) -> bool:
            return stop_after is not None and ctx.rank == stop_rank and steps_done["n"] >= stop_after

        events = []
        for ev in train(recipe_for(spec["recipe"], spec["options"]), data, steps=spec["steps"],
                        run_dir=spec["run_dir"], seed=spec.get("seed", 5), cancel=cancel,
                        checkpoint_every_s=0, sample_every=spec.get("sample_every", 0), device=device,
                        dist=ctx):
            if ev.kind == "step":
                steps_done["n"] = ev.step
            events.append([ev.kind, ev.step, dict(ev.losses)])
        results[spec["run_dir"]] = events
    if ctx.is_main:
        Path(job["out"]).write_text(json.dumps(results))
    dd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
