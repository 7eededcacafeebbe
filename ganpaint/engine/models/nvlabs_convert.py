"""NVIDIA StyleGAN2-ADA / StyleGAN3 generators -> GANPaint models.

:func:`import_pickle` reads a snapshot with the restricted unpickler of
:mod:`ganpaint.engine.models.nvlabs_pickle` (nothing in the file runs) and converts its ``G_ema``:

* StyleGAN2-ADA (``stylegan2-ada-pytorch``, or ``networks_stylegan2`` of the stylegan3
  repository) onto GANPaint's StyleGAN2 (rosinality's key layout, architecture
  ``"stylegan2"``): mapping ``fc{i}`` -> ``style.{i+1}`` (same equalised-lr scaling, the
  ``lr_multiplier`` kept as ``lr_mlp``), ``b4.const`` -> ``input.input``, each block's
  ``conv0``/``conv1``/``torgb`` -> ``convs``/``conv1``/``to_rgbs`` (affine -> modulation,
  ``noise_strength`` -> noise weight, ``noise_const`` -> ``noises.noise_N``), ``conv_clamp`` kept,
  ``mapping.w_avg`` -> ``latent_avg``. Only the ``skip`` architecture with the [1, 3, 3, 1]
  filter, 3 colour channels and z size = w size fits; anything else is refused with the reason.
* StyleGAN3 (configs T and R) onto :mod:`ganpaint.nn.stylegan3` (architecture
  ``"stylegan3"``): the tensors keep NVlabs' names; the layer geometry rebuilt from the config
  is checked against what the pickle recorded for every layer.

Conditional generators (``c_dim > 0``) are refused. The card names the source file and its
sha256, the embedded sources' sha256 and, when that source carries NVIDIA's copyright, the
NVIDIA Source Code License-NC with ``extra["non_commercial"] = True``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganpaint.engine.models.cards import ModelCard, ModelFileError
from ganpaint.engine.models.nvlabs_pickle import NVlabsNetwork, PersistentStub, read_generator

__all__ = [
    "NVIDIA_NC_LICENCE",
    "import_pickle",
    "is_nvlabs_pickle",
    "stylegan2_from_nvlabs",
    "stylegan3_from_nvlabs",
]

#: SPDX-style reference for the licence of NVIDIA's StyleGAN2-ADA / StyleGAN3 code and models
NVIDIA_NC_LICENCE = "LicenseRef-NVIDIA-Source-Code-License-NC"
NVIDIA_NC_NOTE = ("NVIDIA Source Code License-NC: non-commercial use only (research and evaluation); "
                  "the pickle embeds NVIDIA's network source under this licence")
_BLUR = torch.tensor([1.0, 3.0, 3.0, 1.0])
SG3_COMPONENT = "g_ema"


def is_nvlabs_pickle(path: str | os.PathLike[str]) -> bool:
    """A ``.pkl``, or a pickle stream naming NVlabs' ``torch_utils`` / ``dnnlib`` (bytes only)."""
    from ganpaint.engine.models.stylegan_import import sniff

    return sniff(path) == "nvidia"


# ---------------------------------------------------------------------------------------------
# StyleGAN2-ADA -> ganpaint.nn.stylegan2
# ---------------------------------------------------------------------------------------------
def _synthesis_kwargs(net: NVlabsNetwork) -> dict[str, Any]:
    kw = dict(net.init_kwargs)
    nested = kw.get("synthesis_kwargs")
    if isinstance(nested, Mapping):  # stylegan2-ada-pytorch: Generator(..., synthesis_kwargs={})
        return dict(nested)
    return {k: v for k, v in kw.items()  # stylegan3's networks: **synthesis_kwargs
            if k not in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs")}


def _common_checks(net: NVlabsNetwork, where: str) -> tuple[int, int, int, int, dict[str, Any]]:
    kw = net.init_kwargs
    c_dim = int(kw.get("c_dim") or 0)
    if c_dim > 0:
        raise ModelFileError(
            f"{where}a conditional generator ({c_dim} classes, c_dim > 0): GANPaint's StyleGAN tools have no class "
            "choice, so conditional models are not imported; use an unconditional pickle")
    try:
        z_dim, w_dim, res = int(kw["z_dim"]), int(kw["w_dim"]), int(kw["img_resolution"])
        channels = int(kw.get("img_channels", 3))
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(f"{where}the generator's constructor arguments (z_dim, w_dim, img_resolution) are missing") from None
    mk = kw.get("mapping_kwargs") or {}
    return z_dim, w_dim, res, channels, dict(mk) if isinstance(mk, Mapping) else {}


def stylegan2_from_nvlabs(net: NVlabsNetwork, where: str = "") -> tuple[dict[str, Any], dict[str, torch.Tensor], list[str]]:
    """(StyleGAN2Config dict, GANPaint state dict with ``latent_avg``, notes); ModelFileError
    with the reason when GANPaint's StyleGAN2 cannot represent the generator."""
    from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

    t = net.tensors
    z_dim, w_dim, res, img_channels, mk = _common_checks(net, where)
    sk = _synthesis_kwargs(net)
    arch = str(sk.get("architecture", "skip"))
    if arch != "skip":
        raise ModelFileError(
            f"{where}a StyleGAN2 generator with the {arch!r} synthesis architecture; GANPaint's StyleGAN2 has the "
            "'skip' architecture (to-RGB at every resolution) only, so this one cannot be imported")
    if img_channels != 3:
        raise ModelFileError(f"{where}a generator of {img_channels} colour channels; GANPaint's StyleGAN2 makes RGB (3)")
    if z_dim != w_dim:
        raise ModelFileError(f"{where}z size {z_dim} differs from w size {w_dim}; GANPaint's StyleGAN2 needs them equal")
    n_mlp = int(mk.get("num_layers", 8))
    lr_mlp = float(mk.get("lr_multiplier", 0.01))
    if mk.get("activation", "lrelu") != "lrelu" or sk.get("activation", "lrelu") != "lrelu":
        raise ModelFileError(f"{where}a generator with another activation than leaky ReLU; not supported")
    for i in range(n_mlp):
        wt = t.get(f"mapping.fc{i}.weight")
        if wt is None or tuple(wt.shape) != (w_dim, w_dim):
            shape = None if wt is None else tuple(wt.shape)
            raise ModelFileError(f"{where}mapping layer fc{i} has shape {shape}, expected ({w_dim}, {w_dim}) "
                                 "(GANPaint's mapping keeps the w size in every layer)")
    if f"mapping.fc{n_mlp}.weight" in t:
        raise ModelFileError(f"{where}the mapping network has more layers than its arguments say")
    if "mapping.w_avg" not in t:
        raise ModelFileError(f"{where}the mapping network has no w_avg (the truncation target)")
    resolutions = [2**i for i in range(2, int(np.log2(res)) + 1)]
    if 2 ** (len(resolutions) + 1) != res:
        raise ModelFileError(f"{where}resolution {res} is not a power of two")
    for r in resolutions:
        f = t.get(f"synthesis.b{r}.resample_filter")
        if f is not None and not torch.allclose(f, torch.outer(_BLUR, _BLUR) / 64, atol=1e-6):
            raise ModelFileError(f"{where}block b{r} uses another resampling filter than [1, 3, 3, 1]; not supported")
        k = t.get(f"synthesis.b{r}.conv1.weight")
        if k is None:
            raise ModelFileError(f"{where}synthesis block b{r} is missing")
        if k.shape[-1] != 3:
            raise ModelFileError(f"{where}block b{r} uses {k.shape[-1]}x{k.shape[-1]} convolutions; GANPaint's StyleGAN2 has 3x3")
    clamp = sk.get("conv_clamp")
    widths = tuple(int(t[f"synthesis.b{r}.conv1.weight"].shape[0]) for r in resolutions)
    try:
        cfg = StyleGAN2Config(size=res, style_dim=w_dim, n_mlp=n_mlp, channels=widths, channel_multiplier=None,
                              lr_mlp=lr_mlp, conv_clamp=None if clamp is None else float(clamp))
    except ValueError as exc:
        raise ModelFileError(f"{where}not a usable StyleGAN2 generator: {exc}") from None

    sd: dict[str, torch.Tensor] = {}
    notes: list[str] = []

    def layer(dst: str, src: str, size: int) -> None:
        sd[f"{dst}.conv.weight"] = t[f"{src}.weight"][None]
        sd[f"{dst}.conv.modulation.weight"] = t[f"{src}.affine.weight"]
        sd[f"{dst}.conv.modulation.bias"] = t[f"{src}.affine.bias"]
        sd[f"{dst}.activate.bias"] = t[f"{src}.bias"]
        strength = t.get(f"{src}.noise_strength")
        sd[f"{dst}.noise.weight"] = (strength if strength is not None else torch.zeros([])).reshape(1)

    def noise(i: int, src: str, size: int) -> None:
        buf = t.get(f"{src}.noise_const")
        sd[f"noises.noise_{i}"] = (buf if buf is not None else torch.zeros(size, size)).reshape(1, 1, size, size)

    def torgb(dst: str, src: str) -> None:
        sd[f"{dst}.conv.weight"] = t[f"{src}.weight"][None]
        sd[f"{dst}.conv.modulation.weight"] = t[f"{src}.affine.weight"]
        sd[f"{dst}.conv.modulation.bias"] = t[f"{src}.affine.bias"]
        sd[f"{dst}.bias"] = t[f"{src}.bias"].reshape(1, -1, 1, 1)

    try:
        for i in range(n_mlp):
            sd[f"style.{i + 1}.weight"] = t[f"mapping.fc{i}.weight"]
            sd[f"style.{i + 1}.bias"] = t[f"mapping.fc{i}.bias"]
        sd["input.input"] = t["synthesis.b4.const"][None]
        layer("conv1", "synthesis.b4.conv1", 4)
        noise(0, "synthesis.b4.conv1", 4)
        torgb("to_rgb1", "synthesis.b4.torgb")
        for k, r in enumerate(resolutions[1:]):
            layer(f"convs.{2 * k}", f"synthesis.b{r}.conv0", r)
            layer(f"convs.{2 * k + 1}", f"synthesis.b{r}.conv1", r)
            noise(2 * k + 1, f"synthesis.b{r}.conv0", r)
            noise(2 * k + 2, f"synthesis.b{r}.conv1", r)
            torgb(f"to_rgbs.{k}", f"synthesis.b{r}.torgb")
    except KeyError as exc:
        raise ModelFileError(f"{where}the StyleGAN2 generator has no tensor {exc.args[0]}") from None
    if "synthesis.b4.conv1.noise_const" not in t:
        notes.append("no noise inputs in the file (use_noise=False): noise strengths set to 0")
    sd["latent_avg"] = t["mapping.w_avg"].reshape(-1)
    with torch.device("meta"):
        G = Generator(cfg)
    # the fixed blur kernels are buffers of GANPaint's layers (constants, not in the pickle)
    fixed = {k for k, v in G.state_dict().items() if k.endswith(".kernel")}
    if fixed:
        fresh = _fixed_kernels(cfg)
        for k in fixed:
            sd[k] = fresh[k]
    from ganpaint.engine.models.checkpoints import check_keys

    check_keys(G, sd, path=None)
    return cfg.to_dict(), {k: v.contiguous() for k, v in sd.items()}, notes


def _fixed_kernels(cfg: Any) -> dict[str, torch.Tensor]:
    """The blur/upsample kernels of GANPaint's StyleGAN2 layers (constants of the architecture),
    made without building the weights."""
    from ganpaint.nn.stylegan2.ops import BLUR_KERNEL, make_kernel

    out: dict[str, torch.Tensor] = {}
    k4 = make_kernel(BLUR_KERNEL) * 4
    for i in range(len(cfg.channels) - 1):
        out[f"convs.{2 * i}.conv.blur.kernel"] = k4.clone()
        out[f"to_rgbs.{i}.upsample.kernel"] = k4.clone()
    return out


# ---------------------------------------------------------------------------------------------
# StyleGAN3 -> ganpaint.nn.stylegan3
# ---------------------------------------------------------------------------------------------
_SG3_SYNTHESIS_KEYS = {
    "channel_base": "channel_base", "channel_max": "channel_max", "num_layers": "num_layers",
    "num_critical": "num_critical", "first_cutoff": "first_cutoff", "first_stopband": "first_stopband",
    "last_stopband_rel": "last_stopband_rel", "margin_size": "margin_size", "output_scale": "output_scale",
    "conv_kernel": "conv_kernel", "filter_size": "filter_size", "lrelu_upsampling": "lrelu_upsampling",
    "use_radial_filters": "use_radial_filters", "conv_clamp": "conv_clamp",
}
#: options that only matter for training or half precision
_SG3_IGNORED = {"num_fp16_res", "magnitude_ema_beta"}


def stylegan3_from_nvlabs(net: NVlabsNetwork, where: str = "") -> tuple[dict[str, Any], dict[str, torch.Tensor], list[str]]:
    """(StyleGAN3Config dict, state dict in NVlabs' names, notes); ModelFileError with the
    reason when the generator does not fit ganpaint.nn.stylegan3."""
    from ganpaint.engine.models.checkpoints import check_keys
    from ganpaint.nn.stylegan3 import Generator, StyleGAN3Config, layer_geometry

    z_dim, w_dim, res, img_channels, mk = _common_checks(net, where)
    sk = _synthesis_kwargs(net)
    unknown = sorted(set(sk) - set(_SG3_SYNTHESIS_KEYS) - _SG3_IGNORED)
    if unknown:
        raise ModelFileError(f"{where}StyleGAN3 options GANPaint does not know: {', '.join(unknown)}")
    extra_map = sorted(set(mk) - {"num_layers", "lr_multiplier", "w_avg_beta"})
    if extra_map:
        raise ModelFileError(f"{where}mapping options GANPaint does not know: {', '.join(extra_map)}")
    opts: dict[str, Any] = {_SG3_SYNTHESIS_KEYS[k]: v for k, v in sk.items() if k in _SG3_SYNTHESIS_KEYS}
    if "conv_clamp" not in opts:
        opts["conv_clamp"] = 256.0  # the constructor's default
    for k in ("first_cutoff", "first_stopband", "last_stopband_rel", "output_scale"):
        if k in opts:
            opts[k] = float(opts[k])
    if opts.get("conv_clamp") is not None:
        opts["conv_clamp"] = float(opts["conv_clamp"])
    try:
        cfg = StyleGAN3Config(img_resolution=res, z_dim=z_dim, w_dim=w_dim, img_channels=img_channels,
                              mapping_layers=int(mk.get("num_layers", 2)),
                              mapping_lr=float(mk.get("lr_multiplier", 0.01)), **opts)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}not a usable StyleGAN3 generator: {exc}") from None
    _check_sg3_geometry(net, cfg, layer_geometry(cfg), where)
    sd = dict(net.tensors)
    with torch.device("meta"):
        G = Generator(cfg)
    check_keys(G, sd, path=None)
    return cfg.to_dict(), {k: v.contiguous() for k, v in sd.items()}, []


def _check_sg3_geometry(net: NVlabsNetwork, cfg: Any, geos: list[Any], where: str) -> None:
    """The pickle records each layer's sampling; GANPaint rebuilds it from the config. They
    must agree (else the tensors would load into a network that computes something else)."""
    synth = net.stub.submodule("synthesis") if net.stub is not None else None
    if synth is None:
        return
    names = synth.attr("layer_names")
    if isinstance(names, list) and names != [g.name for g in geos]:
        raise ModelFileError(f"{where}the StyleGAN3 layers are {names[:3]}..., the config gives "
                             f"{[g.name for g in geos][:3]}...; not a layout GANPaint can rebuild")
    for g in geos:
        layer = synth.submodule(g.name)
        if not isinstance(layer, PersistentStub):
            raise ModelFileError(f"{where}StyleGAN3 layer {g.name} is missing")
        recorded = {
            "up_factor": g.up_factor, "down_factor": g.down_factor, "conv_kernel": g.conv_kernel,
            "padding": list(g.padding), "is_torgb": g.is_torgb, "up_taps": g.up_taps, "down_taps": g.down_taps,
        }
        for attr, mine in recorded.items():
            theirs = layer.attr(attr)
            if theirs is None:
                continue
            if isinstance(theirs, list | tuple):
                theirs = [int(v) for v in theirs]
            if theirs != mine:
                raise ModelFileError(f"{where}StyleGAN3 layer {g.name}: {attr} is {theirs} in the file, "
                                     f"{mine} when rebuilt; not a layout GANPaint can rebuild")


# ---------------------------------------------------------------------------------------------
# the store's entry point
# ---------------------------------------------------------------------------------------------
def import_pickle(path: str | os.PathLike[str], *, name: str, tool: str | None = None
                  ) -> tuple[dict[str, torch.Tensor], ModelCard, list[str]]:
    """(tensors with the ``g_ema.`` prefix, card, report lines) for an NVIDIA snapshot pickle."""
    from ganpaint.engine.models.checkpoints import file_sha256
    from ganpaint.engine.models.stylegan_import import COMPONENT, STYLEGAN_TOOLS

    p = Path(path)
    where = f"{p}: "
    net = read_generator(p)
    if net.family == "stylegan2":
        config, sd, notes = stylegan2_from_nvlabs(net, where)
        arch, what = "stylegan2", "StyleGAN2-ADA"
    else:
        config, sd, notes = stylegan3_from_nvlabs(net, where)
        arch = "stylegan3"
        what = "StyleGAN3-R" if config.get("use_radial_filters") else "StyleGAN3-T"
    nvidia = bool(net.stub is not None and _mentions_nvidia(net.stub))
    primary = tool or STYLEGAN_TOOLS[0]
    res = config.get("size") or config.get("img_resolution")
    w_dim = config.get("style_dim") or config.get("w_dim")
    n_styles = (int(np.log2(res)) * 2 - 2) if arch == "stylegan2" else int(config["num_layers"]) + 2
    extra: dict[str, Any] = {
        "tools": [t for t in STYLEGAN_TOOLS if t != primary],
        "n_styles": n_styles,
        "upstream_layout": "NVlabs/stylegan2-ada-pytorch" if arch == "stylegan2" else "NVlabs/stylegan3",
        "nvlabs_class": net.class_name,
        "nvlabs_init_kwargs": net.init_kwargs,
        "generator_key": net.snapshot_info.get("generator_key", "G_ema"),
        "embedded_source_sha256": net.source_sha256,
        "embedded_source": "read as text and never executed (restricted unpickler)",
        "latent_avg": "file (mapping.w_avg)",
        "non_commercial": nvidia,
    }
    if net.snapshot_info.get("training_set_kwargs"):
        extra["training_set_kwargs"] = net.snapshot_info["training_set_kwargs"]
    if nvidia:
        extra["licence_note"] = NVIDIA_NC_NOTE
    else:
        extra["licence_note"] = "unknown: the embedded source names no licence holder; check where the file came from"
    io = {"color": "RGB", "range": [-1.0, 1.0], "latent": "z", "latent_dim": int(net.init_kwargs["z_dim"]),
          "in_channels": 0, "out_channels": 3}
    card = ModelCard(
        arch, config, primary, components=(COMPONENT,), io=io, extra=extra, title=name,
        licence=NVIDIA_NC_LICENCE if nvidia else "",
        source=f"imported from {p.name} (NVIDIA {what} snapshot pickle, {net.snapshot_info.get('generator_key', 'G_ema')})",
        source_files=({"file": p.name, "sha256": file_sha256(p)},),
    )
    lines = [f"{p.name}: NVIDIA {what} generator, {res} px, z {net.init_kwargs['z_dim']} / w {w_dim}, "
             f"{n_styles} style inputs (read without running the pickle's code)"]
    lines += [f"  note: {n}" for n in notes]
    if nvidia:
        lines.append("  licence: NVIDIA Source Code License-NC (non-commercial use only)")
    if arch == "stylegan3":
        lines.append("  StyleGAN3: stored as architecture stylegan3 (ganpaint.nn.stylegan3); the stylemix and faces "
                     "tools run it (no noise inputs; drafts at full size)")
    tensors = {f"{COMPONENT}.{k}": v for k, v in sd.items()}
    return tensors, card, lines


def _mentions_nvidia(stub: PersistentStub) -> bool:
    if stub.source_nvidia:
        return True
    return any(isinstance(m, PersistentStub) and _mentions_nvidia(m)
               for m in (stub.state.get("_modules") or {}).values())
