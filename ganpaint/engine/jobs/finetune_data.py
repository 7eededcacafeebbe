"""The data check of a fine-tune (``engine.jobs.finetune``): what a folder of pictures gives a
model family, before any training starts; and the run folders that can be resumed.
Pillow (and safetensors for checkpoint headers) only, no torch."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

FINETUNE_INFO = "finetune.json"  # in a run folder, beside the loop's run.json
LOSSES_FILE = "losses.json"  # the loss history of the plot
PAIRS_DIR = "pairs"  # sketch family: A = line art of the photo, B = the photo (inside the run folder)


@dataclass
class DataReport:
    usable: int = 0
    per_folder: list[tuple[str, int]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), skipped
    min_size: tuple[int, int] = (0, 0)
    max_size: tuple[int, int] = (0, 0)
    greyscale: int = 0
    transparent: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.usable > 0 and not self.errors

    def summary(self) -> str:
        lines = [f"{self.usable} usable picture(s)"
                 + (" (" + ", ".join(f"{Path(f).name or f}: {n}" for f, n in self.per_folder) + ")"
                    if len(self.per_folder) > 1 else "")]
        if self.usable:
            lines.append(f"sizes {self.min_size[0]}x{self.min_size[1]} to {self.max_size[0]}x{self.max_size[1]} px")
        if self.greyscale:
            lines.append(f"{self.greyscale} greyscale (used as colour pictures)")
        if self.transparent:
            lines.append(f"{self.transparent} with transparency (transparent areas become white)")
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} unreadable file(s), skipped:")
            lines += [f"  {p}: {r}" for p, r in self.unreadable[:20]]
            if len(self.unreadable) > 20:
                lines.append(f"  ... and {len(self.unreadable) - 20} more")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != PAIRS_DIR)
        out += [Path(dirpath) / n for n in sorted(filenames) if not n.startswith(".")]
    return out


def check_data(folders: Iterable[str | os.PathLike[str]], family: str, *, preset: str = "quick",
               size: int | None = None, cancelled: Callable[[], bool] | None = None) -> DataReport:
    """What the pictures in ``folders`` give for ``family``: usable count, unreadable files
    (listed; training skips them), sizes, greyscale/transparent counts, warnings, errors."""
    from PIL import Image

    from ganpaint.engine.jobs.finetune import FinetuneError, families, preset_values

    fam = families().get(family)
    if fam is None:
        raise FinetuneError(f"unknown model family {family!r}")
    folders = [str(f) for f in folders]
    rep = DataReport()
    if len(folders) != len(fam.folders) or any(not f for f in folders):
        rep.errors.append(f"{fam.title} needs {len(fam.folders)} folder(s): {', '.join(fam.folders)}")
        return rep
    mins, maxs = [10**9, 10**9], [0, 0]
    names: list[set[str]] = []
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            rep.errors.append(f"{root} does not exist or is not a folder")
            names.append(set())
            continue
        good: set[str] = set()
        for path in _walk(root):
            if cancelled is not None and cancelled():
                rep.errors.append("check cancelled")
                return rep
            try:
                with Image.open(path) as im:
                    w, h = im.size
                    mode = im.mode
                    has_alpha = "A" in im.getbands() or "transparency" in im.info
                    im.load()  # decode: a truncated file is unreadable here, not mid-training
            except Exception as exc:  # Pillow raises many types for bad files
                reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
                rep.unreadable.append((str(path), reason))
                continue
            good.add(path.relative_to(root).with_suffix("").as_posix())
            mins = [min(mins[0], w), min(mins[1], h)]
            maxs = [max(maxs[0], w), max(maxs[1], h)]
            rep.greyscale += mode in ("L", "LA", "1", "I", "I;16", "F")
            rep.transparent += bool(has_alpha)
        names.append(good)
        rep.per_folder.append((str(root), len(good)))
        if not good:
            rep.errors.append(f"no readable pictures in {root}")
    if family == "paired" and len(names) == 2:
        common = names[0] & names[1]
        rep.usable = len(common)
        if (names[0] or names[1]) and not common:
            rep.errors.append("no file names appear in both folders: pairs are matched by name")
        elif len(common) < max(len(names[0]), len(names[1])):
            rep.warnings.append(f"{len(names[0] ^ names[1])} picture(s) have no partner of the same name; they are left out")
    elif family == "unpaired" and len(names) == 2:
        rep.usable = min(len(names[0]), len(names[1]))
    else:
        rep.usable = sum(len(n) for n in names)
    if rep.per_folder and maxs[0]:
        rep.min_size, rep.max_size = (mins[0], mins[1]), (maxs[0], maxs[1])
    if rep.usable and not rep.errors:
        pv = preset_values(family, preset)
        crop = size or pv["size"]
        if rep.usable < pv["min_pictures"]:
            rep.warnings.append(f"only {rep.usable} pictures; the '{preset}' preset wants at least {pv['min_pictures']}")
        if rep.min_size != rep.max_size:
            rep.warnings.append(f"mixed sizes: every picture is scaled and cropped to {crop} px squares")
        if min(rep.min_size) < crop:
            rep.warnings.append(f"some pictures are smaller than the {crop} px training size; they are scaled up")
    return rep


# ------------------------------------------------------------------------------ runs


@dataclass(frozen=True)
class RunInfo:
    run_dir: str
    name: str
    recipe: str
    family: str
    step: int
    steps: int
    base_model: str = ""
    finished: bool = False

    @property
    def label(self) -> str:
        base = f" from {self.base_model}" if self.base_model else ""
        return f"{self.name} ({self.family or self.recipe}{base}): step {self.step} of {self.steps}"


def _runs_root(root: str | os.PathLike[str] | None) -> Path:
    if root is not None:
        return Path(root)
    from ganpaint.core.paths import runs_dir

    return runs_dir()


def checkpoint_step(run_dir: Path) -> int | None:
    """The step of a run's checkpoint from its metadata (no tensors read); None if absent/bad."""
    import safetensors

    path = run_dir / "checkpoint.safetensors"
    if not path.is_file():
        return None
    try:
        with safetensors.safe_open(str(path), "np") as f:
            meta = json.loads((f.metadata() or {}).get("ganpaint.checkpoint", "{}"))
        return int(meta["step"])
    except Exception:
        return None


def list_runs(root: str | os.PathLike[str] | None = None, *, include_finished: bool = False) -> list[RunInfo]:
    """Runs in the runs folder that can be resumed: a run.json and a checkpoint short of the
    run's steps (or a fine-tune whose result was never stored). Newest first."""
    out: list[tuple[float, RunInfo]] = []
    base = _runs_root(root)
    if not base.is_dir():
        return []
    for d in base.iterdir():
        info_path = d / "run.json"
        if not info_path.is_file():
            continue
        try:
            info = json.loads(info_path.read_text())
            ft = json.loads((d / FINETUNE_INFO).read_text()) if (d / FINETUNE_INFO).is_file() else {}
        except (OSError, ValueError):
            continue
        step = checkpoint_step(d)
        if step is None:
            continue
        steps = int(info.get("steps", 0))
        finished = bool(ft.get("stored")) or (not ft and step >= steps)
        if finished and not include_finished:
            continue
        run = RunInfo(str(d), str(info.get("name", d.name)), str(info.get("recipe", "")), str(ft.get("family", "")),
                      step, steps, str(ft.get("base_model", "")), finished)
        out.append(((d / "checkpoint.safetensors").stat().st_mtime, run))
    return [r for _, r in sorted(out, key=lambda t: -t[0])]


def load_history(run_dir: str | os.PathLike[str]) -> list[tuple[int, dict[str, float]]]:
    try:
        raw = json.loads((Path(run_dir) / LOSSES_FILE).read_text())
        return [(int(s), {k: float(v) for k, v in d.items()}) for s, d in raw]
    except (OSError, ValueError, TypeError):
        return []
