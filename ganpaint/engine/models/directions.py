"""Latent directions for a StyleGAN generator: from labels, PCA and the weights; saved per model.

``G`` is a StyleGAN2 generator or a StyleGAN3 one in its ``stylegan_sampling.StyleGAN3Tools``
view (:func:`stylegan_generator` gives either); directions live in W (``G.style_dim``).

* ``fit_boundary(w, labels)``: InterFaceGAN's linear boundary. Logistic regression (torch,
  full-batch L-BFGS) separating the most and least attribute-like samples; the unit normal is
  the direction. ``conditional(primary, others)`` projects chosen attributes out of it.
* ``ganspace(G)``: principal axes of W (PCA of mapped samples), GANSpace style.
* ``sefa(G)``: SeFa, the eigenvectors of A^T A for the modulation weights A (closed form;
  StyleGAN3: the affine (style) weights of its synthesis layers).
* ``DirectionSet``: named unit vectors (dim,) in W with their ``scale`` (the standard deviation
  of w along them, so a slider moves in units of it), saved as
  ``models_dir()/directions/<model>.safetensors`` (+ ``.json`` beside it) recording the
  generator's weights sha256 (the model card's ``sha256``) and the latent space ("w").
  Loading for a generator with another sha256 is refused (``DirectionsMismatch``).
* ``read_npy_boundary(path, style_dim)``: an InterFaceGAN ``.npy`` boundary, shape-checked.
* ``compute_directions(G, model, sha256)`` / ``compute_for_model(entry)``: what
  ``ganpaint directions compute`` computes and saves (label boundaries when the attribute
  classifier is installed, GANSpace, SeFa, conditioned ones; imported directions of the same
  generator kept). The command line and the StyleGAN2 fine-tune (engine.jobs.finetune) both call it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganpaint.core.atomic import atomic_write_text
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.direction_files import DIRECTIONS_KEY, directions_path
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan_sampling import Generator

__all__ = [
    "ComputeReport",
    "ConditionError",
    "DirectionSet",
    "DirectionsError",
    "DirectionsMismatch",
    "DIRECTIONS_KEY",
    "SLIDER_NAMES",
    "compute_directions",
    "compute_for_model",
    "conditional",
    "existing_directions",
    "find_directions",
    "stylegan_generator",
    "directions_path",
    "fit_boundary",
    "ganspace",
    "load_directions",
    "read_npy_boundary",
    "save_directions",
    "sefa",
    "w_samples",
]

FORMAT = 1
#: classifier attribute -> slider name of the faces tool
SLIDER_NAMES = {"eyes_open": "eyes", "head_turn": "turn"}
#: defaults of ``ganpaint directions compute`` (and of the fine-tune's recomputation)
DEFAULT_SAMPLES = 4000
DEFAULT_COMPONENTS = 10

Progress = Callable[[float, str], None]  # (fraction of the computation, message); may raise JobCancelled
Warn = Callable[[str], None]


class DirectionsMismatch(ModelFileError):
    """A direction file made for another generator (or latent space / size)."""


class DirectionsError(Exception):
    """Directions that cannot be computed as asked (e.g. an unreadable attribute classifier)."""


class ConditionError(DirectionsError):
    """A ``NAME=A,B`` condition that is malformed or names unknown directions."""


@dataclass
class DirectionSet:
    """Named unit directions in W for one generator."""

    model: str
    generator_sha256: str
    style_dim: int
    space: str = "w"
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind, scale, source, ...
    #: sliders left out because they failed the shipping rule: name -> why (kept in the file's
    #: description so the panel and the tool can say so)
    withheld: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, vector: np.ndarray | torch.Tensor, *, kind: str, scale: float, **extra: Any) -> None:
        v = np.asarray(vector.detach().cpu() if isinstance(vector, torch.Tensor) else vector, np.float32).reshape(-1)
        if v.shape != (self.style_dim,):
            raise ValueError(f"direction {name!r} has shape {v.shape}, expected ({self.style_dim},)")
        n = float(np.linalg.norm(v))
        if not np.isfinite(n) or n == 0:
            raise ValueError(f"direction {name!r} is zero or not finite")
        self.vectors[name] = v / n
        self.info[name] = {"kind": kind, "scale": float(scale), **extra}

    def scale(self, name: str) -> float:
        return float(self.info.get(name, {}).get("scale", 1.0))

    def withhold(self, name: str, reason: str) -> None:
        """Leave direction ``name`` out (it fails the rule a shipped slider must meet) and
        record why; KeyError when there is no such direction."""
        if name not in self.vectors:
            raise KeyError(name)
        del self.vectors[name]
        self.info.pop(name, None)
        self.withheld[name] = reason


# --------------------------------------------------------------------------------- sampling
def w_samples(G: Generator, n: int, seed: int = 0, batch: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """(z, w), (n, dim) each, from :func:`stylegan_sampling.sample_z` of ``seed``."""
    z = S.sample_z(G, n, seed)
    with torch.inference_mode():
        w = torch.cat([S.z_to_w(G, c) for c in torch.split(z, batch)])
    return z, w


def std_along(w: torch.Tensor, direction: torch.Tensor | np.ndarray) -> float:
    """Standard deviation of the samples' projection on a unit direction."""
    d = torch.as_tensor(np.asarray(direction, np.float32) if not isinstance(direction, torch.Tensor) else direction)
    return float((w.float() @ d.float().to(w.device)).std())


# --------------------------------------------------------------------------------- label boundaries
def fit_boundary(w: torch.Tensor, labels: np.ndarray | torch.Tensor, *, fraction: float = 0.3,
                 l2: float = 1e-3) -> torch.Tensor:
    """InterFaceGAN: the unit normal (dim,) of a linear boundary separating the ``fraction`` of
    samples with the highest labels from the ``fraction`` with the lowest (binary labels: the
    two classes). L2-regularised logistic regression on standardised w (Newton's method)."""
    x = w.detach().float().cpu()
    y_all = torch.as_tensor(np.asarray(labels), dtype=torch.float32).reshape(-1)
    if y_all.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} latents but {y_all.shape[0]} labels")
    ok = torch.isfinite(y_all)
    x, y_all = x[ok], y_all[ok]
    order = torch.argsort(y_all)
    k = max(2, int(len(order) * fraction))
    lo, hi = order[:k], order[-k:]
    if float(y_all[hi].min()) <= float(y_all[lo].max()):
        raise ValueError("the labels do not separate: the attribute hardly varies over the samples")
    xs = torch.cat([x[lo], x[hi]])
    ys = torch.cat([torch.zeros(k), torch.ones(k)])
    mu, sd = xs.mean(0), xs.std(0).clamp_min(1e-6)
    xn = torch.cat([(xs - mu) / sd, torch.ones(len(xs), 1)], 1).double()  # last column: the bias
    ys64 = ys.double()
    theta = torch.zeros(xn.shape[1], dtype=torch.float64)
    reg = torch.full((xn.shape[1],), l2 * len(xs), dtype=torch.float64)
    reg[-1] = 0.0
    for _ in range(50):  # Newton / IRLS: deterministic, a few iterations, no optimiser state
        p = torch.sigmoid(xn @ theta)
        grad = xn.T @ (p - ys64) + reg * theta
        hess = (xn.T * (p * (1 - p))) @ xn + torch.diag(reg + 1e-9)
        step = torch.linalg.solve(hess, grad)
        theta -= step
        if float(step.abs().max()) < 1e-8:
            break
    coef = theta[:-1].float()
    normal = coef.detach() / sd  # back to unstandardised w: the boundary's normal there
    return normal / normal.norm()


def conditional(primary: torch.Tensor, others: list[torch.Tensor]) -> torch.Tensor:
    """InterFaceGAN's conditional manipulation: ``primary`` with the span of ``others``
    projected out (so moving along it leaves those attributes unchanged), unit length."""
    if not others:
        return primary / primary.norm()
    C = torch.stack([o.float() for o in others], 1)  # (dim, k)
    coeffs = torch.linalg.lstsq(C, primary.float()[:, None]).solution
    out = primary.float() - (C @ coeffs)[:, 0]
    n = out.norm()
    if float(n) < 1e-6:
        raise ValueError("the direction lies in the span of the conditions: nothing is left")
    return out / n


# --------------------------------------------------------------------------------- unsupervised
def ganspace(G: Generator, k: int = 10, n: int = 20000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """GANSpace: the first ``k`` principal axes of W, (k, dim) unit rows, and the standard
    deviation of w along each (k,)."""
    _, w = w_samples(G, n, seed)
    x = w.float() - w.float().mean(0)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    k = min(k, vh.shape[0])
    comps = vh[:k]
    # a fixed sign (largest component positive) so recomputing gives the same vectors
    signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    return comps * signs, s[:k] / (x.shape[0] - 1) ** 0.5


def _modulation_weights(G: Generator, layers: str) -> torch.Tensor:
    if isinstance(G, S.StyleGAN3Tools):
        return G.modulation_weights(layers)
    mods = [G.conv1.conv.modulation]
    if layers == "all":
        mods += [G.to_rgb1.conv.modulation] + [c.conv.modulation for c in G.convs]
        mods += [t.conv.modulation for t in G.to_rgbs]
    elif layers != "first":
        raise ValueError(f"layers must be 'first' or 'all', got {layers!r}")
    return torch.cat([m.weight.detach().float() * m.scale for m in mods])  # (sum out, dim)


def sefa(G: Generator, k: int = 10, layers: str = "first") -> torch.Tensor:
    """SeFa: the top-``k`` eigenvectors of A^T A for the modulation weights A of the first
    styled conv (``layers="all"``: every style input's), (k, dim) unit rows. StyleGAN3: the
    affine weights of synthesis layer 0 (``"all"``: of the input and every layer)."""
    A = _modulation_weights(G, layers)
    A = A / A.norm(dim=1, keepdim=True).clamp_min(1e-8)
    _, vecs = torch.linalg.eigh(A.T @ A)
    comps = vecs.flip(1).T[:k]  # eigh sorts ascending
    signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    return comps * signs


# --------------------------------------------------------------------------------- files
def save_directions(ds: DirectionSet, root: str | os.PathLike[str] | None = None) -> Path:
    """Write ``ds`` (atomically) and its JSON description beside it; returns the path."""
    from safetensors.numpy import save_file

    path = directions_path(ds.model, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "model": ds.model, "generator_sha256": ds.generator_sha256,
            "space": ds.space, "style_dim": ds.style_dim, "directions": ds.info}
    if ds.withheld:
        meta["withheld"] = dict(ds.withheld)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file({k: np.ascontiguousarray(v) for k, v in ds.vectors.items()}, str(tmp),
                  metadata={DIRECTIONS_KEY: json.dumps(meta)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return path


def load_directions(model: str, *, sha256: str | None = None, style_dim: int | None = None,
                    root: str | os.PathLike[str] | None = None) -> DirectionSet | None:
    """``model``'s saved directions, None when there are none. Raises DirectionsMismatch when
    they were made for another generator (``sha256``) or latent size, ModelFileError if damaged."""
    from safetensors import SafetensorError, safe_open

    path = directions_path(model, root)
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {})[DIRECTIONS_KEY])
            vectors = {k: f.get_tensor(k).astype(np.float32) for k in f.keys()}
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable directions file ({exc})", path=path) from None
    ds = DirectionSet(model, str(meta.get("generator_sha256", "")), int(meta.get("style_dim", 0)),
                      str(meta.get("space", "w")), vectors, dict(meta.get("directions", {})),
                      {str(k): str(v) for k, v in dict(meta.get("withheld", {})).items()})
    if sha256 is not None and ds.generator_sha256 != sha256:
        raise DirectionsMismatch(
            f"{path}: these directions were computed for another generator "
            f"(sha256 {ds.generator_sha256[:12]}, model {model!r} is {sha256[:12]}); recompute them with "
            f"`ganpaint directions compute --model {model}`", path=path)
    if ds.space != "w" or (style_dim is not None and ds.style_dim != style_dim):
        raise DirectionsMismatch(f"{path}: directions in space {ds.space!r} of size {ds.style_dim}, "
                                 f"the generator needs 'w' of size {style_dim}", path=path)
    return ds


def find_directions(model: str, *, sha256: str | None = None, style_dim: int | None = None,
                    model_file: str | os.PathLike[str] = "") -> DirectionSet | None:
    """``model``'s directions where the tools look for them: the user's models folder
    (``ganpaint directions compute``) first, then the folder of ``model_file`` (a plugin ships
    its default's directions in ``models/directions/`` beside it). None when neither has
    them; raises as :func:`load_directions`."""
    ds = load_directions(model, sha256=sha256, style_dim=style_dim)
    if ds is None and model_file:
        ds = load_directions(model, sha256=sha256, style_dim=style_dim, root=Path(model_file).parent)
    return ds


def read_npy_boundary(path: str | os.PathLike[str], style_dim: int) -> np.ndarray:
    """An InterFaceGAN boundary file: shape (1, dim) or (dim,) -> (dim,) float32, unit length.
    Read with ``allow_pickle=False``; a W+ boundary (n_styles, dim) or another size is refused."""
    p = Path(path)
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{p}: not a readable .npy boundary ({exc})", path=p) from None
    shape = arr.shape
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.shape != (style_dim,):
        raise DirectionsMismatch(f"{p}: boundary of shape {shape}; this generator needs ({style_dim},) "
                                 f"or (1, {style_dim}) in W", path=p)
    if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all() or not np.any(arr):
        raise ModelFileError(f"{p}: the boundary is not a finite, non-zero float vector", path=p)
    v = arr.astype(np.float32)
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------------------- computing
@dataclass(frozen=True)
class ComputeReport:
    """What :func:`compute_directions` saved."""

    model: str
    generator_sha256: str
    path: Path
    names: tuple[str, ...]  # every direction in the saved file
    labelled: tuple[str, ...]  # label boundaries made this time
    components: int  # GANSpace axes pc0..
    sefa: int  # SeFa axes sefa0..
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        return (f"{self.model}: {len(self.names)} directions ({', '.join(self.labelled) or 'no label directions'}; "
                f"pc0-pc{self.components - 1}, sefa0-sefa{self.sefa - 1}) -> {self.path}")


def stylegan_generator(entry: Any) -> Generator:
    """The ``g_ema`` generator of a model-store entry (on the CPU; a StyleGAN3 one in its
    ``StyleGAN3Tools`` view); ModelFileError if it is none."""
    from ganpaint.engine.models.loading import load_model

    arch = entry.card.architecture
    model = load_model(entry.path, component="g_ema") if arch in ("stylegan2", "stylegan3") else None
    try:
        return S.tool_generator(model)  # type: ignore[arg-type]
    except TypeError:
        raise ModelFileError(f"model {entry.name!r} is a {arch} model, not a StyleGAN2 generator",
                             path=entry.path) from None


def existing_directions(model: str, sha256: str, style_dim: int, *, root: str | os.PathLike[str] | None = None,
                        warn: Warn | None = None) -> DirectionSet:
    """``model``'s saved directions for this generator, or a new empty set (those of another
    generator, or a damaged file, are replaced: ``warn`` is told)."""
    try:
        ds = load_directions(model, sha256=sha256, style_dim=style_dim, root=root)
    except ModelFileError as exc:
        if warn is not None:
            warn(f"{exc}; replacing them")
        ds = None
    return ds or DirectionSet(model, sha256, style_dim)


def _parse_conditions(conditions: Iterable[str]) -> list[tuple[str, str, list[str]]]:
    out = []
    for item in conditions:
        name, sep, rest = item.partition("=")
        others = [o for o in rest.split(",") if o]
        if not sep or not name or not others:
            raise ConditionError(f"--condition {item!r}: expected NAME=A,B with known directions")
        out.append((item, name, others))
    return out


def _label_directions(G: Generator, ds: DirectionSet, *, samples: int, seed: int, classifier: str | None,
                      warn: Warn, progress: Progress) -> list[str]:
    from ganpaint.train import attributes as A

    try:
        clf, _ = A.load_classifier(classifier) if classifier else A.load_default()
    except (FileNotFoundError, ValueError) as exc:
        if classifier:
            raise DirectionsError(str(exc)) from None
        warn(f"no label directions: {exc}")
        return []
    _, w = w_samples(G, samples, seed)
    pics = []
    done_n = 0
    with torch.inference_mode():
        for chunk in torch.split(w, 64):
            progress(0.6 * done_n / samples, f"labelling samples {done_n}/{samples}")
            pics.append((S.to_pictures(S.synthesize(G, chunk)) * 255 + 0.5).astype(np.uint8))
            done_n += chunk.shape[0]
    progress(0.6, "fitting label boundaries")
    labels = A.predict(clf, np.concatenate(pics))
    done = []
    for i, attr in enumerate(clf.config.names):
        name = SLIDER_NAMES.get(attr, attr)
        try:
            d = fit_boundary(w, labels[:, i])
        except ValueError as exc:
            warn(f"{attr}: {exc}")
            continue
        ds.add(name, d, kind="boundary", scale=std_along(w, d), attribute=attr, samples=int(samples))
        done.append(name)
    return done


def compute_directions(G: Generator, model: str, sha256: str, *, samples: int | None = None,
                       components: int | None = None, labels: str = "auto", classifier: str | None = None,
                       conditions: Iterable[str] = (), seed: int = 0, root: str | os.PathLike[str] | None = None,
                       warn: Warn | None = None, progress: Progress | None = None) -> ComputeReport:
    """Compute and save ``model``'s directions for generator ``G`` (weights sha256 ``sha256``):
    label boundaries (``labels="auto"``: when the attribute classifier is installed), GANSpace
    axes pc0.., SeFa axes sefa0.., then ``conditions`` ("NAME=A,B": A and B projected out of
    NAME). Directions imported earlier for the same generator are kept; computed ones are
    replaced. ``progress(fraction, message)`` is called between stages and may raise (cancel):
    nothing is saved then. Raises DirectionsError (ConditionError for a bad condition).
    ``samples``/``components`` None = DEFAULT_SAMPLES/DEFAULT_COMPONENTS."""
    samples = DEFAULT_SAMPLES if samples is None else int(samples)
    components = DEFAULT_COMPONENTS if components is None else int(components)
    if samples < 16 or components < 1:
        raise DirectionsError("samples must be >= 16 and components >= 1")
    if labels not in ("auto", "none"):
        raise DirectionsError(f"labels must be 'auto' or 'none', got {labels!r}")
    notes: list[str] = []

    def _warn(msg: str) -> None:
        notes.append(msg)
        if warn is not None:
            warn(msg)

    report_progress = progress or (lambda fraction, message: None)
    parsed = _parse_conditions(conditions)
    report_progress(0.0, "starting")
    ds = existing_directions(model, sha256, G.style_dim, root=root, warn=_warn)
    # recomputed here: label, GANSpace and SeFa directions; kept: imported ones and the landmark
    # sliders of `ganpaint directions label` (made by another model, not recomputable here)
    for n in [n for n, i in ds.info.items() if i.get("kind") not in ("imported", "landmark")]:
        ds.vectors.pop(n)
        ds.info.pop(n)
    made = (_label_directions(G, ds, samples=samples, seed=seed, classifier=classifier, warn=_warn,
                              progress=report_progress) if labels == "auto" else [])
    report_progress(0.7, "GANSpace axes")
    comps, stds = ganspace(G, k=components, n=max(samples, 2000), seed=seed)
    for i in range(comps.shape[0]):
        ds.add(f"pc{i}", comps[i], kind="ganspace", scale=float(stds[i]))
    report_progress(0.85, "SeFa axes")
    _, w = w_samples(G, 2000, seed + 1)
    axes = sefa(G, k=components)
    for i in range(axes.shape[0]):
        ds.add(f"sefa{i}", axes[i], kind="sefa", scale=std_along(w, axes[i]))
    for item, name, others in parsed:
        unknown = [n for n in [name, *others] if n not in ds.vectors]
        if unknown:
            raise ConditionError(f"--condition {item!r}: expected NAME=A,B with known directions (unknown: {unknown})")
        d = conditional(torch.from_numpy(ds.vectors[name]), [torch.from_numpy(ds.vectors[o]) for o in others])
        extra = {k: v for k, v in ds.info[name].items() if k not in ("kind", "scale")}
        ds.add(name, d, kind="boundary", scale=std_along(w, d), **{**extra, "conditioned_on": others})
    report_progress(0.95, "saving")
    path = save_directions(ds, root)
    report_progress(1.0, "saved")
    return ComputeReport(model, sha256, path, tuple(ds.vectors), tuple(made), int(comps.shape[0]),
                         int(axes.shape[0]), tuple(notes))


def compute_for_model(entry: Any, *, root: str | os.PathLike[str] | None = None, **options: Any) -> ComputeReport:
    """:func:`compute_directions` for a model-store entry (its ``g_ema``, saved under its name)."""
    G = stylegan_generator(entry)
    return compute_directions(G, entry.name, entry.card.sha256, root=root, **options)
