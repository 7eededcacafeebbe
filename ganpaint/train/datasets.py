"""Training data from folders of pictures.

* ``load_data(data)``                       one domain (A only)
* ``load_data(data, data_b)``               unpaired A and B (CycleGAN)
* ``load_data(data, data_b, paired="names")`` pairs by file name (``x.png`` in A with ``x.jpg`` in B)
* ``load_data(data, paired="ab")``          the reference's side-by-side AB pictures (A left)

Folders are read recursively; files that are not readable pictures are skipped and
counted, never fatal; a folder with no readable picture is a :class:`TrainError`
naming it. Which picture lands at which step, and how it is augmented, depends only
on (seed, step), so a resumed run sees exactly the batches the uninterrupted run saw.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image

from ganpaint.train import augment
from ganpaint.train.events import TrainError

PairMode = Literal["names", "ab"] | None

#: Held-out pictures for the final metric: one in ten, at most this many.
HOLDOUT_MAX = 32


@dataclass
class FolderScan:
    """The readable pictures under ``folder`` and the files skipped (path, reason)."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def scan_folder(folder: str | os.PathLike[str]) -> FolderScan:
    """List the readable pictures under ``folder`` (recursive, sorted).

    A file counts as readable when Pillow recognises and verifies it; hidden files
    are ignored. Raises :class:`TrainError` when the folder is missing or holds no
    readable picture.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise TrainError(f"data folder {root} does not exist or is not a folder")
    scan = FolderScan(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = Path(dirpath) / name
            reason = _check_picture(p)
            if reason is None:
                scan.files.append(p)
            else:
                scan.skipped.append((p, reason))
    if not scan.files:
        detail = ""
        if scan.skipped:
            shown = "; ".join(f"{p.name}: {r}" for p, r in scan.skipped[:3])
            detail = f" ({len(scan.skipped)} files skipped: {shown})"
        raise TrainError(f"no readable pictures in {root}{detail}")
    return scan


def _check_picture(path: Path) -> str | None:
    try:
        with Image.open(path) as im:
            im.verify()
    except Exception as exc:  # Pillow raises many types for bad files
        return _short(exc)
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


class _ImageCache:
    """Decoded RGB pictures, least recently used dropped beyond ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.items: OrderedDict[Path, Image.Image] = OrderedDict()

    def get(self, path: Path) -> Image.Image:
        im = self.items.get(path)
        if im is not None:
            self.items.move_to_end(path)
            return im
        with Image.open(path) as src:
            im = src.convert("RGB")
            im.load()
        size = im.width * im.height * 3
        if size <= self.budget:
            self.items[path] = im
            self.used += size
            while self.used > self.budget:
                _, old = self.items.popitem(last=False)
                self.used -= old.width * old.height * 3
        return im


@lru_cache(maxsize=64)
def _permutation(seed: int, stream: int, epoch: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, stream, epoch]).permutation(n)


def _pick(seed: int, stream: int, position: int, indices: tuple[int, ...]) -> int:
    """The item at ``position`` of an endless, per-epoch shuffled walk over ``indices``."""
    n = len(indices)
    epoch, i = divmod(position, n)
    return indices[int(_permutation(seed, stream, epoch, n)[i])]


class FolderData:
    """Pictures for a recipe. Use :func:`load_data` to build one.

    ``batch(step, size, aug, seed)`` returns ``{"A": (B,3,H,W), "B": ...}`` float32
    tensors in [-1, 1] (``"B"`` absent for one-domain data). ``holdout_batch``
    returns the held-out pictures (centre crops) for the final metric.
    """

    def __init__(
        self,
        mode: Literal["single", "unpaired", "names", "ab"],
        folders: list[Path],
        a_items: list[Path],
        b_items: list[Path],
        skipped: list[tuple[Path, str]],
        unmatched: int = 0,
        reverse: bool = False,
        cache_bytes: int = 1 << 30,
    ) -> None:
        self.mode = mode
        self.folders = folders
        self.a_items = a_items
        self.b_items = b_items  # for "names": b_items[i] pairs with a_items[i]
        self.skipped = skipped
        self.unmatched = unmatched
        self.reverse = reverse  # swap A and B (the reference's --direction BtoA)
        self.load_failures: list[tuple[Path, str]] = []
        self._cache = _ImageCache(cache_bytes)
        #: how load_data was called (recorded in run.json so a run can be resumed)
        self.load_args: dict[str, Any] = {}
        self.a_train, self.a_holdout = _split(len(a_items))
        if mode == "unpaired":
            self.b_train, self.b_holdout = _split(len(b_items))
        else:
            self.b_train, self.b_holdout = self.a_train, self.a_holdout

    # -- facts -----------------------------------------------------------------------------
    @property
    def paired(self) -> bool:
        return self.mode in ("names", "ab")

    @property
    def has_b(self) -> bool:
        return self.mode != "single"

    def describe(self) -> dict[str, Any]:
        """What a model card records about the data."""
        d: dict[str, Any] = {
            "mode": self.mode,
            "folders": [str(f) for f in self.folders],
            "a_pictures": len(self.a_items),
            "skipped": len(self.skipped),
            "holdout": len(self.a_holdout),
        }
        if self.mode == "unpaired":
            d["b_pictures"] = len(self.b_items)
            d["holdout_b"] = len(self.b_holdout)
        if self.paired:
            d["pairs"] = len(self.a_items)
        if self.mode == "names":
            d["unmatched"] = self.unmatched
        if self.reverse:
            d["direction"] = "BtoA"
        return d

    def args(self) -> dict[str, Any]:
        return dict(self.load_args)

    # -- loading ---------------------------------------------------------------------------
    def _load(self, path: Path) -> Image.Image:
        return self._cache.get(path)

    def _views(self, idx_a: int, idx_b: int) -> tuple[Image.Image, Image.Image | None]:
        if self.mode == "ab":
            ab = self._load(self.a_items[idx_a])
            half = ab.width // 2
            a = ab.crop((0, 0, half, ab.height))
            b: Image.Image | None = ab.crop((half, 0, 2 * half, ab.height))
        else:
            a = self._load(self.a_items[idx_a])
            b = self._load(self.b_items[idx_b]) if self.has_b else None
        if b is not None and self.paired and b.size != a.size:
            b = b.resize(a.size, Image.Resampling.BICUBIC)
        if self.reverse and b is not None:
            a, b = b, a
        return a, b

    def _sample(
        self, idx_a: int, idx_b: int, d: augment.Draw, db: augment.Draw, crop: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        a, b = self._views(idx_a, idx_b)
        # paired pictures share one draw; unpaired domains get their own
        xa = augment.to_array(augment.apply(a, d, crop))
        xb = augment.to_array(augment.apply(b, d if self.paired else db, crop)) if b is not None else None
        return xa, xb

    def batch(self, step: int, size: int, aug: augment.Augment, seed: int,
              indices: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
        """The training batch of ``step``: a pure function of (seed, step, size, aug).
        ``indices``: only these pictures of it (a process's share of a multi-process run),
        each the same as in the whole batch."""
        xs_a: list[np.ndarray] = []
        xs_b: list[np.ndarray] = []
        for i in range(size) if indices is None else indices:
            pos = step * size + i
            rng = np.random.default_rng([seed, 7, step, i])
            d = augment.draw(aug, rng)
            db = augment.draw(aug, rng)
            xa, xb = self._fetch(seed, pos, d, db, aug)
            xs_a.append(xa)
            if xb is not None:
                xs_b.append(xb)
        out = {"A": torch.from_numpy(np.stack(xs_a))}
        if xs_b:
            out["B"] = torch.from_numpy(np.stack(xs_b))
        return out

    def _fetch(
        self, seed: int, pos: int, d: augment.Draw, db: augment.Draw, aug: augment.Augment
    ) -> tuple[np.ndarray, np.ndarray | None]:
        # A picture that decoded at scan time but fails now (truncated data Pillow's
        # verify did not catch) is skipped, counted, and the walk moves on.
        for attempt in range(len(self.a_train) + 1):
            ia = _pick(seed, 0, pos + attempt * 7919, self.a_train)
            ib = _pick(seed, 1, pos + attempt * 7919, self.b_train) if self.mode == "unpaired" else ia
            try:
                return self._sample(ia, ib, d, db, aug.crop)
            except (OSError, ValueError, SyntaxError) as exc:
                bad = self.a_items[ia]
                if all(p != bad for p, _ in self.load_failures):
                    self.load_failures.append((bad, _short(exc)))
        raise TrainError(f"no picture of {self.folders[0]} could be decoded")

    def holdout_batch(self, crop: int, limit: int = HOLDOUT_MAX) -> dict[str, torch.Tensor]:
        """Centre crops of the held-out pictures (the training ones when none are held out)."""
        a_idx = self.a_holdout or self.a_train[:limit]
        b_idx = self.b_holdout or self.b_train[:limit]
        d = augment.centre_draw(crop)
        xs_a, xs_b = [], []
        n = min(limit, max(len(a_idx), len(b_idx) if self.mode == "unpaired" else 0))
        for k in range(n):
            ia = a_idx[k % len(a_idx)]
            ib = b_idx[k % len(b_idx)] if self.mode == "unpaired" else ia
            try:
                a, b = self._views(ia, ib)
            except (OSError, ValueError, SyntaxError):
                continue
            xs_a.append(augment.to_array(augment.apply(a, d, crop)))
            if b is not None:
                xs_b.append(augment.to_array(augment.apply(b, d, crop)))
        if not xs_a:
            return {}
        out = {"A": torch.from_numpy(np.stack(xs_a))}
        if xs_b:
            out["B"] = torch.from_numpy(np.stack(xs_b))
        return out

    @property
    def holdout_is_separate(self) -> bool:
        return bool(self.a_holdout)


def _split(n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(training indices, held-out indices): one in ten held out (at most
    HOLDOUT_MAX) once there are at least 10 pictures; evenly spaced, so the
    split does not depend on the seed."""
    h = min(HOLDOUT_MAX, n // 10) if n >= 10 else 0
    if h == 0:
        return tuple(range(n)), ()
    stride = n // h
    held = {k * stride + stride // 2 for k in range(h)}
    return tuple(i for i in range(n) if i not in held), tuple(sorted(held))


def _key(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return str(rel.with_suffix("")).replace(os.sep, "/")


def load_data(
    data: str | os.PathLike[str],
    data_b: str | os.PathLike[str] | None = None,
    *,
    paired: PairMode = None,
    reverse: bool = False,
) -> FolderData:
    """Scan the folders and build a :class:`FolderData` (see the module docstring)."""
    fd = _load_data(data, data_b, paired=paired, reverse=reverse)
    fd.load_args = {
        "data": str(Path(data).expanduser().resolve()),
        "data_b": None if data_b is None else str(Path(data_b).expanduser().resolve()),
        "paired": paired,
        "reverse": reverse,
    }
    return fd


def _load_data(
    data: str | os.PathLike[str],
    data_b: str | os.PathLike[str] | None,
    *,
    paired: PairMode,
    reverse: bool,
) -> FolderData:
    if paired not in (None, "names", "ab"):
        raise TrainError(f"paired must be 'names' or 'ab', got {paired!r}")
    scan_a = scan_folder(data)
    if paired == "ab":
        if data_b is not None:
            raise TrainError("--paired ab reads side-by-side pictures from --data only; drop --data-b")
        narrow = [p for p in scan_a.files if _too_narrow(p)]
        if narrow and len(narrow) == len(scan_a.files):
            raise TrainError(f"pictures in {scan_a.folder} are too narrow to be side-by-side AB pairs")
        return FolderData("ab", [scan_a.folder], scan_a.files, [], scan_a.skipped, reverse=reverse)
    if data_b is None:
        if paired == "names":
            raise TrainError("paired data needs --data-b (pictures of the same names)")
        return FolderData("single", [scan_a.folder], scan_a.files, [], scan_a.skipped)
    scan_b = scan_folder(data_b)
    skipped = scan_a.skipped + scan_b.skipped
    if paired == "names":
        by_name = {_key(p, scan_b.folder): p for p in scan_b.files}
        a_items, b_items = [], []
        for p in scan_a.files:
            q = by_name.get(_key(p, scan_a.folder))
            if q is not None:
                a_items.append(p)
                b_items.append(q)
        if not a_items:
            raise TrainError(f"no file in {scan_a.folder} has a partner of the same name in {scan_b.folder}")
        unmatched = len(scan_a.files) + len(scan_b.files) - 2 * len(a_items)
        return FolderData(
            "names", [scan_a.folder, scan_b.folder], a_items, b_items, skipped, unmatched, reverse=reverse
        )
    return FolderData("unpaired", [scan_a.folder, scan_b.folder], scan_a.files, scan_b.files, skipped)


def _too_narrow(path: Path) -> bool:
    try:
        with Image.open(path) as im:
            return bool(im.width < 2 * 4)
    except Exception:
        return True
