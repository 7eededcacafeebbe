"""``ganpaint train``: train (or fine-tune) a model and put it in the model store.

    ganpaint train pix2pix --data A/ --data-b B/ --steps 20000 --as facades
    ganpaint train pix2pix --data facades/train --paired ab --direction BtoA --steps 20000 --as facades
    ganpaint train cyclegan --data horses/ --data-b zebras/ --steps 100000 --as h2z --bf16
    ganpaint train cyclegan --resume h2z --steps 100000          (continue a stopped run)
    ganpaint train stylegan2 --data faces/ --steps 5000 --as myfaces [--no-directions]
    torchrun --nproc_per_node=4 -m ganpaint train cyclegan --data A/ --data-b B/ --batch 16 ...

Runs live in ``<data dir>/runs/<NAME>`` unless ``--run-dir`` says otherwise. Ctrl+C
stops at the end of the current step, writes a checkpoint and prints how to resume.
A stored StyleGAN2 model then gets its faces-slider directions computed, as
``ganpaint directions compute --model NAME`` does (unless ``--no-directions``); if that
fails the model stays stored and the exit status is 1.

Under torchrun every process runs this command with the same arguments: they join one process
group (ganpaint.train.distributed), ``--batch`` is the global batch, and only rank 0 shows
progress, writes samples and stores the model. SIGINT or SIGTERM to any of them stops all at
the next step with a checkpoint (repeated signals do not abort: torchrun forwards Ctrl+C).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from ganpaint.cli.common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, CliError
from ganpaint.cli.models import model_store

NAME = "train"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        NAME,
        help="train a pix2pix or CycleGAN model on folders of pictures",
        description="Train a model from folders of pictures (read recursively; unreadable files are "
        "skipped and counted) and store it under --as. pix2pix needs pairs: files of the same name "
        "in --data and --data-b, or side-by-side AB pictures with --paired ab. CycleGAN needs two "
        "unpaired folders. Ctrl+C stops with a checkpoint; --resume continues bit-for-bit.",
    )
    p.add_argument("recipe", metavar="RECIPE",
                   help="pix2pix, cyclegan, or a recipe a plugin contributes (see 'ganpaint plugins')")
    p.add_argument("--data", metavar="DIR", help="pictures of domain A (or AB pictures with --paired ab)")
    p.add_argument("--data-b", metavar="DIR", help="pictures of domain B")
    p.add_argument("--paired", choices=("names", "ab"),
                   help="how pictures pair up (pix2pix): same file names (default with --data-b) or side-by-side AB")
    p.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB",
                   help="for paired data: translate A to B (default) or B to A")
    p.add_argument("--from", dest="from_model", metavar="MODEL",
                   help="fine-tune: start the generator(s) from this model in the store")
    p.add_argument("--steps", type=int, metavar="N", help="train up to step N (required unless --resume)")
    p.add_argument("--as", dest="name", metavar="NAME", help="store the result under this name")
    p.add_argument("--resume", metavar="RUN", help="continue a stopped run (its name or folder)")
    p.add_argument("--batch", type=int, metavar="B", help="pictures per step")
    p.add_argument("--size", type=int, metavar="S", help="training crop size in pixels")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 autocast: faster on CPUs with bf16 support at larger crops (256 px), not at 64 px")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--run-dir", metavar="DIR", help="checkpoint folder (default <data dir>/runs/NAME)")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="a recipe option, e.g. --set ngf=32 --set gan_loss=hinge (repeatable)")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="N",
                   help="write a checkpoint every N steps (default 500; also every 2 minutes, on Ctrl+C "
                        "and at the end)")
    p.add_argument("--sample-every", type=int, default=0, metavar="N",
                   help="save preview pictures to RUN/samples every N steps (default: never)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-directions", action="store_true",
                   help="stylegan2: do not compute the faces sliders' directions for the stored model "
                   "(later: ganpaint directions compute --model NAME)")


# --------------------------------------------------------------------------------------


def _recipe_defaults(recipe_id: str, args: argparse.Namespace) -> Any:
    """The recipe with its default options: a built-in, or a plugin's RecipeSpec factory."""
    from ganpaint.train import RECIPES

    if recipe_id in RECIPES:
        return RECIPES[recipe_id]()
    from ganpaint.cli.common import plugin_manager

    pm = plugin_manager(args)
    spec = pm.recipes().get(recipe_id)
    if spec is None:
        known = sorted({*RECIPES, *pm.recipes()})
        raise CliError(f"unknown recipe {recipe_id!r} (available: {', '.join(known)})")
    try:
        recipe = pm.resolve(spec.factory)()
    except Exception as exc:
        raise CliError(f"plugin {spec.plugin!r}: recipe {recipe_id!r} could not be built: {exc}") from None
    if not is_dataclass(recipe):
        raise CliError(f"plugin {spec.plugin!r}: recipe {recipe_id!r} is not a dataclass of options")
    return recipe


def _make_recipe(base: Any, options: dict[str, Any]) -> Any:
    try:
        return replace(base, **options)
    except (TypeError, ValueError) as exc:
        raise CliError(f"recipe {base.id}: {exc}") from None


def _parse_options(base: Any, items: list[str]) -> dict[str, Any]:
    types = {f.name: getattr(base, f.name) for f in fields(base)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise CliError(f"--set {item!r}: expected KEY=VALUE")
        if key not in types:
            raise CliError(f"recipe {base.id} has no option {key!r} (options: {', '.join(sorted(types))})")
        out[key] = _coerce(key, text.strip(), types[key])
    return out


def _coerce(key: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            low = text.lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError("expected true or false")
            return low in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, tuple):
            return tuple(float(x) for x in text.split(","))
        return text
    except ValueError as exc:
        raise CliError(f"--set {key}={text}: {exc}") from None


def _runs_root() -> Path:
    from ganpaint.core.paths import runs_dir

    return runs_dir()


def _resolve_run(ref: str) -> Path:
    p = Path(ref).expanduser()
    if p.is_dir():
        return p
    cand = _runs_root() / ref
    if cand.is_dir():
        return cand
    raise CliError(f"no training run {ref!r} (neither a folder nor a run in {_runs_root()})")


def _arch_options(recipe_id: str, card: Any, recipe: Any = None) -> dict[str, Any]:
    """Recipe options that make the generator match a stored model's architecture.

    A recipe that knows its own generator (a plugin's, say a 5-channel sketch U-Net)
    says so with ``options_from_card(architecture, config) -> dict`` (ValueError when the
    model does not fit); the rest are the RGB -> RGB generators of the built-in recipes."""
    cfg = dict(card.config)
    own = getattr(recipe, "options_from_card", None)
    if callable(own):
        try:
            return dict(own(card.architecture, cfg))
        except ValueError as exc:
            raise CliError(f"model {card.name!r} cannot start a {recipe_id} run: {exc}") from None
    if cfg.get("in_channels", 3) != 3 or cfg.get("out_channels", 3) != 3:
        raise CliError(f"model {card.name!r} does not map RGB to RGB; it cannot start a {recipe_id} run")
    if cfg.get("padding", "reflect") != "reflect":
        raise CliError(f"model {card.name!r} uses {cfg['padding']} padding; the recipes train reflect padding only")
    if card.architecture == "stylegan2" and recipe_id == "stylegan2":
        from ganpaint.train.recipes.stylegan2 import options_from_card

        return options_from_card(cfg)
    common = {k: cfg[k] for k in ("ngf", "norm", "dropout") if k in cfg}
    if card.architecture == "unet_generator" and recipe_id == "pix2pix":
        return {"generator": "unet", "num_downs": cfg["num_downs"], **common}
    if card.architecture == "resnet_generator":
        extra = {"generator": "resnet"} if recipe_id == "pix2pix" else {}
        return {**extra, "n_blocks": cfg["n_blocks"], **common}
    raise CliError(f"model {card.name!r} ({card.architecture}) cannot start a {recipe_id} run")


def _load_start_model(name: str, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    import safetensors.torch

    entry = model_store(args, with_plugins=True).get(name)  # the plugins' shipped defaults included
    try:
        tensors = safetensors.torch.load_file(str(entry.path))
    except Exception as exc:
        raise CliError(f"cannot read model {entry.ref} at {entry.path}: {exc}") from None
    return entry, tensors


def _command_line(args: argparse.Namespace, name: str) -> str:
    parts = ["ganpaint", "train", args.recipe]
    for flag, value in (("--data", args.data), ("--data-b", args.data_b), ("--paired", args.paired),
                        ("--from", args.from_model), ("--steps", args.steps), ("--as", name),
                        ("--resume", args.resume), ("--batch", args.batch), ("--size", args.size),
                        ("--seed", args.seed), ("--run-dir", args.run_dir)):
        if value is not None:
            parts += [flag, str(value)]
    if args.direction != "AtoB":
        parts += ["--direction", args.direction]
    for opt in args.options:
        parts += ["--set", opt]
    if args.bf16:
        parts.append("--bf16")
    return shlex.join(parts)


class _SigintCancel:
    """First Ctrl+C: stop after the current step (with a checkpoint). Second: abort now.

    ``distributed``: SIGTERM stops too, and a repeated signal does not abort (torchrun sends
    its own SIGINT/SIGTERM after the terminal's Ctrl+C; every rank must reach the checkpoint)."""

    def __init__(self, event: threading.Event, distributed: bool = False) -> None:
        self.event = event
        self.distributed = distributed
        self._old: dict[int, Any] = {}

    def __enter__(self) -> threading.Event:
        if threading.current_thread() is threading.main_thread():
            sigs = (signal.SIGINT, signal.SIGTERM) if self.distributed else (signal.SIGINT,)
            for sig in sigs:
                self._old[sig] = signal.signal(sig, self._handle)
        return self.event

    def _handle(self, signum: int, frame: Any) -> None:
        if self.event.is_set():
            if self.distributed:
                return
            raise KeyboardInterrupt
        self.event.set()
        if self.distributed:
            print(f"\nganpaint: {signal.Signals(signum).name}: every process stops after this step "
                  f"with a checkpoint", file=sys.stderr)
        else:
            print("\nganpaint: stopping after this step (Ctrl+C again to abort without a checkpoint)",
                  file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _save_samples(run: Path, step: int, samples: dict[str, Any]) -> None:
    import numpy as np
    from PIL import Image

    out = run / "samples"
    out.mkdir(exist_ok=True)
    for label, pic in samples.items():
        Image.fromarray((np.clip(pic, 0, 1) * 255 + 0.5).astype(np.uint8)).save(out / f"{step:07d}-{label}.png")


# --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from ganpaint.train import distributed as dd

    if not dd.launched_by_torchrun():
        return _run(args, dd.SINGLE)
    try:
        ctx = dd.env_context()
    except Exception as exc:  # a TrainError naming what torchrun set
        raise CliError(str(exc)) from None
    try:
        return _run(args, ctx, torchrun=True)
    finally:
        dd.shutdown()


def _resolve_run_shared(ref: str, ctx: Any) -> Path:
    """``_resolve_run`` on rank 0, its answer sent to every process (other machines need not
    have the run folder: they get rank 0's checkpoint and run.json)."""
    from ganpaint.train import distributed as dd

    got: Any
    try:
        got = str(_resolve_run(ref)) if ctx.is_main else None
    except CliError as exc:
        got = exc
    got = dd.broadcast_object(ctx, got if not isinstance(got, CliError) else ("error", str(got)))
    if isinstance(got, tuple):
        raise CliError(got[1])
    return Path(got)


def _read_run_info(run_dir: Path, ctx: Any) -> dict[str, Any]:
    """run.json of a run to resume; under torchrun rank 0's, sent to every process."""
    from ganpaint.train import RUN_INFO
    from ganpaint.train import distributed as dd

    got: Any = None
    if ctx.is_main:
        try:
            got = json.loads((run_dir / RUN_INFO).read_text())
        except (OSError, ValueError) as exc:
            got = f"{run_dir / RUN_INFO}: cannot read the run's description ({exc})"
    got = dd.broadcast_object(ctx, got)
    if not isinstance(got, dict):
        raise CliError(str(got))
    return got


def _run(args: argparse.Namespace, ctx: Any, *, torchrun: bool = False) -> int:
    from ganpaint.engine.inference.devices import DeviceError, cpu_supports_bf16, pick_device
    from ganpaint.train import TrainError, load_data, train
    from ganpaint.train import distributed as dd

    main = ctx.is_main
    if not main:
        args.no_progress = True
    try:
        device = pick_device(getattr(args, "device", None))
    except DeviceError as exc:
        raise CliError(str(exc)) from None
    if ctx.enabled:
        try:
            ctx, device = dd.init(device, ctx)
        except (RuntimeError, ValueError) as exc:
            raise CliError(f"cannot join the other training processes: {exc}") from None

    info: dict[str, Any] = {}
    if args.resume:
        run_dir = Path(args.run_dir).expanduser() if args.run_dir else _resolve_run_shared(args.resume, ctx)
        info = _read_run_info(run_dir, ctx)
        if info.get("recipe") != args.recipe:
            raise CliError(f"run {run_dir} is a {info.get('recipe')} run, not {args.recipe}")
    name = args.name or info.get("name")
    if not name:
        raise CliError("--as NAME is required (the name the trained model gets in the store)")
    steps = args.steps if args.steps is not None else info.get("steps")
    if not steps or steps < 1:
        raise CliError("--steps N (a positive number of steps) is required")
    if not args.resume:
        if not args.data:
            raise CliError("--data DIR is required")
        run_dir = Path(args.run_dir).expanduser() if args.run_dir else _runs_root() / name

    if main and args.bf16 and device == "cpu" and not cpu_supports_bf16():
        print("ganpaint: note: this CPU has no native bf16; --bf16 will be slower than fp32", file=sys.stderr)

    init_weights = None
    start_card = None
    base = _recipe_defaults(args.recipe, args)
    if args.resume:
        options = info.get("config", {})
        if "betas" in options:
            options["betas"] = tuple(options["betas"])
        data_args = info.get("data", {})
        seed = int(info.get("seed", args.seed))
        args.bf16 = bool(args.bf16 or info.get("bf16"))  # a resumed run keeps its precision
    else:
        options = _parse_options(base, args.options)
        if args.batch is not None:
            options["batch"] = args.batch
        if args.size is not None:
            options["crop"] = args.size
        if args.from_model:
            entry, init_weights = _load_start_model(args.from_model, args)
            start_card = entry.card
            options = {**_arch_options(args.recipe, entry.card, base), **options}
        paired = args.paired
        if paired is None and args.recipe == "pix2pix" and args.data_b:
            paired = "names"
        data_args = {"data": args.data, "data_b": args.data_b, "paired": paired,
                     "reverse": args.direction == "BtoA"}
        seed = args.seed
    recipe = _make_recipe(base, options)

    from ganpaint.engine.models.cards import ModelCard

    try:
        data = load_data(data_args["data"], data_args.get("data_b"), paired=data_args.get("paired"),
                         reverse=bool(data_args.get("reverse")))
        skipped = len(data.skipped)
        if skipped and main:
            print(f"ganpaint: skipped {skipped} unreadable file(s), e.g. {data.skipped[0][0]}: {data.skipped[0][1]}",
                  file=sys.stderr)
        command = _command_line(args, name)
        card_info: dict[str, Any] = {"name": name, "title": name, "training_command": command}
        if start_card is not None:
            card_info["description"] = f"fine-tuned from {start_card.name}@{start_card.version}"
            card_info["licence"] = start_card.licence
        stop = threading.Event()
        events = train(recipe, data, steps=int(steps), run_dir=run_dir, resume=bool(args.resume), seed=seed,
                       cancel=stop,
                       sample_every=max(0, args.sample_every), checkpoint_every=max(0, args.checkpoint_every),
                       device=device, bf16=args.bf16, init_weights=init_weights, card_info=card_info,
                       dist=ctx if ctx.enabled else None)
        # under torchrun (even alone) SIGTERM stops with a checkpoint and a repeated signal never aborts
        last = _drive(events, int(steps), run_dir, args, stop, distributed=torchrun, write_samples=main)
    except TrainError as exc:
        raise CliError(str(exc)) from None

    if last is None or last.kind == "cancelled":
        step = last.step if last is not None else 0
        if main:
            how = "torchrun ... -m ganpaint" if ctx.enabled else "ganpaint"
            print(f"ganpaint: cancelled at step {step}; checkpoint in {run_dir}\n"
                  f"ganpaint: resume with: {how} train {args.recipe} --resume {shlex.quote(str(run_dir))} "
                  f"--steps {steps} --as {name}" + (" (under any number of processes)" if ctx.enabled else ""),
                  file=sys.stderr)
        return EXIT_INTERRUPTED
    if not main:
        return EXIT_OK  # rank 0 stores the model
    result = last.result
    assert result is not None
    try:
        card = ModelCard.from_dict(dict(result.card))
    except ValueError as exc:
        raise CliError(f"the trained model's card is invalid: {exc}") from None
    store = model_store(args, with_plugins=False)  # results go to the user's own folder
    entry = store.add(result.state_dict, card, name)
    metric = f"; {result.metric_name} {result.metric:.4f}" if result.metric is not None else ""
    print(f"stored as {entry.ref} for the {entry.tool!r} tool: {entry.path} "
          f"({last.step} steps in {last.elapsed_s:.1f} s{metric})")
    if recipe.id == "stylegan2" and not args.no_directions:
        return _recompute_directions(entry, store.root, args)
    return EXIT_OK


def _recompute_directions(entry: Any, root: Path, args: argparse.Namespace) -> int:
    """The stored generator's slider directions, as `ganpaint directions compute` makes them.
    A failure (or Ctrl+C) leaves the stored model alone and says how to compute them later."""
    from tqdm import tqdm

    from ganpaint.engine.models.directions import compute_for_model

    later = f"compute them with: ganpaint directions compute --model {entry.name}"
    bar = tqdm(total=1000, desc="recomputing slider directions", file=sys.stderr, disable=args.no_progress,
               dynamic_ncols=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def progress(fraction: float, message: str) -> None:
        bar.update(int(fraction * 1000) - bar.n)
        bar.set_postfix_str(message, refresh=False)

    try:
        report = compute_for_model(entry, root=root, progress=progress,
                                   warn=lambda m: print(f"ganpaint: {m}", file=sys.stderr))
    except KeyboardInterrupt:
        bar.close()
        print(f"ganpaint: slider directions not computed (interrupted); {entry.ref} stays stored; {later}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the model is stored: say what failed, keep it
        bar.close()
        print(f"ganpaint: {entry.ref} is stored, but its slider directions could not be computed ({exc}); {later}",
              file=sys.stderr)
        return EXIT_FAILURE
    bar.close()
    print(f"slider directions: {report.summary()}")
    return EXIT_OK


def _drive(events: Any, steps: int, run_dir: Path, args: argparse.Namespace, stop: threading.Event,
           distributed: bool = False, write_samples: bool = True) -> Any:
    from tqdm import tqdm

    last = None
    bar = None
    with _SigintCancel(stop, distributed):
        try:
            for ev in events:
                last = ev
                if bar is None:
                    first = ev.step - 1 if ev.kind == "step" else ev.step
                    bar = tqdm(total=steps, initial=first, desc="training", unit="step", file=sys.stderr,
                               disable=args.no_progress, dynamic_ncols=True)
                if ev.kind == "step":
                    bar.update(ev.step - bar.n)
                    bar.set_postfix_str(ev.describe(), refresh=False)
                if ev.samples and write_samples:
                    _save_samples(run_dir, ev.step, dict(ev.samples))
        finally:
            if bar is not None:
                bar.close()
            events.close()  # after an abort: writes a checkpoint of the last whole step
    return last
