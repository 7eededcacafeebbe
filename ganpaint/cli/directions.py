"""``ganpaint directions``: latent directions of a StyleGAN2 generator (for the faces sliders).

    ganpaint directions compute --model NAME [--samples N] [--components K] [--labels auto|none]
                                [--classifier FILE] [--condition NAME=A,B ...]
    ganpaint directions import FILE --for MODEL --as NAME
    ganpaint directions list --model NAME
    ganpaint directions label MODEL [--samples N] [--sweep-seeds N] [--method regression|boundary]
                                    [--orthogonalise] [--landmarks DIR]

Directions are stored in ``<models>/directions/<model>.safetensors`` (+ ``.json``) with the
generator's weights sha256; a file made for another generator is refused by the tools.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganpaint.cli.common import EXIT_OK, CliError, UsageError, add_common_options

NAME = "directions"
#: = engine.models.directions.DEFAULT_SAMPLES / DEFAULT_COMPONENTS (not imported: that module imports torch,
#: and building the parser must not); the computation itself is engine.models.directions.compute_directions
DEFAULT_SAMPLES = 4000
DEFAULT_COMPONENTS = 10
DEFAULT_LABEL_SAMPLES = 1000  # = latent.interfacegan.DEFAULT_SAMPLES


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
    comp.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N",
                      help=f"labelled samples (default {DEFAULT_SAMPLES})")
    comp.add_argument("--components", type=int, default=DEFAULT_COMPONENTS, metavar="K",
                      help=f"GANSpace/SeFa axes (default {DEFAULT_COMPONENTS})")
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
    lab = sub.add_parser("label", help="face sliders from measured landmarks, for a photographic face generator",
                         description="InterFaceGAN directions (mouth_open, smile, eyes, turn, pitch, face_shape) "
                         "fitted to face measures of generated samples, measured by MediaPipe's face-mesh model "
                         "(Apache-2.0, from the mediapipe wheel on PyPI, run with ai-edge-litert); each "
                         "slider's selectivity is recorded with it. For FFHQ, MetFaces and other photographic "
                         "face generators; the cartoon default keeps `compute`.")
    lab.add_argument("model", metavar="MODEL")
    lab.add_argument("--samples", type=int, default=DEFAULT_LABEL_SAMPLES, metavar="N",
                     help=f"measured samples the directions are fitted to (default {DEFAULT_LABEL_SAMPLES})")
    lab.add_argument("--sweep-seeds", type=int, default=16, metavar="N",
                     help="fresh seeds each slider is swept on to measure its selectivity (0: skip; default 16)")
    lab.add_argument("--method", choices=("regression", "boundary"), default="regression",
                     help="ridge regression on the measure, or InterFaceGAN's top/bottom 30%% boundary")
    lab.add_argument("--orthogonalise", action="store_true",
                     help="project the earlier directions (pose first) out of each later one")
    lab.add_argument("--landmarks", metavar="DIR", help="folder of the landmark models (default: the cache)")
    lab.add_argument("--seed", type=int, default=0)
    for action in (comp, imp, ls, lab):
        add_common_options(action, top=False)


def _warn(message: str) -> None:
    print(f"ganpaint: {message}", file=sys.stderr)


def _store(args: argparse.Namespace) -> Any:
    """The user's models and the models plugins ship (``faces-default``, say), as the tools see them."""
    from ganpaint.cli.common import plugin_manager
    from ganpaint.engine.models.store import ModelStore

    return ModelStore(defaults=plugin_manager(args).models())


def _generator(args: argparse.Namespace, name: str) -> tuple[Any, Any]:
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import stylegan_generator

    try:
        entry = _store(args).get(name)
        return entry, stylegan_generator(entry)
    except ModelFileError as exc:
        raise CliError(str(exc)) from None


def _existing(entry: Any, G: Any) -> Any:
    """The directions the tools use for this generator, to add to: the user's own, else those a
    plugin ships beside its model (so importing one direction for ``faces-default`` keeps the
    shipped ones); a new empty set when there are none (or they are damaged: said so)."""
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import DirectionSet, find_directions

    try:
        ds = find_directions(entry.name, sha256=entry.card.sha256, style_dim=G.style_dim, model_file=entry.path)
    except ModelFileError as exc:
        _warn(f"{exc}; replacing them")
        ds = None
    return ds or DirectionSet(entry.name, entry.card.sha256, G.style_dim)


def run(args: argparse.Namespace) -> int:
    if args.directions_command == "import":
        return _import(args)
    if args.directions_command == "list":
        return _list(args)
    if args.directions_command == "label":
        return label(args)
    return _compute(args)


def _compute(args: argparse.Namespace) -> int:
    from ganpaint.engine.models.directions import ConditionError, DirectionsError, compute_directions

    if args.samples < 16 or args.components < 1:
        raise UsageError("--samples must be >= 16 and --components >= 1")
    entry, G = _generator(args, args.model)
    try:
        report = compute_directions(G, entry.name, entry.card.sha256, samples=args.samples,
                                    components=args.components, labels=args.labels, classifier=args.classifier,
                                    conditions=args.condition, seed=args.seed, warn=_warn)
    except ConditionError as exc:
        raise UsageError(str(exc)) from None
    except DirectionsError as exc:
        raise CliError(str(exc)) from None
    print(report.summary())
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    import re

    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import read_npy_boundary, save_directions, std_along, w_samples

    if not re.match(r"^[a-z][a-z0-9_]*$", args.name):
        raise UsageError(f"--as {args.name!r}: use lower-case letters, digits and '_' (a slider name)")
    entry, G = _generator(args, args.model)
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
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import find_directions

    entry, G = _generator(args, args.model)
    try:
        ds = find_directions(entry.name, sha256=entry.card.sha256, style_dim=G.style_dim, model_file=entry.path)
    except ModelFileError as exc:
        raise CliError(str(exc)) from None
    if ds is None:
        print(f"{entry.name}: no directions (ganpaint directions compute --model {entry.name})")
        return EXIT_OK
    for n, info in ds.info.items():
        line = f"{n:14s} {info.get('kind', ''):9s} scale {info.get('scale', 1.0):.3g}"
        if info.get("selectivity"):
            from ganpaint.latent.interfacegan import selectivity_text

            line += f"  {selectivity_text(info['selectivity'])}"
        print(line)
    for n, why in ds.withheld.items():  # listed after the others: the first word stays a direction name
        print(f"# not shipped: {n}: {why}")
    return EXIT_OK


def label(args: argparse.Namespace, measure: Any = None, measure_names: Any = None) -> int:
    """``ganpaint directions label``; ``measure``/``measure_names``: another labeller than the
    landmark model (see latent.interfacegan.label_for_model)."""
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import DirectionsError
    from ganpaint.latent.face_landmarks import LandmarksUnavailable
    from ganpaint.latent.interfacegan import label_for_model

    if args.samples < 16 or args.sweep_seeds < 0:
        raise UsageError("--samples must be >= 16 and --sweep-seeds >= 0")
    try:
        entry = _store(args).get(args.model)
        report = label_for_model(entry, measure=measure, measure_names=measure_names, landmarks_dir=args.landmarks,
                                 samples=args.samples, sweep_seeds=args.sweep_seeds, method=args.method,
                                 orthogonalise=args.orthogonalise, seed=args.seed, warn=_warn,
                                 log=lambda m: print(m, file=sys.stderr))
    except (ModelFileError, DirectionsError, LandmarksUnavailable) as exc:
        raise CliError(str(exc)) from None
    print("\n".join(report.lines()))
    return EXIT_OK
