"""Checkpoints of a training run: one safetensors file, written atomically.

Everything needed to continue bit-for-bit lives in ``run_dir/checkpoint.safetensors``:

* tensors: ``model/<name>/<key>``, ``ema/<name>/<key>``, the optimisers' per-parameter
  state flattened as ``optim/<name>/<param index>/<field>``, the recipe's extra state
  (``extra/<key>``, the CycleGAN image pools), and the torch RNG state ``rng/torch``
  (``rng/cuda/<i>`` on CUDA) and numpy's Mersenne-Twister key ``rng/numpy``;
* JSON in the safetensors metadata (key ``ganpaint.checkpoint``): step, seed, sampler
  position, optimiser hyper-parameters, non-tensor optimiser state, python's and
  numpy's remaining RNG fields, the recipe config and anything the loop adds.

No pickle anywhere. The file is written beside (``.tmp``), flushed to disk, then
moved over the old one with ``os.replace``: if writing fails, the previous
checkpoint is untouched and still loads.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import safetensors
import safetensors.torch
import torch

from ganpaint.train.events import TrainError

CHECKPOINT_NAME = "checkpoint.safetensors"
META_KEY = "ganpaint.checkpoint"
FORMAT = 1


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    @property
    def step(self) -> int:
        return int(self.meta["step"])

    def module_state(self, prefix: str, name: str) -> dict[str, torch.Tensor]:
        head = f"{prefix}/{name}/"
        return {k[len(head) :]: v for k, v in self.tensors.items() if k.startswith(head)}

    def extra(self) -> dict[str, torch.Tensor]:
        return {k[len("extra/") :]: v for k, v in self.tensors.items() if k.startswith("extra/")}


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def _write_all(f: IO[bytes], data: bytes) -> None:
    """The one place bytes hit the disk (tests replace it to simulate a full disk)."""
    f.write(data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either the old or the new file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json_atomic(path: Path, obj: Any) -> None:
    write_atomic(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def _own(t: torch.Tensor) -> torch.Tensor:
    # safetensors refuses shared storage; a detached CPU copy is always safe
    return t.detach().to("cpu", copy=True).contiguous()


def _flatten_optimizer(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for idx, fields in sd["state"].items():
        for field, value in fields.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{name}/{idx}/{field}"] = _own(value)
            else:
                plain.setdefault(str(idx), {})[field] = value
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain}


def capture_rng(device: str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The global RNG states (torch, numpy, python) as tensors + JSON."""
    tensors = {"rng/torch": torch.get_rng_state().clone()}
    if device.startswith("cuda") and torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = s.clone()
    kind, key, pos, has_gauss, gauss = np.random.get_state()
    tensors["rng/numpy"] = torch.from_numpy(np.asarray(key, dtype=np.int64))
    py_version, py_state, py_gauss = random.getstate()
    info = {
        "numpy": {"kind": kind, "pos": int(pos), "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
    }
    return tensors, info


def restore_rng(ckpt: Checkpoint) -> None:
    torch.set_rng_state(ckpt.tensors["rng/torch"])
    cuda = [ckpt.tensors[k] for k in sorted(ckpt.tensors) if k.startswith("rng/cuda/")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    info = ckpt.meta["rng"]
    n = info["numpy"]
    key = ckpt.tensors["rng/numpy"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], key, n["pos"], n["has_gauss"], n["gauss"]))
    p = info["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def save_checkpoint(
    run_dir: str | os.PathLike[str],
    *,
    step: int,
    modules: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    ema: Mapping[str, torch.nn.Module] | None = None,
    extra: Mapping[str, torch.Tensor] | None = None,
    meta: Mapping[str, Any] | None = None,
    device: str = "cpu",
) -> Path:
    """Write the run's state at ``step`` to ``run_dir/checkpoint.safetensors`` atomically."""
    tensors: dict[str, torch.Tensor] = {}
    for name, mod in modules.items():
        for k, v in mod.state_dict().items():
            tensors[f"model/{name}/{k}"] = _own(v)
    for name, mod in (ema or {}).items():
        for k, v in mod.state_dict().items():
            tensors[f"ema/{name}/{k}"] = _own(v)
    optim_json: dict[str, Any] = {}
    for name, opt in optimizers.items():
        t, j = _flatten_optimizer(name, opt)
        tensors.update(t)
        optim_json[name] = j
    for k, v in (extra or {}).items():
        tensors[f"extra/{k}"] = _own(v)
    rng_t, rng_j = capture_rng(device)
    tensors.update(rng_t)
    info = dict(meta or {})
    info.update({"format": FORMAT, "step": int(step), "optimizers": optim_json, "rng": rng_j})
    data = safetensors.torch.save(tensors, metadata={META_KEY: json.dumps(info)})
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / CHECKPOINT_NAME
    write_atomic(path, data)
    return path


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def checkpoint_path(run: str | os.PathLike[str]) -> Path:
    p = Path(run)
    return p / CHECKPOINT_NAME if p.is_dir() else p


def load_checkpoint(run: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint (a run folder or the file). Raises :class:`TrainError`
    with the path when it is missing, truncated or not ours."""
    path = checkpoint_path(run)
    if not path.is_file():
        raise TrainError(f"no checkpoint at {path}")
    try:
        with safetensors.safe_open(str(path), "pt") as f:
            meta_text = (f.metadata() or {}).get(META_KEY)
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise TrainError(f"checkpoint {path} is damaged or not a safetensors file ({exc})") from None
    if meta_text is None:
        raise TrainError(f"{path} is not a GANPaint training checkpoint")
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as exc:
        raise TrainError(f"checkpoint {path} has unreadable metadata ({exc})") from None
    if meta.get("format") != FORMAT:
        raise TrainError(f"checkpoint {path} has format {meta.get('format')!r}, expected {FORMAT}")
    return Checkpoint(path, meta, tensors)


def restore_state(
    ckpt: Checkpoint,
    *,
    modules: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    ema: Mapping[str, torch.nn.Module] | None = None,
) -> None:
    """Load weights, EMA and optimiser state from ``ckpt`` into the live objects."""
    try:
        for name, mod in modules.items():
            mod.load_state_dict(ckpt.module_state("model", name), strict=True)
        for name, mod in (ema or {}).items():
            mod.load_state_dict(ckpt.module_state("ema", name), strict=True)
        for name, opt in optimizers.items():
            info = ckpt.meta["optimizers"][name]
            state: dict[int, dict[str, Any]] = {}
            head = f"optim/{name}/"
            for k, v in ckpt.tensors.items():
                if k.startswith(head):
                    idx, field = k[len(head) :].split("/", 1)
                    state.setdefault(int(idx), {})[field] = v
            for idx, fields in info["plain_state"].items():
                state.setdefault(int(idx), {}).update(fields)
            opt.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    except (KeyError, RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TrainError(f"checkpoint {ckpt.path} does not fit this recipe: {first}") from None
