"""Fine-tuning from the editor: the Qt-free glue between the Train dialog, the training
loop (ganpaint.train) and the model store.

    report = check_data(["~/photos"], "inpaint", preset="standard")   # before Start
    req = FinetuneRequest("inpaint", base_model="inpaint-default", folders=("~/photos",))
    job, control = make_finetune_job(req, store=store)                # lane "training"
    queue.submit(job)          # control.pause() / queue.cancel(job.id) / control.snapshot()
    list_runs()                # stopped runs (run.json + checkpoint) -> resume_job(run, store=)

Pause = the loop's ``cancel=`` flag: it writes a checkpoint and the job returns a
``paused`` outcome; Resume = a new job with ``resume=True`` on the same run folder.
Cancel = ``queue.cancel``: the loop is closed at the step boundary (a checkpoint of the
last whole step is written) and nothing is stored. ``done`` adds a NEW version to the
store. A StyleGAN2 result then gets its faces-slider directions recomputed (the same
``engine.models.directions.compute_for_model`` as ``ganpaint directions compute``; progress
"recomputing slider directions…"); a failure or a cancel there keeps the stored model
(``FinetuneOutcome.directions_error``, ``TrainControl.stored``). The picture checks here
use Pillow only; torch is imported inside the job.

Layering note: this module imports ganpaint.train inside functions (engine -> train).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ganpaint.engine.jobs import Job
from ganpaint.engine.jobs.finetune_data import (  # noqa: F401 - re-exported
    FINETUNE_INFO,
    LOSSES_FILE,
    PAIRS_DIR,
    DataReport,
    RunInfo,
    _runs_root,
    _walk,
    check_data,
    checkpoint_step,
    list_runs,
    load_history,
)

LANE = "training"
KIND = "finetune"
DIRECTIONS_MESSAGE = "recomputing slider directions…"


#: a training run in a worker process has this long to write its checkpoint after a cancel, then
#: its worker is killed (the last checkpoint stands)
CANCEL_GRACE_S = 15.0


class FinetuneError(Exception):
    """A problem the user can fix; the message is one line naming the folder/model/run."""


# ------------------------------------------------------------------------------ families


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    tools: tuple[str, ...]  # the first is the tool a from-scratch model is made for
    recipe: str  # default recipe (the starting model may switch pix2pix/cyclegan)
    folders: tuple[str, ...]  # labels of the folder fields
    scratch: bool  # whether "from scratch" makes sense
    help: str = ""


def families(recipes: Iterable[str] | None = None) -> dict[str, Family]:
    """The model families the Train dialog offers. StyleGAN2 only when its recipe exists."""
    fams = [
        Family("sketch", "Sketch to image", ("sketch",), "sketch", ("Photos",), True,
               "pairs are made from your photos: line art (XDoG) -> photo"),
        Family("unpaired", "Season / translation (unpaired)", ("season", "translate"), "cyclegan",
               ("Pictures A (e.g. summer)", "Pictures B (e.g. winter)"), True,
               "CycleGAN: two folders, no pairs needed"),
        Family("paired", "Translation (paired)", ("translate",), "pix2pix",
               ("Inputs A", "Targets B (same file names)"), True, "pix2pix: pictures paired by file name"),
        Family("inpaint", "Inpainting", ("inpaint",), "inpaint", ("Pictures",), True,
               "holes are drawn at random on your pictures"),
        Family("stylegan2", "StyleGAN2", ("stylemix", "faces"), "stylegan2", ("Pictures",), True,
               "an unconditional generator of pictures like yours"),
    ]
    if recipes is None:  # without importing torch (ganpaint.train does): is the recipe's module there?
        here = Path(__file__).resolve().parents[2] / "train" / "recipes" / "stylegan2.py"
        recipes = ["stylegan2"] if here.is_file() or getattr(sys, "frozen", False) else []
    known = set(recipes)
    return {f.id: f for f in fams if f.id != "stylegan2" or "stylegan2" in known}


#: per family: preset -> (steps, batch, lr, crop, minimum pictures)
PRESETS: dict[str, dict[str, tuple[int, int, float, int, int]]] = {
    "sketch": {"quick": (500, 4, 1e-4, 128, 10), "standard": (3000, 4, 1e-4, 128, 50),
               "long": (12000, 4, 2e-4, 256, 200)},
    "unpaired": {"quick": (500, 1, 1e-4, 128, 10), "standard": (4000, 1, 1e-4, 256, 50),
                 "long": (20000, 1, 2e-4, 256, 200)},
    "paired": {"quick": (500, 1, 1e-4, 128, 10), "standard": (3000, 1, 1e-4, 256, 50),
               "long": (12000, 4, 2e-4, 256, 200)},
    "inpaint": {"quick": (500, 4, 2e-4, 128, 10), "standard": (4000, 8, 2e-4, 128, 50),
                "long": (20000, 8, 4e-4, 256, 200)},
    "stylegan2": {"quick": (1000, 8, 1e-3, 64, 50), "standard": (5000, 8, 2e-3, 64, 200),
                  "long": (20000, 8, 2e-3, 128, 1000)},
}
PRESET_NAMES = ("quick", "standard", "long")


def preset_values(family: str, preset: str) -> dict[str, Any]:
    try:
        steps, batch, lr, crop, minimum = PRESETS[family][preset]
    except KeyError:
        raise FinetuneError(f"unknown family/preset {family!r}/{preset!r}") from None
    return {"steps": steps, "batch": batch, "lr": lr, "size": crop, "min_pictures": minimum}


@dataclass(frozen=True)
class FinetuneRequest:
    """Everything a fine-tune needs; ``None`` advanced fields take the preset's values."""

    family: str
    folders: tuple[str, ...]
    base_model: str = ""  # "name" or "name@v" in the store; "" = from scratch
    preset: str = "quick"
    steps: int | None = None
    batch: int | None = None
    lr: float | None = None
    size: int | None = None
    bf16: bool = False
    name: str = ""  # store name of the result ("" = the base model's name, or "<family>-mine")
    options: Mapping[str, Any] = field(default_factory=dict)  # more recipe options (e.g. ngf)
    seed: int = 0
    sample_every: int = 10
    checkpoint_every: int = 100
    # StyleGAN2: options of the slider directions recomputed after storing (engine.models.directions
    # .compute_directions: samples, components, labels ...); {} = `ganpaint directions compute`'s
    # defaults, None = do not recompute them
    directions: Mapping[str, Any] | None = field(default_factory=dict)

    def resolved(self) -> dict[str, Any]:
        p = preset_values(self.family, self.preset)
        return {k: (getattr(self, k) if getattr(self, k) is not None else p[k]) for k in ("steps", "batch", "lr", "size")}


# ------------------------------------------------------------------------------ control


class TrainControl:
    """Shared between the dialog (GUI thread) and the job (training worker). Not a dataclass:
    job inputs are frozen, and this must stay one live object."""

    def __init__(self, history: list[tuple[int, dict[str, float]]] | None = None) -> None:
        self._pause = threading.Event()
        self._lock = threading.Lock()
        self.history: list[tuple[int, dict[str, float]]] = list(history or [])
        self.latest: dict[str, Any] = {}
        self.grid: np.ndarray | None = None
        self.grid_step = 0
        self.phase = "training"  # "directions" while a StyleGAN2 result's slider directions are recomputed
        #: the outcome as soon as the model is in the store (before its directions): a cancel or
        #: failure after that point still left a stored model
        self.stored: FinetuneOutcome | None = None

    def pause(self) -> None:
        if self.phase == "training":  # nothing to pause once the model is stored
            self._pause.set()

    @property
    def pause_requested(self) -> bool:
        return self._pause.is_set()

    def record(self, ev: Any) -> None:
        with self._lock:
            if ev.kind == "step":
                self.history.append((ev.step, {k: float(v) for k, v in ev.losses.items()}))
            self.latest = {"kind": ev.kind, "step": ev.step, "total": ev.total, "steps_per_s": ev.steps_per_s,
                           "eta_s": ev.eta_s, "elapsed_s": ev.elapsed_s, "losses": dict(ev.losses)}
            if ev.samples:
                self.grid = sample_grid(ev.samples)
                self.grid_step = ev.step

    def snapshot(self) -> tuple[list[tuple[int, dict[str, float]]], dict[str, Any], np.ndarray | None, int]:
        with self._lock:
            return list(self.history), dict(self.latest), self.grid, self.grid_step


def sample_grid(samples: Mapping[str, np.ndarray]) -> np.ndarray:
    """The samples side by side (same height), HxWx3 float32 in [0, 1]."""
    pics = [np.asarray(p, np.float32) for p in samples.values()]
    h = max(p.shape[0] for p in pics)
    padded = [np.pad(p, ((0, h - p.shape[0]), (0, 2), (0, 0)), constant_values=1.0) for p in pics]
    return np.ascontiguousarray(np.clip(np.concatenate(padded, axis=1), 0, 1), dtype=np.float32)


@dataclass(frozen=True)
class FinetuneOutcome:
    kind: str  # "done" | "paused"
    run_dir: str
    step: int
    total: int
    model_ref: str = ""  # "name@v" of the stored result (done)
    metric_name: str = ""
    metric: float | None = None
    base_model: str = ""
    tool: str = ""
    directions: tuple[str, ...] = ()  # slider directions recomputed for the new generator (StyleGAN2)
    directions_error: str = ""  # why they were not (the model is stored all the same)

    @property
    def directions_note(self) -> str:
        """One line for the dialog/CLI about the slider directions ("" when none were due)."""
        name = self.model_ref.partition("@")[0]
        if self.directions_error:
            return (f"The slider directions were not recomputed ({self.directions_error}); the model is stored: "
                    f"compute them with `ganpaint directions compute --model {name}`.")
        if not self.directions:
            return ""
        axes = [n for n in self.directions if n.rstrip("0123456789") in ("pc", "sefa")]
        named = [n for n in self.directions if n not in axes]
        pcs = sum(n.startswith("pc") for n in axes)
        return (f"Slider directions recomputed for the new generator: {', '.join(named) or 'no attribute sliders'}"
                f" + {pcs} GANSpace and {len(axes) - pcs} SeFa axes.")


def _update_info(run: Path, **changes: Any) -> None:
    """Merge ``changes`` into the run's finetune.json (if there is one); best effort."""
    from ganpaint.core.atomic import atomic_write_text

    try:
        ft = json.loads((run / FINETUNE_INFO).read_text()) if (run / FINETUNE_INFO).is_file() else {}
        if ft:
            ft.update(changes)
            atomic_write_text(run / FINETUNE_INFO, json.dumps(ft, indent=1, default=str))
    except (OSError, ValueError):
        pass


def _save_history(run: Path, control: TrainControl, up_to: int) -> None:
    from ganpaint.core.atomic import atomic_write_text

    hist = [(s, d) for s, d in control.snapshot()[0] if s <= up_to]
    try:
        atomic_write_text(run / LOSSES_FILE, json.dumps(hist))
    except OSError:
        pass  # the plot history is a convenience; the checkpoint is what matters


# ------------------------------------------------------------------------------ recipes


RecipeResolver = Callable[[str], Any]  # recipe id -> a recipe instance with default options


def default_recipe(recipe_id: str, resolver: RecipeResolver | None = None) -> Any:
    from ganpaint.train import RECIPES

    if recipe_id in RECIPES:
        return RECIPES[recipe_id]()
    if resolver is not None:
        try:
            return resolver(recipe_id)
        except KeyError:
            pass
    raise FinetuneError(f"the {recipe_id!r} training recipe is not available (is its plugin enabled?)")


def _arch_options(recipe_id: str, card: Any) -> dict[str, Any]:
    """Recipe options that rebuild the starting model's generator (same rules as `ganpaint train --from`)."""
    cfg = dict(card.config)
    if card.architecture == "stylegan2":
        if recipe_id != "stylegan2":
            raise FinetuneError(f"model {card.name!r} is a StyleGAN2 generator; choose the StyleGAN2 family")
        from ganpaint.train.recipes.stylegan2 import options_from_card

        return dict(options_from_card(cfg))
    if recipe_id == "inpaint":
        keys = {f for f in ("width", "dilations") if f in cfg}
        return {k: (tuple(cfg[k]) if isinstance(cfg[k], list) else cfg[k]) for k in keys}
    common = {k: cfg[k] for k in ("ngf", "norm", "dropout") if k in cfg}
    if card.architecture == "unet_generator" and recipe_id in ("pix2pix", "sketch"):
        return {"generator": "unet", "num_downs": cfg["num_downs"], **common}
    if card.architecture == "resnet_generator" and recipe_id in ("pix2pix", "cyclegan"):
        return {**({"generator": "resnet"} if recipe_id == "pix2pix" else {}), "n_blocks": cfg["n_blocks"], **common}
    raise FinetuneError(f"model {card.name!r} ({card.architecture}) cannot start a {recipe_id} run")


#: the shallowest U-Net the pix2pix recipes accept (``num_downs >= 5``)
MIN_UNET_DEPTH = 5


def fit_unet_to_crop(recipe: Any, opts: Mapping[str, Any], *, depth_fixed: bool) -> dict[str, Any]:
    """Options that make a U-Net generator and the crop agree, or {} when they already do.

    A U-Net with ``num_downs`` n takes crops that are multiples of 2**n: pix2pix's default
    (n = 8) wants 256, so the presets' 128-pixel quick crop failed at once ("crop 128 must be
    a multiple of 256"). A new generator gets the deepest U-Net (at most the recipe's n) the
    crop divides by (n = 7 for 128, pix2pix's own unet_128), the crop first rounded up to a
    multiple of 32 when none does. A starting model (``depth_fixed``) keeps its depth and the
    crop grows to its next multiple. Recipes without a U-Net are left alone."""
    if opts.get("generator", getattr(recipe, "generator", None)) != "unet" or not hasattr(recipe, "num_downs"):
        return {}
    crop = int(opts.get("crop", recipe.crop))
    depth = int(opts.get("num_downs", recipe.num_downs))
    if crop % 2**depth == 0:
        return {}
    if not depth_fixed and depth > MIN_UNET_DEPTH:
        fitted = max(crop, 2**MIN_UNET_DEPTH)
        fitted += -fitted % 2**MIN_UNET_DEPTH
        k = next(k for k in range(depth, MIN_UNET_DEPTH - 1, -1) if fitted % 2**k == 0)
        return {"num_downs": k, "crop": fitted}
    step = 2**depth
    return {"crop": max(step, crop + (-crop % step))}


def recipe_for(family: str, card: Any | None, available: Iterable[str]) -> str:
    """The recipe of a fine-tune: the family's, switched by the starting model's shape."""
    fam = families()[family]
    avail = set(available)
    if family == "sketch":
        ch = int((card.config if card is not None else {}).get("in_channels", 5))
        if card is not None and ch == 3:
            return "pix2pix"
        return "sketch" if "sketch" in avail else "pix2pix"
    if family in ("unpaired", "paired") and card is not None:
        return "cyclegan" if "reverse" in card.components else "pix2pix"
    return fam.recipe


# ------------------------------------------------------------------------------ the job


def _lr_options(recipe: Any, lr: float) -> dict[str, Any]:
    out: dict[str, Any] = {"lr": lr}
    if hasattr(recipe, "d_lr"):  # keep D's lr in the recipe's proportion
        out["d_lr"] = lr * recipe.d_lr / recipe.lr
    return out


def _new_run_recipe(req: FinetuneRequest, store: Any, resolver: RecipeResolver | None,
                    avail: Iterable[str]) -> tuple[str, Any, Any, dict[str, Any]]:
    """(recipe id, recipe with the request's options, base model entry or None, those options)."""
    values = req.resolved()
    base = store.get(req.base_model) if req.base_model else None
    recipe_id = recipe_for(req.family, base.card if base is not None else None, avail)
    recipe = default_recipe(recipe_id, resolver)
    opts = {"batch": values["batch"], "crop": values["size"], **_lr_options(recipe, values["lr"])}
    if base is not None:
        opts.update(_arch_options(recipe_id, base.card))
    opts.update(dict(req.options))
    opts.update(fit_unet_to_crop(recipe, opts, depth_fixed="num_downs" in opts))
    try:
        recipe = replace(recipe, **opts)
    except (TypeError, ValueError) as exc:
        raise FinetuneError(f"recipe {recipe_id}: {exc}") from None
    return recipe_id, recipe, base, opts


@dataclass(frozen=True)
class DistributedLaunch:
    """A multi-GPU fine-tune as a torchrun command line (``ganpaint train`` on each GPU)."""

    command: tuple[str, ...]
    run_dir: str
    name: str


def _option_text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def torchrun_command(req: FinetuneRequest, *, gpus: int, store: Any, resolver: RecipeResolver | None = None,
                     available_recipes: Iterable[str] = (), runs_root: str | os.PathLike[str] | None = None,
                     python: str = sys.executable) -> DistributedLaunch:
    """The command that trains ``req`` on ``gpus`` local GPUs: ``python -m torch.distributed.run
    --nproc_per_node=N -m ganpaint train RECIPE ...`` with the recipe and options a one-GPU
    fine-tune would use (``--batch`` is the global batch: rounded up to a multiple of N)."""
    from ganpaint.train import RECIPES

    fam = families().get(req.family)
    if fam is None:
        raise FinetuneError(f"unknown model family {req.family!r}")
    if req.family == "sketch":
        raise FinetuneError("the sketch family draws its line art in the editor first; train it on one GPU")
    if len(req.folders) != len(fam.folders):
        raise FinetuneError(f"{fam.title} needs {len(fam.folders)} folder(s)")
    if gpus < 2:
        raise FinetuneError("a multi-GPU run needs at least 2 GPUs")
    recipe_id, recipe, base, opts = _new_run_recipe(req, store, resolver, {*RECIPES, *available_recipes})
    name = req.name or (base.name if base is not None and not base.readonly else
                        f"{base.name}-mine" if base is not None else f"{req.family}-mine")
    run = _runs_root(runs_root) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-x{gpus}"
    batch = recipe.batch + (-recipe.batch % gpus)
    folders = [str(Path(f).expanduser()) for f in req.folders]
    cmd = [python, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", "-m", "ganpaint",
           "--device", "cuda", "train", recipe_id, "--data", folders[0]]
    if len(folders) > 1:
        cmd += ["--data-b", folders[1]]
    if recipe.data_kind == "paired":
        cmd += ["--paired", "names"]
    cmd += ["--steps", str(req.resolved()["steps"]), "--batch", str(batch), "--size", str(recipe.crop),
            "--as", name, "--run-dir", str(run), "--seed", str(req.seed),
            "--checkpoint-every", str(req.checkpoint_every), "--sample-every", str(req.sample_every)]
    if base is not None:
        cmd += ["--from", base.ref]
    for key, value in sorted(opts.items()):
        if key not in ("batch", "crop"):
            cmd += ["--set", f"{key}={_option_text(value)}"]
    if req.bf16:
        cmd.append("--bf16")
    return DistributedLaunch(tuple(cmd), str(run), name)


def _make_pairs(photos: Path, out: Path, progress: Callable[[float, str], None], cancelled: Callable[[], bool]) -> Path:
    """Sketch family: A/<name>.png = XDoG line art of the photo, B/<name>.png = the photo."""
    from PIL import Image

    from ganpaint.data.lineart import sketch_rgb, xdog

    a_dir, b_dir = out / "A", out / "B"
    a_dir.mkdir(parents=True, exist_ok=True)
    b_dir.mkdir(parents=True, exist_ok=True)
    files = _walk(photos)
    for i, path in enumerate(files):
        if cancelled():
            break
        target = f"{i:05d}-{path.stem}.png"
        if (a_dir / target).is_file() and (b_dir / target).is_file():
            continue
        try:
            with Image.open(path) as im:
                im.load()
                rgba = im.convert("RGBA")
        except Exception:
            continue  # unreadable: the data check listed it
        rgba.thumbnail((768, 768))
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), np.float32) / 255.0
        lines = sketch_rgb(xdog(rgb))
        Image.fromarray((rgb * 255 + 0.5).astype(np.uint8)).save(b_dir / target)
        Image.fromarray((lines * 255 + 0.5).astype(np.uint8)).save(a_dir / target)
        progress(i / max(1, len(files)), f"making line-art pairs {i + 1}/{len(files)}")
    return out


def _check_not_running(queue: Any) -> None:
    if queue is None:
        return
    for job in queue.jobs():
        if job.kind == KIND and not job.state.finished:
            raise FinetuneError(f"a training run is already going ({job.title}); pause or cancel it first")


def make_finetune_job(req: FinetuneRequest, *, store: Any, queue: Any = None, resolver: RecipeResolver | None = None,
                      available_recipes: Iterable[str] = (), device: str | None = None,
                      runs_root: str | os.PathLike[str] | None = None) -> tuple[Job, TrainControl]:
    """A training-lane job for a new fine-tune (refused while another one runs)."""
    _check_not_running(queue)
    fam = families().get(req.family)
    if fam is None:
        raise FinetuneError(f"unknown model family {req.family!r}")
    if len(req.folders) != len(fam.folders):
        raise FinetuneError(f"{fam.title} needs {len(fam.folders)} folder(s)")
    base = store.get(req.base_model) if req.base_model else None
    name = req.name or (base.name if base is not None and not base.readonly else
                        f"{base.name}-mine" if base is not None else f"{req.family}-mine")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run = _runs_root(runs_root) / f"{name}-{stamp}"
    n = 1
    while run.exists():
        n += 1
        run = _runs_root(runs_root) / f"{name}-{stamp}-{n}"
    control = TrainControl()
    inputs = {"request": replace(req, name=name), "run_dir": str(run), "resume": False}
    fn = _job_fn(store, control, resolver, tuple(available_recipes), device)
    job = Job(KIND, LANE, fn, inputs, key=f"{KIND}:{run.name}", title=f"Training {name}")
    return job, control


def resume_job(run_dir: str | os.PathLike[str], *, store: Any, queue: Any = None, resolver: RecipeResolver | None = None,
               available_recipes: Iterable[str] = (), device: str | None = None) -> tuple[Job, TrainControl]:
    """A training-lane job that continues ``run_dir`` from its checkpoint."""
    _check_not_running(queue)
    run = Path(run_dir)
    if checkpoint_step(run) is None:
        raise FinetuneError(f"no usable checkpoint in {run}")
    try:
        info = json.loads((run / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise FinetuneError(f"{run / 'run.json'}: cannot read the run's description ({exc})") from None
    control = TrainControl(load_history(run))
    fn = _job_fn(store, control, resolver, tuple(available_recipes), device)
    name = str(info.get("name", run.name))
    job = Job(KIND, LANE, fn, {"run_dir": str(run), "resume": True}, key=f"{KIND}:{run.name}",
              title=f"Training {name} (resumed)")
    return job, control


def _job_fn(store: Any, control: TrainControl, resolver: RecipeResolver | None, available: tuple[str, ...],
            device: str | None) -> Callable[[Any, Any], FinetuneOutcome]:
    def fn(inputs: Any, ctx: Any) -> FinetuneOutcome:
        return _run(inputs, ctx, store=store, control=control, resolver=resolver, available=available,
                    device=device or ctx.device)

    return fn


def _run(inputs: Any, ctx: Any, *, store: Any, control: TrainControl, resolver: RecipeResolver | None,
         available: tuple[str, ...], device: str) -> FinetuneOutcome:
    from ganpaint.engine.models.cards import ModelCard
    from ganpaint.train import RECIPES, TrainError, drive, load_data, train

    run = Path(inputs["run_dir"])
    resume = bool(inputs["resume"])
    avail = {*RECIPES, *available}
    try:
        if resume:
            info = json.loads((run / "run.json").read_text())
            ft = json.loads((run / FINETUNE_INFO).read_text()) if (run / FINETUNE_INFO).is_file() else {}
            base_recipe = default_recipe(info["recipe"], resolver)
            opts = dict(info.get("config", {}))
            for k, v in opts.items():
                if isinstance(v, list):
                    opts[k] = tuple(v)
            recipe = replace(base_recipe, **opts)
            d = info.get("data", {})
            data = load_data(d["data"], d.get("data_b"), paired=d.get("paired"), reverse=bool(d.get("reverse")))
            steps, seed, bf16 = int(info["steps"]), int(info.get("seed", 0)), bool(info.get("bf16"))
            init, card_info = None, {k: info[k] for k in ("name", "title", "description", "licence", "tool") if k in info}
            card_info["extra"] = {"finetune": ft} if ft else {}
            sample_every, checkpoint_every = int(ft.get("sample_every", 10)), int(ft.get("checkpoint_every", 100))
            tool = str(info.get("tool", ""))
            base_ref = str(ft.get("base_model", ""))
            dir_opts = (ft.get("request") or {}).get("directions", {})
        else:
            req: FinetuneRequest = inputs["request"]
            fam = families()[req.family]
            values = req.resolved()
            recipe_id, recipe, base, _ = _new_run_recipe(req, store, resolver, avail)
            folders = [str(Path(f).expanduser()) for f in req.folders]
            run.mkdir(parents=True, exist_ok=True)
            if req.family == "sketch":
                pairs = _make_pairs(Path(folders[0]), run / PAIRS_DIR, lambda f, m: ctx.progress(0.0, m), ctx.cancelled)
                data = load_data(str(pairs / "A"), str(pairs / "B"), paired="names")
            elif recipe.data_kind == "paired":
                data = load_data(folders[0], folders[1], paired="names")
            elif recipe.data_kind == "unpaired":
                data = load_data(folders[0], folders[1])
            else:
                data = load_data(folders[0])
            init = None
            if base is not None:
                import safetensors.torch

                init = safetensors.torch.load_file(str(base.path))
            steps, seed, bf16 = int(values["steps"]), req.seed, req.bf16
            tool = (base.tool if base is not None and base.tool in fam.tools else fam.tools[0])
            if req.family == "sketch" and recipe_id == "pix2pix" and (base is None or base.tool != "sketch"):
                tool = "translate"  # a 3-channel line-art -> photo generator: the sketch tool wants hints too
            base_ref = base.ref if base is not None else ""
            pictures = data.describe()
            ft = {"family": req.family, "base_model": base_ref, "data_folders": folders, "preset": req.preset,
                  "pictures": pictures, "sample_every": req.sample_every, "checkpoint_every": req.checkpoint_every,
                  "request": {f.name: getattr(req, f.name) for f in fields(req)
                              if f.name not in ("options", "directions")}
                  | {"options": dict(req.options),
                     "directions": dict(req.directions) if req.directions is not None else None},
                  "stored": False}
            from ganpaint.core.atomic import atomic_write_text

            atomic_write_text(run / FINETUNE_INFO, json.dumps(ft, indent=1, default=str))
            desc = (f"fine-tuned from {base_ref} on your pictures in {', '.join(folders)}" if base_ref
                    else f"trained from scratch on your pictures in {', '.join(folders)}")
            card_info = {"name": req.name, "title": req.name, "description": desc, "tool": tool,
                         "extra": {"finetune": ft}}
            if base is not None and base.card.licence:
                card_info["licence"] = base.card.licence
            sample_every, checkpoint_every = req.sample_every, req.checkpoint_every
            dir_opts = dict(req.directions) if req.directions is not None else None
        train_args = dict(recipe=recipe, data=data, steps=steps, run_dir=run, resume=resume, seed=seed,
                          sample_every=sample_every, checkpoint_every=checkpoint_every, device=device, bf16=bf16,
                          init_weights=init, card_info=card_info)
        if getattr(ctx, "pool", None) is not None:  # the editor: the loop runs in a worker process
            from ganpaint.engine.jobs.workers import worker_generator

            # a pause or a job cancel (even while a step hangs) asks the loop for its checkpoint
            events = worker_generator("ganpaint.train.loop:train", train_args,
                                      cancel=lambda: control.pause_requested or ctx.cancelled(),
                                      what=f"training run {run.name}", grace_s=CANCEL_GRACE_S)
        else:
            events = train(**train_args, cancel=lambda: control.pause_requested)

        def on_event(ev: Any) -> None:
            control.record(ev)
            if ev.checkpoint is not None:
                _save_history(run, control, ev.step)
            rate = f"{ev.steps_per_s:.2f} steps/s" if ev.steps_per_s else ""
            msg = f"step {ev.step}/{ev.total} {ev.describe()} {rate}".strip()
            if ev.kind == "cancelled":
                msg = f"paused at step {ev.step}: resume it from Edit > Train"
            ctx.progress(ev.fraction, msg, control.grid if ev.samples else None)

        try:
            last = drive(events, on_event)
        except BaseException:
            _save_history(run, control, 10**12)
            raise
    except TrainError as exc:
        raise FinetuneError(str(exc)) from None
    except OSError as exc:
        raise FinetuneError(f"training run {run}: {exc.strerror or exc} (the last checkpoint is kept)") from None
    except Exception as exc:
        from ganpaint.engine.jobs.workers import WorkerJobError

        if not isinstance(exc, WorkerJobError):
            raise
        raise FinetuneError(str(exc)) from None  # the worker's failure: one sentence, the checkpoint kept
    if last is None:
        raise FinetuneError(f"training run {run} produced nothing")
    _save_history(run, control, last.step)
    if last.kind != "done":
        return FinetuneOutcome("paused", str(run), last.step, last.total, base_model=base_ref, tool=tool)
    result = last.result
    assert result is not None
    card_dict = dict(result.card)
    metric_name, metric = result.metric_name, result.metric
    if recipe.id == "stylegan2":
        try:
            metric_name, metric = "d_feature_fd", stylegan2_d_frechet(run, recipe, data, device)
            card_dict["metrics"] = {**dict(card_dict.get("metrics") or {}), metric_name: metric}
        except Exception as exc:  # noqa: BLE001 - the model is still worth storing
            card_dict["metrics"] = {**dict(card_dict.get("metrics") or {}), "d_feature_fd_error": str(exc)[:200]}
    try:
        card = ModelCard.from_dict(card_dict)
    except ValueError as exc:
        raise FinetuneError(f"the trained model's card is invalid: {exc}") from None
    entry = store.add(result.state_dict, card, str(card_info.get("name") or run.name))
    _update_info(run, stored=True, model=entry.ref)
    outcome = FinetuneOutcome("done", str(run), last.step, last.total, entry.ref, metric_name, metric, base_ref,
                              entry.tool)
    control.stored = outcome
    if recipe.id == "stylegan2" and dir_opts is not None:
        control.phase = "directions"
        names, error = recompute_directions(entry, ctx, run=run, root=getattr(store, "root", None),
                                            options=dir_opts)
        outcome = replace(outcome, directions=names, directions_error=error)
        control.stored = outcome
    control.phase = "done"
    return outcome


def recompute_directions(entry: Any, ctx: Any, *, run: Path | None = None,
                         root: str | os.PathLike[str] | None = None,
                         options: Mapping[str, Any] | None = None) -> tuple[tuple[str, ...], str]:
    """A stored StyleGAN2 model's slider directions, computed as `ganpaint directions compute`
    does and saved for its name (``root``: the store's folder). Progress goes to
    ``ctx.progress`` ("recomputing slider directions…"); a cancel (JobCancelled) propagates
    with nothing saved. Returns (direction names, "") or ((), the error): a failure never
    undoes the stored model."""
    from ganpaint.core.specs import JobCancelled
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import DirectionsError, compute_for_model

    try:
        ctx.progress(0.0, DIRECTIONS_MESSAGE)
        report = compute_for_model(entry, root=root, progress=lambda f, m: ctx.progress(f, f"{DIRECTIONS_MESSAGE} {m}"),
                                   **dict(options or {}))
    except JobCancelled:
        if run is not None:
            _update_info(run, directions={"error": "cancelled"})
        raise
    except Exception as exc:  # noqa: BLE001 - the model is stored; the message says what went wrong
        error = str(exc) if isinstance(exc, ModelFileError | DirectionsError) and str(exc) else (
            f"{type(exc).__name__}: {exc}".rstrip(": "))
        if run is not None:
            _update_info(run, directions={"error": error})
        return (), error
    if run is not None:
        _update_info(run, directions={"computed": list(report.names), "path": str(report.path),
                                      "generator_sha256": report.generator_sha256, "warnings": list(report.warnings)})
    return report.names, ""


def stylegan2_d_frechet(run: Path, recipe: Any, data: Any, device: str) -> float:
    """Frechet distance between the final discriminator's pooled conv features of held-out
    pictures and of as many generated ones (fixed latents, EMA generator, constant noise)."""
    import torch

    from ganpaint.train import load_checkpoint
    from ganpaint.train.attributes import frechet_distance

    ckpt = load_checkpoint(run)
    trainer = recipe.build(device)
    D, G = trainer.modules["D"], trainer.modules["G"]
    for module, prefix in ((D, "model/D/"), (G, "ema/G/" if any(k.startswith("ema/G/") for k in ckpt.tensors)
                                              else "model/G/")):
        module.load_state_dict({k[len(prefix):]: v for k, v in ckpt.tensors.items() if k.startswith(prefix)})
    real = data.holdout_batch(recipe.crop)["A"].to(device)
    n = real.shape[0]
    with torch.no_grad():
        D.eval()
        G.eval()
        z = torch.randn(n, G.style_dim, generator=torch.Generator().manual_seed(1234)).to(device)
        w = G.mapping(z)
        fake = G(w[:, None].expand(-1, G.n_styles, -1), "const")

        def feats(x: torch.Tensor) -> np.ndarray:
            return np.asarray(D.convs(x).float().mean(dim=(2, 3)).cpu().numpy(), np.float64)

        return float(frechet_distance(feats(real), feats(fake.clamp(-1, 1))))
