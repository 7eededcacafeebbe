"""The training loop: a generator of :class:`TrainEvent`, shared by the command line,
the editor's training lane and the tests.

    for ev in train(recipe, data, steps=1000, run_dir=run, seed=0, device="cpu"):
        ...                       # show ev.losses, ev.eta_s, ev.samples; pausing = not asking

Cancel: pass ``cancel`` (a callable returning True, or an object with ``is_set()``)
and the loop writes a checkpoint and yields a ``cancelled`` event at the next step
boundary; or stop iterating and ``close()`` the generator: a checkpoint is written
then too. ``resume=True`` continues from ``run_dir``'s checkpoint bit-for-bit: the
batches are a function of (seed, step), and the checkpoint holds weights, optimiser,
EMA, recipe extras (image pools) and every RNG state.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganpaint.train import checkpoints as ck
from ganpaint.train import distributed as dd
from ganpaint.train.datasets import FolderData
from ganpaint.train.draws import SampleDraws
from ganpaint.train.events import TrainError, TrainEvent, TrainResult
from ganpaint.train.recipes.base import Recipe, Trainer, recalibrate_batch_norm, side_effect_free

RUN_INFO = "run.json"
#: default of ``train(checkpoint_every_s=)``: a crash loses at most this much training
CHECKPOINT_EVERY_S = 120.0
#: the clock of the time-based checkpoints (tests replace it)
_clock = time.monotonic
CancelLike = Callable[[], bool] | Any


def _is_cancelled(cancel: CancelLike | None) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def to_picture(t: torch.Tensor) -> np.ndarray:
    """First item of a B x 3 x H x W batch in [-1, 1] -> H x W x 3 float32 in [0, 1]."""
    x = t[0].detach().float().clamp(-1, 1).add(1).mul(0.5)
    return np.ascontiguousarray(x.permute(1, 2, 0).cpu().numpy(), dtype=np.float32)


def _update_ema(ema: Mapping[str, nn.Module], live: Mapping[str, nn.Module], decay: float) -> None:
    with torch.no_grad():
        for name, e in ema.items():
            src = live[name]
            for pe, p in zip(e.parameters(), src.parameters(), strict=True):
                pe.lerp_(p, 1.0 - decay)
            for be, b in zip(e.buffers(), src.buffers(), strict=True):
                be.copy_(b)


def _check_data(recipe: Recipe, data: FolderData) -> None:
    kind = recipe.data_kind
    if kind == "paired" and not data.paired:
        raise TrainError(f"{recipe.id} needs paired pictures: --data-b with the same file names, or --paired ab")
    if kind == "unpaired" and data.mode != "unpaired":
        raise TrainError(f"{recipe.id} needs two folders of unpaired pictures: --data and --data-b")


def train(
    recipe: Recipe,
    data: FolderData,
    *,
    steps: int,
    run_dir: str | Path,
    resume: bool = False,
    seed: int = 0,
    cancel: CancelLike | None = None,
    sample_every: int = 0,
    checkpoint_every: int = 0,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    device: str = "cpu",
    bf16: bool = False,
    init_weights: Mapping[str, torch.Tensor] | None = None,
    card_info: Mapping[str, Any] | None = None,
    dist: dd.DistContext | None = None,
) -> Iterator[TrainEvent]:
    """Train ``recipe`` on ``data`` up to ``steps`` steps, yielding a TrainEvent per step.

    run_dir:          where checkpoints (``checkpoint.safetensors``) and ``run.json`` go
    resume:           continue from run_dir's checkpoint (its seed wins over ``seed``)
    sample_every:     put preview ``samples`` on every Nth step's event (0 = never)
    checkpoint_every: write a checkpoint every N steps (0 = only on cancel and at the end)
    checkpoint_every_s: also write one when this many seconds passed since the last one (or
                      the start), so a crash loses little of a slow run (0 = off); the same
                      checkpoint file and resume as the step-based ones
    bf16:             run forward passes under ``torch.autocast(device, bfloat16)``
    init_weights:     start the generator(s) from these weights (fine-tuning; not on resume)
    card_info:        extra card fields (``name``, ``training_command``, ``source`` ...)
    dist:             this process's place in a multi-process run (ganpaint.train.distributed;
                      the process group is already joined): ``recipe.batch`` is the global
                      batch, this process trains its share; only rank 0 writes files

    The last event is ``done`` (with ``result``) or ``cancelled`` (with ``checkpoint``).
    Raises :class:`TrainError` for problems the user can fix.
    """
    if not isinstance(steps, int) or steps < 1:
        raise TrainError(f"steps must be a positive integer, got {steps!r}")
    _check_data(recipe, data)
    ctx = dist or dd.SINGLE
    share = dd.shard(recipe.batch, ctx)
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    config = _jsonable(recipe.config())
    start, elapsed0 = 0, 0.0
    ckpt: ck.Checkpoint | None = None
    if resume:
        ckpt = _load_shared_checkpoint(run, ctx)
        if ckpt.meta.get("recipe") != recipe.id or not _same_options(ckpt.meta.get("config"), config, recipe):
            raise TrainError(f"the run in {run} was made with other recipe options; resume it with the same ones")
        seed = int(ckpt.meta["seed"])
        start = ckpt.step
        elapsed0 = float(ckpt.meta.get("elapsed_s", 0.0))
        if start > steps:
            raise TrainError(f"the run in {run} is already at step {start}, beyond --steps {steps}")
    elif ck.checkpoint_path(run).exists():
        raise TrainError(f"{run} already holds a training run; resume it or choose another run folder")

    seed_everything(seed)
    trainer: Trainer = recipe.build(device)
    if init_weights is not None and ckpt is None:
        try:
            trainer.load_init(init_weights)
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            raise TrainError(f"the starting model does not fit {recipe.id} with these options: {first}") from None
    ema = {n: copy.deepcopy(m).eval().requires_grad_(False) for n, m in trainer.ema_sources.items()} if recipe.ema else {}
    if ckpt is not None:
        ck.restore_state(ckpt, modules=trainer.modules, optimizers=trainer.optimizers, ema=ema)
        trainer.load_extra_state({k: v.to(device) for k, v in ckpt.extra().items()})
        ck.restore_rng(ckpt)
    dd.reseed_for_rank(seed, start, ctx)
    dd.wrap_trainer(trainer, ctx, device)
    if ctx.is_main:
        ck.write_json_atomic(
            run / RUN_INFO,
            {"recipe": recipe.id, "config": config, "seed": seed, "steps": steps, "data": data.args(),
             "describe": data.describe(), "bf16": bf16,
             **{k: v for k, v in (card_info or {}).items() if k != "extra"}},
        )

    aug = recipe.augment()
    autocast = (
        torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
        if bf16 else contextlib.nullcontext()
    )
    preview = {k: v.to(device) for k, v in data.holdout_batch(recipe.crop, limit=1).items()} if sample_every else {}
    step, saved_step = start, start
    losses: dict[str, float] = {}
    t0 = time.perf_counter()
    saved_at = _clock()

    def elapsed() -> float:
        return elapsed0 + time.perf_counter() - t0

    def save(reason: str, *, together: bool = True) -> Path:
        # every process calls this at the same step; rank 0 writes between two barriers
        # (``together=False``: rank 0 alone, when the others may not come, e.g. on close())
        nonlocal saved_step, saved_at
        meta = {"recipe": recipe.id, "config": config, "seed": seed, "steps": steps, "reason": reason,
                "sampler_position": step * recipe.batch, "elapsed_s": elapsed(), "losses": losses,
                "bf16": bf16}
        if together:
            dd.barrier(ctx)
        path = ck.checkpoint_path(run)
        if ctx.is_main:
            path = ck.save_checkpoint(run, step=step, modules=trainer.modules, optimizers=trainer.optimizers,
                                      ema=ema, extra=trainer.extra_state(), meta=meta, device=device)
        if together:
            dd.barrier(ctx)
        saved_step, saved_at = step, _clock()
        return path

    def checkpoint_due() -> bool:
        if step >= steps:
            return False  # the final checkpoint follows
        if checkpoint_every and step % checkpoint_every == 0:
            return True
        return bool(checkpoint_every_s) and _clock() - saved_at >= checkpoint_every_s

    finished = False
    # several processes stop together: the first check is agreed here, the others after each step
    stop, _, _ = dd.agree(ctx, device, stop=_is_cancelled(cancel), save=False, losses={})
    try:
        while step < steps:
            if stop if ctx.enabled else _is_cancelled(cancel):
                path = save("cancel")
                finished = True
                yield TrainEvent("cancelled", step, steps, losses, elapsed_s=elapsed(), checkpoint=path)
                return
            part = data.batch(step, recipe.batch, aug, seed, indices=share if ctx.enabled else None)
            batch = {k: v.to(device, non_blocking=True) for k, v in part.items()}
            trainer.set_lr_factor(recipe.lr_factor(step, steps))
            trainer.draws = SampleDraws(seed, step, share)
            with autocast:
                losses = trainer.step(batch)
            step += 1
            if ctx.enabled:
                # one all_reduce: the mean losses, anyone asked to stop, rank 0's clock says save
                stop, due, losses = dd.agree(ctx, device, stop=_is_cancelled(cancel),
                                             save=ctx.is_main and checkpoint_due(), losses=losses)
            else:
                due = checkpoint_due()
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                raise TrainError(
                    f"loss {', '.join(bad)} became non-finite at step {step}; the last checkpoint "
                    f"(step {saved_step}) is intact" + (" (try without bf16)" if bf16 else "")
                )
            if ema:
                _update_ema(ema, trainer.ema_sources, recipe.ema)
            done_here = step - start
            rate = done_here / max(time.perf_counter() - t0, 1e-9)
            saved = save("periodic") if due else None
            samples = None
            if sample_every and (step % sample_every == 0 or step == steps) and preview:
                samples = _samples(trainer, preview, ema or trainer.ema_sources, autocast)
            yield TrainEvent(
                "step", step, steps, dict(losses), eta_s=(steps - step) / rate, steps_per_s=rate,
                elapsed_s=elapsed(), samples=samples, checkpoint=saved,
            )
        path = save("final")
        result = _result(recipe, trainer, data, ema, steps, elapsed(), losses, seed, bf16, card_info, device)
        finished = True
        yield TrainEvent("done", step, steps, dict(losses), elapsed_s=elapsed(), checkpoint=path, result=result)
    except GeneratorExit:
        # the consumer stopped iterating: keep the progress (the state is whole at a yield);
        # the other processes may not come: rank 0 writes alone (the weights are the same everywhere)
        if not finished and step != saved_step:
            save("cancel", together=not ctx.enabled)
        raise


def _load_shared_checkpoint(run: Path, ctx: dd.DistContext) -> ck.Checkpoint:
    """The run's checkpoint; in a multi-process run rank 0's file, sent to the others (machines
    that do not share the run folder resume too)."""
    if not ctx.enabled:
        return ck.load_checkpoint(run)
    data = dd.broadcast_file(ctx, ck.checkpoint_path(run))
    if ctx.is_main or data is None:
        return ck.load_checkpoint(run)  # rank 0's own file; or the error that rank 0 meets too
    with tempfile.TemporaryDirectory(prefix="ganpaint-resume-") as tmp:
        got = ck.load_checkpoint(dd.checkpoint_bytes_to_file(data, tmp))
        tensors = {k: v.clone() for k, v in got.tensors.items()}  # nothing mapped from the file removed
    return ck.Checkpoint(ck.checkpoint_path(run), got.meta, tensors)


def _samples(
    trainer: Trainer, batch: Mapping[str, torch.Tensor], gens: Mapping[str, nn.Module], autocast: Any
) -> dict[str, np.ndarray]:
    with side_effect_free(*gens.values()), autocast:
        out = trainer.samples(batch, gens)
    return {k: to_picture(v) for k, v in out.items()}


def _same_options(saved: Any, config: Mapping[str, Any], recipe: Recipe) -> bool:
    """Whether a checkpoint's recipe options are ``config``. An option a newer GANPaint added
    (absent from the checkpoint) matches when the recipe has it at its default: runs started
    before the option existed stay resumable."""
    if not isinstance(saved, Mapping):
        return False
    try:
        defaults = _jsonable(type(recipe)().config()) if dataclasses.is_dataclass(recipe) else {}
    except TypeError:  # a recipe without defaults for every option
        defaults = {}
    for key, value in config.items():
        if key in saved:
            if saved[key] != value:
                return False
        elif key not in defaults or defaults[key] != value:
            return False
    return set(saved) <= set(config)


def _recalibrate(recipe: Recipe, trainer: Trainer, data: FolderData, gens: Mapping[str, nn.Module], seed: int,
                 device: str) -> dict[str, int]:
    """Batch-norm statistics of the generator re-estimated on ``recipe.bn_recalibration``
    training batches (the first ones of the run's own deterministic order), when the recipe
    asks for it; see :func:`ganpaint.train.recipes.base.recalibrate_batch_norm`."""
    n = int(getattr(recipe, "bn_recalibration", 0) or 0)
    g = gens.get("G")
    if n <= 0 or g is None:
        return {}
    aug = recipe.augment()

    def inputs() -> Iterator[torch.Tensor]:
        for i in range(n):
            batch = {k: v.to(device) for k, v in data.batch(i, recipe.batch, aug, seed).items()}
            x = trainer.generator_input(batch, i)
            if x is None:
                return
            yield x

    layers = recalibrate_batch_norm(g, inputs())
    return {"batches": n, "batch": recipe.batch, "layers": layers} if layers else {}


def _result(
    recipe: Recipe, trainer: Trainer, data: FolderData, ema: Mapping[str, nn.Module], steps: int,
    elapsed_s: float, losses: Mapping[str, float], seed: int, bf16: bool, card_info: Mapping[str, Any] | None,
    device: str,
) -> TrainResult:
    gens = ema or trainer.ema_sources
    recalibrated = _recalibrate(recipe, trainer, data, gens, seed, device)
    held = {k: v.to(device) for k, v in data.holdout_batch(recipe.crop).items()}
    metric_name, metric = "", None
    if held:
        with side_effect_free(*gens.values()):
            metric_name, metric = trainer.metric(held, gens)
    slice_name = "held-out" if data.holdout_is_separate else "training (too few pictures to hold some out)"
    state_dict, arch = trainer.export(gens)
    info = dict(card_info or {})
    extra = dict(info.pop("extra", {}) or {})
    extra["training"] = {
        "recipe": recipe.id,
        "options": _jsonable(recipe.config()),
        "steps": steps,
        "seed": seed,
        "bf16": bf16,
        "time_s": round(elapsed_s, 3),
        "final_losses": {k: float(v) for k, v in losses.items()},
        "data": data.describe(),
        "ema": recipe.ema,
    }
    if recalibrated:
        extra["training"]["bn_recalibration"] = recalibrated
    card: dict[str, Any] = {
        "tool": "translate",  # a recipe's export() may name another tool
        **arch,
        "training_data": [{"folder": str(f), "role": r} for f, r in zip(data.folders, ("A", "B"), strict=False)],
        "metrics": {metric_name: metric, "metric_slice": slice_name} if metric_name else {},
        "source": f"trained with GANPaint ({recipe.id})",
        "extra": extra,
        **info,
    }
    return TrainResult(state_dict=state_dict, card=card, metric_name=metric_name, metric=metric)


def _jsonable(obj: Any) -> Any:
    """Tuples become lists (as JSON would make them), so configs compare after a round trip."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def drive(
    events: Iterator[TrainEvent], on_event: Callable[[TrainEvent], None] | None = None
) -> TrainEvent | None:
    """Consume a training generator to its end and return its last event.

    ``on_event`` sees every event; if it raises (the job engine's ``ctx.progress``
    raises JobCancelled), the generator is closed at once, which writes a checkpoint
    of the last whole step, and the exception propagates. Use this (or
    ``contextlib.closing``) rather than a bare ``for`` loop when the consumer may stop.
    """
    last = None
    with contextlib.closing(events):  # type: ignore[type-var]
        for ev in events:
            last = ev
            if on_event is not None:
                on_event(ev)
    return last
