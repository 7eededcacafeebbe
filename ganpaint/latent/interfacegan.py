"""Labelled face sliders: InterFaceGAN directions fitted to measured face landmarks.

For a photographic face generator (FFHQ, MetFaces, ... imported from NVIDIA's pickles), N
latents w are sampled, synthesised, and every picture is measured
(:class:`ganpaint.latent.face_landmarks.FaceLandmarker`: mouth open, smile, eyes open, yaw,
pitch, face shape). Per measure a linear direction in W is fitted (ridge regression of the
measure on w, numpy only; or InterFaceGAN's boundary between the top and bottom 30 %,
:func:`ganpaint.engine.models.directions.fit_boundary`), optionally orthogonalised (each direction
with the earlier measures' directions projected out: pose first), and stored beside the
model's other directions (``engine.models.directions``: ``kind="landmark"``) under the faces tool's
slider names where it has one (``eyes``, ``turn``, ``smile``).

Each slider is then judged the way ``tools/eval_stylegan.py sliders`` judges the classifier's
sliders, with the same code (:func:`judge_sweep`, which that tool imports from here): fresh
seeds (z seed + 10000, psi 0.7, const noise: the faces tool's defaults) moved -R..R in the
faces tool's units (the std of w along the direction), every picture measured; the Spearman
rank correlation of the target measure with the amount, its change, the mean absolute change
of the other measures (each in units of its 5-95 % range over the fitted samples), their ratio,
and the same ratio for random directions as the baseline. The figures go into the
direction's metadata (``selectivity``), which ``ganpaint directions list`` prints.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganpaint.engine.models.directions import (
    DirectionsError,
    DirectionSet,
    conditional,
    existing_directions,
    fit_boundary,
    save_directions,
    std_along,
    w_samples,
)
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan_sampling import Generator

__all__ = [
    "SHIP_MIN_CHANGE",
    "SHIP_MIN_SPEARMAN",
    "slider_verdict",
    "DEFAULT_AMOUNTS",
    "DEFAULT_SAMPLES",
    "SLIDER_NAMES",
    "LabelReport",
    "fit_direction",
    "judge_sweep",
    "label_directions",
    "label_for_model",
    "selectivity_text",
    "spearman",
]

DEFAULT_SAMPLES = 1000
DEFAULT_SWEEP_SEEDS = 16
DEFAULT_AMOUNTS = (-2.0, -1.0, 0.0, 1.0, 2.0)
#: measure -> slider name of the faces tool (the others keep their own name: "Other direction")
SLIDER_NAMES = {"eyes_open": "eyes", "yaw": "turn", "smile": "smile"}
KIND = "landmark"
#: what ``measure`` returns: pictures uint8 (n, H, W, 3) -> {measure: (n,) float, NaN = not measured}
Measure = Callable[[np.ndarray], dict[str, np.ndarray]]
Progress = Callable[[float, str], None]


# --------------------------------------------------------------------------------- judging (shared with tools/eval_stylegan.py)
def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1, ties sharing their average rank."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x), dtype=np.float64)
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(inv, weights=r) / counts)[inv]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation; 0 when either side is constant (no monotonic movement)."""
    rx, ry = _ranks(np.ravel(x)), _ranks(np.ravel(y))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return 0.0 if den == 0 else float((rx * ry).sum() / den)


def judge_sweep(attrs: np.ndarray, amounts: Sequence[float], target: int, spans: np.ndarray) -> dict[str, Any]:
    """attrs (n_seeds, n_amounts, K) in attribute units along one slider -> monotonicity of
    attribute ``target`` and its change against the others' (all in units of their range)."""
    a = np.asarray(attrs, np.float64) / np.asarray(spans, np.float64)
    amt = np.asarray(amounts, np.float64)
    lo, hi = int(np.argmin(amt)), int(np.argmax(amt))
    delta = a[:, hi] - a[:, lo]  # (n, K)
    others = [k for k in range(a.shape[2]) if k != target]
    change = float(delta[:, target].mean())
    other_abs = np.abs(delta[:, others]).mean(0) if others else np.zeros(0)
    other_mean = float(other_abs.mean()) if others else 0.0
    rhos = [spearman(amt, a[i, :, target]) for i in range(a.shape[0])]
    worst = int(np.argmax(other_abs)) if others else -1
    return {"spearman": float(np.mean(rhos)), "spearman_min": float(np.min(rhos)),
            "spearman_mean_curve": spearman(amt, a[:, :, target].mean(0)),
            "target_change": change, "others_mean_abs_change": other_mean,
            "ratio": change / other_mean if other_mean > 0 else math.inf,
            "worst_other": others[worst] if others else None,
            "worst_other_abs_change": float(other_abs[worst]) if others else 0.0,
            "curve": a[:, :, target].mean(0).tolist()}


# --------------------------------------------------------------------------------- fitting
#: the rule a shipped slider meets (issue 17): monotonic in its own attribute, moving it at
#: least a quarter of the attribute's range between the slider's ends, and more selective
#: than the median random direction
SHIP_MIN_SPEARMAN = 0.9
SHIP_MIN_CHANGE = 0.25


def slider_verdict(row: dict[str, Any], random_median_ratio: float, *, min_spearman: float = SHIP_MIN_SPEARMAN,
                   min_change: float = SHIP_MIN_CHANGE) -> str:
    """Why the judged slider ``row`` (a :func:`judge_sweep` result, signed so that + grows the
    attribute) fails the shipping rule, in words; '' when it meets it."""
    why = []
    if not row["spearman"] >= min_spearman:
        why.append(f"not monotonic enough (Spearman {row['spearman']:.2f}, needs {min_spearman:g})")
    if not row["target_change"] >= min_change:
        why.append(f"moves its attribute too little ({row['target_change']:+.2f} of its range, needs "
                   f"{min_change:+g})")
    if not row["ratio"] > random_median_ratio:
        why.append(f"not selective enough (ratio {row['ratio']:.1f}, a random direction's median "
                   f"{random_median_ratio:.1f})")
    return "; ".join(why)


def fit_direction(w: torch.Tensor | np.ndarray, labels: np.ndarray, *, method: str = "regression",
                  l2: float = 1e-3) -> np.ndarray:
    """The unit direction (dim,) in W along which ``labels`` grow. ``regression``: ridge
    regression of the labels on centred w (``l2`` relative to the mean eigenvalue of w's
    covariance); ``boundary``: InterFaceGAN's boundary between the top and bottom 30 %
    (:func:`ganpaint.engine.models.directions.fit_boundary`). NaN labels are left out."""
    x = np.asarray(w.detach().cpu() if isinstance(w, torch.Tensor) else w, np.float64)
    y = np.asarray(labels, np.float64).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} latents but {y.shape[0]} labels")
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(y) < 8 or float(np.std(y)) < 1e-12:
        raise ValueError("the labels do not separate: the measure hardly varies over the samples")
    if method == "boundary":
        d = fit_boundary(torch.from_numpy(x).float(), y).double().numpy()
    elif method == "regression":
        xc, yc = x - x.mean(0), y - y.mean()
        cov = xc.T @ xc
        lam = l2 * float(np.trace(cov)) / cov.shape[0]
        d = np.linalg.solve(cov + lam * np.eye(cov.shape[0]), xc.T @ yc)
    else:
        raise ValueError(f"method must be 'regression' or 'boundary', got {method!r}")
    n = float(np.linalg.norm(d))
    if not np.isfinite(n) or n == 0:
        raise ValueError("the fitted direction is zero")
    return (d / n).astype(np.float32)


def _orthogonalised(dirs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each direction with the span of the ones before it projected out (InterFaceGAN's
    conditional manipulation, in the order given)."""
    out: dict[str, np.ndarray] = {}
    for name, d in dirs.items():
        out[name] = conditional(torch.from_numpy(d), [torch.from_numpy(v) for v in out.values()]).numpy()
    return out


# --------------------------------------------------------------------------------- pictures
@torch.inference_mode()
def _pictures(G: Generator, ws: torch.Tensor, batch: int = 4) -> np.ndarray:
    """uint8 (n, H, W, 3) of w (n, dim) or W+ (n, n_styles, dim), const noise."""
    return np.concatenate([(S.to_pictures(S.synthesize(G, ws[i:i + batch], noise="const")) * 255 + 0.5).astype(np.uint8)
                           for i in range(0, ws.shape[0], batch)])


def _moved(ws: torch.Tensor, d: np.ndarray, scale: float, amount: float) -> torch.Tensor:
    """The faces tool's slider move (``ganpaint_faces.tool.apply_sliders`` on every style
    input): ws + amount * scale * d."""
    return ws + amount * scale * torch.from_numpy(d).to(ws)


def _measure_many(measure: Measure, pics: np.ndarray, names: Sequence[str]) -> np.ndarray:
    m = measure(pics)
    return np.stack([np.asarray(m[k], np.float64).reshape(-1) for k in names], 1)  # (n, K)


def selectivity_text(sel: dict[str, Any]) -> str:
    """One line of a direction's ``selectivity`` figures."""

    def f(key: str, spec: str) -> str:
        v = sel.get(key)
        return "inf" if v is None else format(float(v), spec)

    rnd = f" (random directions: {f('random_ratio_median', '.1f')})" if "random_ratio_median" in sel else ""
    return (f"Spearman {f('spearman', '.2f')}, change {f('target_change', '+.2f')}, others "
            f"{f('others_mean_abs_change', '.2f')}, ratio {f('ratio', '.1f')}{rnd}")


# --------------------------------------------------------------------------------- the command
@dataclass(frozen=True)
class LabelReport:
    """What :func:`label_directions` saved."""

    model: str
    path: Path
    directions: dict[str, dict[str, Any]]  # slider name -> its info (measure, scale, selectivity, ...)
    measured: int  # samples with a face found
    samples: int
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{self.model}: {len(self.directions)} landmark directions from {self.measured}/{self.samples} "
               f"measured samples -> {self.path}"]
        for name, info in self.directions.items():
            sel = info.get("selectivity") or {}
            if sel:
                out.append(f"  {name:12s} ({info['measure']}): {selectivity_text(sel)}")
            else:
                out.append(f"  {name:12s} ({info['measure']}): not judged")
        return out


def label_directions(G: Generator, model: str, sha256: str, *, measure: Measure, measure_names: Sequence[str],
                     samples: int = DEFAULT_SAMPLES, seed: int = 0, method: str = "regression",
                     orthogonalise: bool = False, sweep_seeds: int = DEFAULT_SWEEP_SEEDS,
                     amounts: Sequence[float] = DEFAULT_AMOUNTS, psi: float = 0.7, random_k: int = 2,
                     min_measured: float = 0.5, labeller: str = "", root: str | os.PathLike[str] | None = None,
                     warn: Callable[[str], None] | None = None, progress: Progress | None = None) -> LabelReport:
    """Fit, judge and save a landmark direction per measure for generator ``G`` (weights
    sha256 ``sha256``), into ``model``'s direction file (its other directions are kept; earlier
    landmark directions are replaced). ``measure`` maps uint8 pictures to the measures named in
    ``measure_names`` (NaN where it found no face); fewer than ``min_measured`` of the samples
    measured raises DirectionsError (the generator does not make photographic faces).
    ``sweep_seeds`` 0 skips the selectivity figures."""
    if samples < 16:
        raise DirectionsError("samples must be >= 16")
    amounts = [float(a) for a in amounts]
    if 0.0 not in amounts or len(amounts) < 3:
        raise DirectionsError("the sweep amounts must include 0 and at least one amount either side")
    notes: list[str] = []
    report = progress or (lambda fraction, message: None)

    def _warn(msg: str) -> None:
        notes.append(msg)
        if warn is not None:
            warn(msg)

    names = list(measure_names)
    _, w = w_samples(G, samples, seed)
    rows = []
    for i in range(0, samples, 16):
        report(0.5 * i / samples, f"measuring samples {i}/{samples}")
        rows.append(_measure_many(measure, _pictures(G, w[i:i + 16]), names))
    labels = np.concatenate(rows)  # (samples, K)
    measured = int(np.isfinite(labels).all(1).sum())
    if measured < min_measured * samples:
        raise DirectionsError(
            f"the landmark model found a face in only {measured} of {samples} samples of {model!r}: it needs a "
            "generator of photographic faces (FFHQ, MetFaces ...); for the cartoon faces use "
            f"`ganpaint directions compute --model {model}`")
    report(0.5, "fitting directions")
    fitted: dict[str, np.ndarray] = {}
    for k, m in enumerate(names):
        try:
            fitted[m] = fit_direction(w, labels[:, k], method=method)
        except ValueError as exc:
            _warn(f"{m}: {exc}")
    if orthogonalise:
        fitted = _orthogonalised(fitted)
    ok = np.isfinite(labels).all(1)
    lo, hi = np.percentile(labels[ok], [5, 95], axis=0)
    spans = np.where(hi - lo > 1e-12, hi - lo, 1.0)

    ds = existing_directions(model, sha256, G.style_dim, root=root, warn=_warn)
    for n in [n for n, i in ds.info.items() if i.get("kind") == KIND]:
        ds.vectors.pop(n)
        ds.info.pop(n)
    w_fit = w.float()
    for m, d in fitted.items():
        info: dict[str, Any] = {"measure": m, "samples": int(samples), "measured": measured, "method": method,
                                "orthogonalised": bool(orthogonalise), "labels": labeller or "face landmarks",
                                "measure_span_5_95": [float(lo[names.index(m)]), float(hi[names.index(m)])]}
        if orthogonalise:
            info["conditioned_on"] = list(fitted)[: list(fitted).index(m)]
        ds.add(SLIDER_NAMES.get(m, m), d, kind=KIND, scale=std_along(w_fit, d), **info)

    if sweep_seeds:
        _judge(G, ds, fitted, names, spans, measure=measure, n=sweep_seeds, seed=seed + 10000, psi=psi,
               amounts=amounts, random_k=random_k, report=report, warn=_warn)
    report(0.98, "saving")
    path = save_directions(ds, root)
    report(1.0, "saved")
    made = {SLIDER_NAMES.get(m, m): ds.info[SLIDER_NAMES.get(m, m)] for m in fitted}
    return LabelReport(model, path, made, measured, samples, tuple(notes))


def _judge(G: Generator, ds: DirectionSet, fitted: dict[str, np.ndarray], names: list[str], spans: np.ndarray, *,
           measure: Measure, n: int, seed: int, psi: float, amounts: list[float], random_k: int,
           report: Progress, warn: Callable[[str], None]) -> None:
    """Sweep fresh seeds along every fitted direction (and ``random_k`` random ones) and record
    :func:`judge_sweep`'s figures in ``ds.info[name]["selectivity"]``."""
    with torch.inference_mode():
        w0 = S.z_to_w(G, S.sample_z(G, n, seed))
        if psi != 1.0:
            w0 = S.truncate(w0, S.w_avg(G), psi)
    base = _measure_many(measure, _pictures(G, w0), names)

    def sweep(d: np.ndarray, scale: float) -> np.ndarray:
        cols = [base if a == 0 else _measure_many(measure, _pictures(G, _moved(w0, d, scale, a)), names) for a in amounts]
        attrs = np.stack(cols, 1)  # (n, n_amounts, K)
        return attrs[np.isfinite(attrs).all((1, 2))]

    total = len(fitted) + random_k
    rnd_ratios = []
    gen = torch.Generator().manual_seed(seed + 202)
    _, w_ref = w_samples(G, 2000, seed + 101)
    for j in range(random_k):
        report(0.55 + 0.4 * (len(fitted) + j) / total, f"random direction {j + 1}/{random_k}")
        v = torch.randn(G.style_dim, generator=gen)
        v = (v / v.norm()).numpy()
        attrs = sweep(v, std_along(w_ref, v))
        if len(attrs) < 2:
            continue
        per = [judge_sweep(attrs, amounts, t, spans) for t in range(len(names))]
        best = int(np.argmax([abs(p["target_change"]) for p in per]))
        rnd_ratios.append(abs(per[best]["ratio"]))
    for i, (m, d) in enumerate(fitted.items()):
        name = SLIDER_NAMES.get(m, m)
        report(0.55 + 0.4 * i / total, f"judging {name}")
        attrs = sweep(d, ds.scale(name))
        if len(attrs) < 2:
            warn(f"{name}: too few swept seeds kept a measurable face; no selectivity figures")
            continue
        r = judge_sweep(attrs, amounts, names.index(m), spans)
        r["worst_other"] = names[r["worst_other"]] if r["worst_other"] is not None else None
        sel = {k: r[k] for k in ("spearman", "spearman_min", "target_change", "others_mean_abs_change", "ratio",
                                 "worst_other", "worst_other_abs_change")}
        sel = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in sel.items()}
        sel.update({"seeds": int(len(attrs)), "amounts": amounts, "psi": psi, "units": "5-95 % range of each measure",
                    "measured_by": "ganpaint.latent.interfacegan.judge_sweep (as tools/eval_stylegan.py sliders)"})
        if rnd_ratios:
            sel["random_ratio_median"] = float(np.median(rnd_ratios))
            sel["random_directions"] = len(rnd_ratios)
        ds.info[name]["selectivity"] = sel


#: the plugin-shipped cartoon generator: its sliders come from its own attribute classifier
CARTOON_DEFAULT = "faces-default"


def label_for_model(entry: Any, *, measure: Measure | None = None, measure_names: Sequence[str] | None = None,
                    landmarks_dir: str | os.PathLike[str] | None = None, log: Callable[[str], None] = print,
                    **options: Any) -> LabelReport:
    """:func:`label_directions` for a model-store entry (its ``g_ema``, saved under its name).
    ``measure`` None: the MediaPipe landmarker (fetched into the cache when missing; raises
    ``face_landmarks.LandmarksUnavailable`` without ai-edge-litert). The cartoon default is refused."""
    from ganpaint.engine.models.directions import stylegan_generator

    if entry.name == CARTOON_DEFAULT:
        raise DirectionsError(
            f"{CARTOON_DEFAULT} draws cartoon faces, which the landmark model (trained on photographs) does not "
            f"measure; its sliders come from its own classifier (`ganpaint directions compute --model {CARTOON_DEFAULT}`)")
    G = stylegan_generator(entry)
    labeller = options.pop("labeller", "")
    if measure is None:
        from ganpaint.latent import face_landmarks as F

        measure = F.FaceLandmarker(landmarks_dir, log=log)
        measure_names = F.MEASURES
        labeller = (f"MediaPipe face detector + face mesh from {F.WHEEL_FILENAME} (sha256 {F.WHEEL_SHA256[:12]}, "
                    f"{F.LICENCE}), run with ai-edge-litert")
    if measure_names is None:
        raise DirectionsError("a custom measure needs its measure_names")
    return label_directions(G, entry.name, entry.card.sha256, measure=measure, measure_names=measure_names,
                            labeller=labeller, **options)
