"""Build a model from its card and load its weights, without random initialisation.

Modules are built on the ``meta`` device (no memory, no init kernels), then the stored
tensors are attached with ``load_state_dict(assign=True)``. Loading a full-width ResNet-9
this way costs the file read only.

Architectures are looked up in an explicit table; plugins add theirs with
:func:`register_architecture` (a builder ``config dict -> nn.Module``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganpaint.engine.models.cards import ModelCard, ModelFileError, card_of_file
from ganpaint.nn.resnet_generator import ResnetConfig, ResnetGenerator
from ganpaint.nn.unet_generator import UnetConfig, UnetGenerator

__all__ = [
    "build_model",
    "component_state_dict",
    "load_model",
    "read_card",
    "register_architecture",
]

Builder = Callable[[dict[str, Any]], nn.Module]

def _build_stylegan3(cfg: dict[str, Any]) -> nn.Module:
    from ganpaint.nn.stylegan3 import build_generator

    return build_generator(cfg)


_lock = threading.Lock()
_ARCHITECTURES: dict[str, Builder] = {
    "resnet_generator": lambda cfg: ResnetGenerator(ResnetConfig.from_dict(cfg)),
    "unet_generator": lambda cfg: UnetGenerator(UnetConfig.from_dict(cfg)),
    # NVIDIA StyleGAN3 generators (configs T and R), imported from their pickles (engine.models.nvlabs_convert)
    "stylegan3": _build_stylegan3,
}


def register_architecture(name: str, builder: Builder) -> None:
    """Make ``name`` loadable: ``builder(config)`` returns the module (any device, it is rebuilt on meta)."""
    with _lock:
        _ARCHITECTURES[name] = builder


def architectures() -> tuple[str, ...]:
    return tuple(sorted(_ARCHITECTURES))


def build_model(architecture: str, config: Mapping[str, Any], *, device: str | torch.device = "cpu") -> nn.Module:
    """A module of ``architecture`` with ``config``; on ``"meta"`` it has no storage."""
    builder = _ARCHITECTURES.get(architecture)
    if builder is None:
        raise ModelFileError(
            f"unknown architecture {architecture!r} (known: {', '.join(architectures())}); "
            "is the plugin that provides it installed?"
        )
    try:
        with torch.device(device):
            return builder(dict(config))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"bad options for {architecture}: {exc}") from None


def read_card(path: str | os.PathLike[str]) -> ModelCard:
    """The card of a model file (embedded metadata, else the ``.card.json`` beside it)."""
    return card_of_file(path)


def component_state_dict(tensors: Mapping[str, torch.Tensor], card: ModelCard, component: str | None) -> dict[str, torch.Tensor]:
    """The tensors of one component, with its ``"<component>."`` prefix removed."""
    if not card.components:
        return dict(tensors)
    comp = component or card.components[0]
    if comp not in card.components:
        raise ModelFileError(
            f"model {card.name or '?'} has no {comp!r} network (it has {', '.join(card.components)})"
        )
    prefix = comp + "."
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_model(
    path: str | os.PathLike[str],
    *,
    component: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    card: ModelCard | None = None,
) -> nn.Module:
    """Load one network of a GANPaint model file (safetensors + card), ready for inference (eval mode).

    ``component`` picks a direction of a CycleGAN pair ("forward"/"reverse"); None = the first.
    The returned module has ``.card`` and ``.component`` attributes.
    """
    from safetensors import SafetensorError, safe_open

    from ganpaint.engine.models.checkpoints import check_keys

    p = Path(path)
    card = card or read_card(p)
    wanted = component or (card.components[0] if card.components else None)
    try:
        with safe_open(str(p), framework="pt", device="cpu") as f:
            names = list(f.keys())
            prefix = f"{wanted}." if card.components else ""
            if card.components and wanted not in card.components:
                raise ModelFileError(
                    f"{p}: model {card.name or p.stem} has no {wanted!r} network "
                    f"(it has {', '.join(card.components)})",
                    path=p,
                )
            sd = {k[len(prefix) :]: f.get_tensor(k) for k in names if k.startswith(prefix)}
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"{p}: cannot read the weights ({exc})", path=p) from None
    model = build_model(card.architecture, card.config, device="meta")
    check_keys(model, sd, path=p)
    model.load_state_dict(sd, strict=True, assign=True)
    leftovers = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if leftovers:
        # a buffer the builder makes but the file does not store (non-persistent): cannot be assigned
        raise ModelFileError(f"{p}: {card.architecture} has tensors the file cannot fill: {', '.join(leftovers[:4])}")
    model = model.to(device=device)
    if dtype is not None:
        model = model.to(dtype=dtype)
    model.eval()
    model.requires_grad_(False)
    model.card = card  # type: ignore[assignment]
    model.component = wanted  # type: ignore[assignment]
    return model
