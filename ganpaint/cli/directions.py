"""``ganpaint directions``: latent directions of a StyleGAN2 generator (for the faces sliders).

    ganpaint directions compute --model NAME [--samples N] [--components K] [--labels auto|none]
                                [--classifier FILE] [--condition NAME=A,B ...]
    ganpaint directions import FILE --for MODEL --as NAME
    ganpaint directions list --model NAME

Directions are stored in ``<models>/directions/<model>.safetensors`` (+ ``.json``) with the
generator's weights sha256; a file made for another generator is refused by the tools.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganpaint.cli.common import EXIT_OK, CliError, UsageError, add_common_options

NAME = "directions"
#: classifier attribute -> slider name of the faces tool
SLIDER_NAMES = {"eyes_open": "eyes", "head_turn": "turn"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(NAME, prog=f"ganpaint {NAME}", help="compute or import latent directions",
                              description="Latent directions of a StyleGAN2 generator, used by the faces sliders.")
    sub = p.add_subparsers(dest="directions_command", metavar="ACTION")
    sub.required = True
    comp = sub.add_parser("compute", help="compute directions (label boundaries, GANSpace, SeFa) for a model",
                          description="Label boundaries (InterFaceGAN) from the attribute classifier's "
                          "predictions on generated samples, GANSpace principal axes of W (pc0..), SeFa "
                          "axes (sefa0..). Directions imported earlier for the same generator are kept.")
    comp.add_argument("--model", required=True, metavar="NAME")
    comp.add_argument("--samples", type=int, default=4000, metavar="N", help="labelled samples (default 4000)")
    comp.add_argument("--components", type=int, default=10, metavar="K", help="GANSpace/SeFa axes (default 10)")
    comp.add_argument("--labels", choices=("auto", "none"), default="auto",
                      help="auto: label boundaries when the attribute classifier is installed")
    comp.add_argument("--classifier", metavar="FILE", help="an attribute classifier file (default: the shipped one)")
    comp.add_argument("--condition", action="append", default=[], metavar="NAME=A,B",
                      help="conditional manipulation: project attributes A, B out of direction NAME")
    comp.add_argument("--seed", type=int, default=0)
    imp = sub.add_parser("import", help="import an InterFaceGAN .npy boundary for a model",
                         description="Import a boundary of shape (1, dim) or (dim,) in W, after a shape check.")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--for", dest="model", required=True, metavar="MODEL")
    imp.add_argument("--as", dest="name", required=True, metavar="NAME")
    ls = sub.add_parser("list", help="list a model's directions")
    ls.add_argument("--model", required=True, metavar="NAME")
    for action in (comp, imp, ls):
        add_common_options(action, top=False)


def _generator(name: str) -> tuple[Any, Any]:
    from ganpaint.engine.cards import ModelFileError
    from ganpaint.engine.loading import load_model
    from ganpaint.engine.store import ModelStore
    from ganpaint.nn.stylegan2 import Generator

    try:
        entry = ModelStore().get(name)
        G = load_model(entry.path, component="g_ema")
    except ModelFileError as exc:
        raise CliError(str(exc)) from None
    if entry.card.architecture != "stylegan2" or not isinstance(G, Generator):
        raise CliError(f"model {name!r} is a {entry.card.architecture} model, not a StyleGAN2 generator")
    return entry, G


def _existing(entry: Any, G: Any) -> Any:
    from ganpaint.engine.cards import ModelFileError
    from ganpaint.engine.directions import DirectionSet, load_directions

    try:
        ds = load_directions(entry.name, sha256=entry.card.sha256, style_dim=G.style_dim)
    except ModelFileError as exc:  # another generator's: replaced, said so
        print(f"ganpaint: {exc}; replacing them", file=sys.stderr)
        ds = None
    return ds or DirectionSet(entry.name, entry.card.sha256, G.style_dim)


def _label_directions(G: Any, args: argparse.Namespace, ds: Any) -> list[str]:
    import numpy as np
    import torch

    from ganpaint.engine import stylegan_sampling as S
    from ganpaint.engine.directions import fit_boundary, std_along, w_samples
    from ganpaint.train import attributes as A

    try:
        clf, _ = A.load_classifier(args.classifier) if args.classifier else A.load_default()
    except (FileNotFoundError, ValueError) as exc:
        if args.classifier:
            raise CliError(str(exc)) from None
        print(f"ganpaint: no label directions: {exc}", file=sys.stderr)
        return []
    _, w = w_samples(G, args.samples, args.seed)
    pics = []
    with torch.inference_mode():
        for chunk in torch.split(w, 64):
            pics.append((S.to_pictures(S.synthesize(G, chunk)) * 255 + 0.5).astype(np.uint8))
    labels = A.predict(clf, np.concatenate(pics))
    done = []
    for i, attr in enumerate(clf.config.names):
        name = SLIDER_NAMES.get(attr, attr)
        try:
            d = fit_boundary(w, labels[:, i])
        except ValueError as exc:
            print(f"ganpaint: {attr}: {exc}", file=sys.stderr)
            continue
        ds.add(name, d, kind="boundary", scale=std_along(w, d), attribute=attr, samples=int(args.samples))
        done.append(name)
    return done


def run(args: argparse.Namespace) -> int:
    if args.directions_command == "import":
        return _import(args)
    if args.directions_command == "list":
        return _list(args)
    return _compute(args)


def _compute(args: argparse.Namespace) -> int:
    import torch

    from ganpaint.engine.directions import conditional, ganspace, save_directions, sefa, std_along, w_samples

    if args.samples < 16 or args.components < 1:
        raise UsageError("--samples must be >= 16 and --components >= 1")
    entry, G = _generator(args.model)
    ds = _existing(entry, G)
    for n in [n for n, i in ds.info.items() if i.get("kind") != "imported"]:
        ds.vectors.pop(n)
        ds.info.pop(n)
    made = _label_directions(G, args, ds) if args.labels == "auto" else []
    comps, stds = ganspace(G, k=args.components, n=max(args.samples, 2000), seed=args.seed)
    for i in range(comps.shape[0]):
        ds.add(f"pc{i}", comps[i], kind="ganspace", scale=float(stds[i]))
    _, w = w_samples(G, 2000, args.seed + 1)
    axes = sefa(G, k=args.components)
    for i in range(axes.shape[0]):
        ds.add(f"sefa{i}", axes[i], kind="sefa", scale=std_along(w, axes[i]))
    for item in args.condition:
        name, sep, rest = item.partition("=")
        others = [o for o in rest.split(",") if o]
        unknown = [n for n in [name, *others] if n not in ds.vectors]
        if not sep or not others or unknown:
            raise UsageError(f"--condition {item!r}: expected NAME=A,B with known directions (unknown: {unknown})")
        d = conditional(torch.from_numpy(ds.vectors[name]), [torch.from_numpy(ds.vectors[o]) for o in others])
        extra = {k: v for k, v in ds.info[name].items() if k not in ("kind", "scale")}
        ds.add(name, d, kind="boundary", scale=std_along(w, d), **{**extra, "conditioned_on": others})
    path = save_directions(ds)
    print(f"{entry.name}: {len(ds.vectors)} directions ({', '.join(made) or 'no label directions'}; "
          f"pc0-pc{comps.shape[0] - 1}, sefa0-sefa{axes.shape[0] - 1}) -> {path}")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    import re

    from ganpaint.engine.cards import ModelFileError
    from ganpaint.engine.directions import read_npy_boundary, save_directions, std_along, w_samples

    if not re.match(r"^[a-z][a-z0-9_]*$", args.name):
        raise UsageError(f"--as {args.name!r}: use lower-case letters, digits and '_' (a slider name)")
    entry, G = _generator(args.model)
    try:
        v = read_npy_boundary(args.file, G.style_dim)
    except ModelFileError as exc:
        raise CliError(str(exc)) from None
    ds = _existing(entry, G)
    _, w = w_samples(G, 2000, 0)
    ds.add(args.name, v, kind="imported", scale=std_along(w, v), source=str(args.file))
    print(f"{entry.name}: direction {args.name!r} imported -> {save_directions(ds)}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from ganpaint.engine.cards import ModelFileError
    from ganpaint.engine.directions import load_directions

    entry, G = _generator(args.model)
    try:
        ds = load_directions(entry.name, sha256=entry.card.sha256, style_dim=G.style_dim)
    except ModelFileError as exc:
        raise CliError(str(exc)) from None
    if ds is None:
        print(f"{entry.name}: no directions (ganpaint directions compute --model {entry.name})")
        return EXIT_OK
    for n, info in ds.info.items():
        print(f"{n:14s} {info.get('kind', ''):9s} scale {info.get('scale', 1.0):.3g}")
    return EXIT_OK
