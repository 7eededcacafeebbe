"""Training on several processes (GPUs, machines) with torch.distributed.

``torchrun --nproc_per_node=N -m ganpaint train RECIPE ...`` starts N copies of the command
line; each reads torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT),
joins one process group (nccl on CUDA, gloo on CPU) and trains its share of every batch:

* ``--batch`` is the global batch; process ``r`` of ``W`` takes the pictures ``r, r+W, ...``
  of it (the DistributedSampler's split), and every random draw of a picture is keyed by
  (seed, step, global index) (ganpaint.train.draws), so losses and weights do not depend on W
  (where nothing depends on batch statistics or image pools);
* the models are wrapped in DistributedDataParallel (:class:`GanDDP`), which averages the
  gradients; batch norm becomes SyncBatchNorm on CUDA;
* after every step the processes agree (one all_reduce) on the mean losses, on whether one
  of them was asked to stop (SIGINT/SIGTERM to any rank) and on whether a checkpoint is due;
* only rank 0 writes checkpoints, run.json, samples and the result model, between barriers.
  A checkpoint has no trace of W, so a run resumes under any number of processes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as td
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ganpaint.train.events import TrainError


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a multi-process run (rank 0 of 1 = a plain run)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = DistContext()


def env_context(environ: Mapping[str, str] | None = None) -> DistContext:
    """The rank, world size and local rank torchrun put in the environment (a plain run
    when WORLD_SIZE is unset)."""
    env = os.environ if environ is None else environ
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise TrainError(f"torchrun's environment is not understood ({exc})") from None
    if world < 1 or not 0 <= rank < world:
        raise TrainError(f"rank {rank} of world size {world} is not a valid process number")
    return DistContext(rank=rank, world=world, local_rank=local)


def launched_by_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return "TORCHELASTIC_RUN_ID" in env or ("WORLD_SIZE" in env and "RANK" in env)


def backend_for(device: str) -> str:
    """nccl for CUDA devices, gloo for the CPU."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def process_device(device: str, ctx: DistContext) -> str:
    """The device of this process: ``cuda`` becomes ``cuda:<local rank>``; others stay."""
    if torch.device(device).type == "cuda" and ctx.enabled:
        return f"cuda:{ctx.local_rank}"
    return device


def init(device: str, ctx: DistContext | None = None) -> tuple[DistContext, str]:
    """Join the process group torchrun describes (env://); returns (context, this process's
    device). A plain run (WORLD_SIZE 1 or unset) joins nothing."""
    ctx = env_context() if ctx is None else ctx
    if not ctx.enabled:
        return ctx, device
    device = process_device(device, ctx)
    if torch.device(device).type == "cuda":
        torch.cuda.set_device(torch.device(device))
    if not td.is_initialized():
        td.init_process_group(backend=backend_for(device))
    return ctx, device


def shutdown() -> None:
    if td.is_available() and td.is_initialized():
        td.destroy_process_group()


def shard(batch: int, ctx: DistContext) -> tuple[int, ...]:
    """The global indices of the pictures of a ``batch`` this process trains on."""
    if batch % ctx.world:
        raise TrainError(f"the batch ({batch}) must be a multiple of the number of processes ({ctx.world})")
    return tuple(range(ctx.rank, batch, ctx.world))


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        td.barrier()


def _comm_device(device: str) -> torch.device:
    d = torch.device(device)
    return d if d.type == "cuda" else torch.device("cpu")


def agree(ctx: DistContext, device: str, *, stop: bool, save: bool,
          losses: Mapping[str, float]) -> tuple[bool, bool, dict[str, float]]:
    """One all_reduce: (anyone asked to stop, anyone wants a checkpoint, the mean losses)."""
    if not ctx.enabled:
        return stop, save, dict(losses)
    keys = sorted(losses)
    t = torch.tensor([float(stop), float(save), *(float(losses[k]) for k in keys)], dtype=torch.float64,
                     device=_comm_device(device))
    td.all_reduce(t)
    vals = t.cpu().tolist()
    mean = {k: vals[2 + i] / ctx.world for i, k in enumerate(keys)}
    return vals[0] > 0, vals[1] > 0, {k: mean[k] for k in losses}


def broadcast_object(ctx: DistContext, obj: Any) -> Any:
    """Rank 0's ``obj`` on every process (for small things: run.json, checkpoint bytes)."""
    if not ctx.enabled:
        return obj
    box = [obj if ctx.is_main else None]
    td.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_file(ctx: DistContext, path: os.PathLike[str] | str) -> bytes | None:
    """The bytes of rank 0's file on every process (None when rank 0 has none): machines
    that do not share the run folder still resume from rank 0's checkpoint."""
    data = None
    if ctx.is_main:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = None
    return broadcast_object(ctx, data)


# --------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------


class GanDDP(DistributedDataParallel):
    """DistributedDataParallel for GAN trainers, which call their models in ways plain DDP
    does not expect:

    * a model whose parameters are all frozen (the discriminator during the generator's
      update, set_requires_grad False) or that runs under no_grad is called directly: DDP
      would otherwise wait for gradients that never come and fail at the next step;
    * attributes DDP lacks (``G.mapping``, ``G.n_styles``) are the wrapped model's.
    """

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not torch.is_grad_enabled() or not any(p.requires_grad for p in self.module.parameters()):
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)


def wrap_trainer(trainer: Any, ctx: DistContext, device: str) -> list[str]:
    """Wrap the trainer's models in :class:`GanDDP` (SyncBatchNorm first, on CUDA): every
    attribute of the trainer that is one of ``trainer.modules`` (with trainable parameters)
    is replaced by its wrapper; ``trainer.modules`` and ``ema_sources`` keep the plain
    models (checkpoints, EMA and exports see the same names as in a plain run). Returns
    the wrapped attribute names."""
    if not ctx.enabled:
        return []
    cuda = torch.device(device).type == "cuda"
    plain = {id(m): m for m in trainer.modules.values()}
    wrapped: dict[int, GanDDP] = {}
    names = []
    for attr, value in list(vars(trainer).items()):
        if not isinstance(value, nn.Module) or id(value) not in plain:
            continue
        if not any(p.requires_grad for p in value.parameters()):
            continue
        if id(value) not in wrapped:
            if cuda:
                converted = nn.SyncBatchNorm.convert_sync_batchnorm(value)
                if converted is not value:  # only when the model itself is a batch norm
                    raise TrainError("a model that is a single batch-norm layer cannot be trained on several GPUs")
            wrapped[id(value)] = GanDDP(value, device_ids=[torch.device(device).index] if cuda else None)
        setattr(trainer, attr, wrapped[id(value)])
        names.append(attr)
    return names


def checkpoint_bytes_to_file(data: bytes, folder: os.PathLike[str] | str) -> str:
    """Write broadcast checkpoint bytes to ``folder`` (a private temporary folder) and return the path."""
    path = os.path.join(os.fspath(folder), "checkpoint.safetensors")
    with open(path, "wb") as f:
        f.write(data)
    return path


def reseed_for_rank(seed: int, step: int, ctx: DistContext) -> None:
    """Ranks other than 0 draw their own dropout masks (and image-pool choices) from torch's
    global RNG; rank 0 keeps the plain run's state."""
    if ctx.enabled and not ctx.is_main:
        from ganpaint.train.draws import draw_key

        torch.manual_seed(draw_key(seed, step, ctx.rank, 0xD15C))

