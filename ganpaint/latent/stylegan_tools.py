"""What the style-mixing and face-slider tools share: the generator, the source latent
(seed, z file, stored W+ latent, or an inverted picture) and placing the picture on the canvas.

The generator is a StyleGAN2 one, or a StyleGAN3 one (an imported NVIDIA pickle) seen through
the same interface (``stylegan_sampling.StyleGAN3Tools``): its ws have ``num_ws`` entries, it
has no noise inputs, and its drafts are synthesised at full size (it cannot stop early).

A tool gets a canvas-size IMAGE whenever the document has a layer (the command line gives a
white canvas when there is no INPUT), so ``source="auto"`` inverts the IMAGE only when it
holds a picture: a blank layer (one flat colour, or fully transparent) means "generate".
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganpaint.core.specs import Role, RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.latent.inversion import InversionCache, InversionError, invert, picture_key, resize_picture
from ganpaint.latent.pivotal_tuning import DEFAULT_LR, TunedCache, tunable, tune
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan_sampling import Generator

log = logging.getLogger(__name__)

__all__ = ["NO_MODEL", "PREVIEW_SIZE", "Loaded", "Source", "canvas_size", "draft_metadata", "draft_size",
           "load_generator", "model_directions", "npy_bytes", "pending_draft", "place", "source_latent"]

#: the model-card architectures the tools run
ARCHITECTURES = ("stylegan2", "stylegan3")

NO_MODEL = ("no StyleGAN2 model is available for {tool}: import one with `ganpaint models import FILE` "
            "or train one with `ganpaint train stylegan2`")

#: inversions kept between runs (a slider moved on an inverted picture re-uses or resumes them)
CACHE = InversionCache()
#: generators tuned to inverted pictures (pivotal tuning), the latest two (each is a model copy)
TUNED = TunedCache()

#: Side of the drafts made while a live slider is dragged (``request.preview``): a larger
#: generator stops after this resolution's to-RGB output (``synthesize(max_size=)``). At one
#: thread, loaded machine: a 256 px generator with the training recipe's widths takes 46 ms
#: at 128 px against 70 ms in full (64 px: 33 ms, hardly cheaper and visibly blurred on a
#: canvas); standard-width 256/512 px models take 0.7 s at 128 px against 1.0 / 2.0 s. Models
#: of 128 px and less (the shipped ones) already draft at their own size.
PREVIEW_SIZE = 128
#: A draft on a picture whose inversion has not got this far (fraction of its steps) shows
#: the picture itself rather than a latent still close to the mean face.
DRAFT_MIN_INVERTED = 0.1


@dataclass(frozen=True)
class Loaded:
    G: Generator
    name: str
    sha256: str
    #: the weights file (a plugin-shipped default keeps its directions in a folder beside it)
    path: str = ""


@dataclass(frozen=True)
class Source:
    ws: torch.Tensor  # (1, n_styles, dim)
    kind: str  # "seed" | "z" | "latent" | "inverted"
    info: dict[str, Any]
    #: the generator to synthesise this latent (and edits of it) with: a copy tuned to the
    #: inverted picture (``pivotal_tuning``), or None for the model itself
    G: Generator | None = None

    def generator(self, G: Generator) -> Generator:
        """The generator to synthesise with: the tuned copy, else ``G``."""
        return self.G if self.G is not None else G


def load_generator(ctx: RunContext, name: str, tool: str) -> Loaded:
    """The StyleGAN2 or StyleGAN3 generator ``name`` for ``tool`` (cached; a StyleGAN3 one in
    its ``StyleGAN3Tools`` view); a clear ToolError otherwise."""
    from ganpaint.engine.models.cards import ModelFileError, card_of_file
    from ganpaint.engine.models.model_cache import default_cache

    name = name or _first_model(tool)
    path = ctx.model_path(name, tool)
    try:
        card = card_of_file(path)
    except ModelFileError as exc:
        raise ToolError(str(exc)) from None
    if card.architecture not in ARCHITECTURES:
        raise ToolError(f"model {name!r} is a {card.architecture} model, not a StyleGAN2 generator")
    model = default_cache().get(path, component="g_ema", device=str(getattr(ctx, "device", "cpu") or "cpu"), ctx=ctx)
    try:
        G = S.tool_generator(model)
    except TypeError:
        raise ToolError(f"model {name!r} did not load as a StyleGAN2 or StyleGAN3 generator") from None
    return Loaded(G, name, card.sha256, str(path))


def model_directions(ld: Loaded) -> Any:
    """The saved slider directions of ``ld``: the user's (``ganpaint directions compute``)
    first, else those a plugin ships beside its default model (``models/directions/``).
    None when there are none; DirectionsMismatch / ModelFileError as ``load_directions``."""
    from ganpaint.engine.models.directions import find_directions

    return find_directions(ld.name, sha256=ld.sha256, style_dim=ld.G.style_dim, model_file=ld.path)


def canvas_size(params: Any, model_path: Any, tool: str) -> tuple[int, int]:
    """A ToolSpec ``canvas`` hook: the square a generator tool makes on the command line
    without INPUT or --size: ``size`` when set, else the generator's own resolution (read
    off the model card, no weights loaded), times the scale of its own upscaler when
    "Sharper enlargement" is on and the card names one that is installed (the faces
    default's 64 px become 256)."""
    from ganpaint.engine.models.cards import ModelFileError, card_of_file

    side = int(params.get("size") or 0)
    if side > 0:
        return side, side
    name = params.get("model") or _first_model(tool)
    try:
        card = card_of_file(model_path(name, tool))
    except ModelFileError as exc:
        raise ToolError(str(exc)) from None
    side = int(card.config.get("size") or card.config.get("img_resolution") or 0)  # stylegan2 / stylegan3
    if side <= 0:
        raise ToolError(f"model {name!r} does not say its resolution; give --size WxH or --set size=N")
    if params.get("enlarge"):
        side *= _upscaler_scale(card.extra.get("upscaler"), model_path)
    return side, side


def _upscaler_scale(names: Any, model_path: Any) -> int:
    """The native scale of the first installed of ``names`` (its card's config), 1 if none."""
    from ganpaint.engine.models.cards import ModelFileError, card_of_file

    for name in upscaler_names(names):
        try:
            config = card_of_file(model_path(name, "upscale")).config
        except (ToolError, ModelFileError, OSError):
            continue
        return max(1, int(config.get("upscale") or config.get("scale") or 1))
    return 1


def _first_model(tool: str) -> str:
    """No model chosen (no default ships yet): the first StyleGAN2 or StyleGAN3 model the
    user's store lists for ``tool``, else the message saying how to get one."""
    from ganpaint.engine.models.store import ModelStore

    try:
        found = [e for e in ModelStore(include_resources=False).list(tool=tool) if e.card.architecture in ARCHITECTURES]
    except OSError:
        found = []
    if not found:
        raise ToolError(NO_MODEL.format(tool=tool))
    return found[0].name


def read_latent_file(path: str, G: Generator) -> tuple[str, torch.Tensor]:
    """A ``.npy``: z of shape (z_dim,) / (1, z_dim) -> ("z", (1, z_dim)); a W+ latent (n_styles, dim)
    / (1, n_styles, dim) (what the tools store as ``latent.npy``) -> ("latent", (1, n_styles, dim))."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ToolError(f"cannot read latent file {path!r}: {exc}") from None
    if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
        raise ToolError(f"{path}: a latent must hold finite floats")
    d, n, zd = G.style_dim, G.n_styles, S.z_dim(G)
    if arr.shape in ((zd,), (1, zd)):
        return "z", torch.from_numpy(arr.astype(np.float32).reshape(1, zd))
    if arr.shape in ((n, d), (1, n, d)):
        return "latent", torch.from_numpy(arr.astype(np.float32).reshape(1, n, d))
    raise ToolError(f"{path}: latent of shape {arr.shape}; this generator takes z ({zd},) or (1, {zd}), "
                    f"or a W+ latent ({n}, {d})")


def is_blank(rgb: np.ndarray, alpha: np.ndarray | None) -> bool:
    """One flat colour, or nothing visible: nothing to invert."""
    if alpha is not None and float(alpha.max(initial=0.0)) < 1e-3:
        return True
    flat = rgb.reshape(-1, 3)
    # every run asks (each draft of a drag too): a picture differs within a sparse sample
    # already, and a channel-major copy reduces ~10x faster than the strided (N, 3) columns
    # (1024 x 1024: 0.6 ms for a picture, 7 ms for a blank layer, against 60 ms)
    sample = flat[::97]
    if float((sample.max(axis=0) - sample.min(axis=0)).max()) >= 1e-3:
        return False
    planes = np.ascontiguousarray(flat.T)
    return bool((planes.max(axis=1) - planes.min(axis=1)).max() < 1e-3)


def draft_size(G: Generator, request: ToolRequest) -> int | None:
    """The ``max_size`` to synthesise at: PREVIEW_SIZE for a draft, None (full) otherwise.
    A generator that cannot stop early (StyleGAN3) drafts at full size: None."""
    if not request.preview or not S.stops_early(G):
        return None
    return min(G.size, PREVIEW_SIZE)


def draft_metadata(G: Generator, request: ToolRequest, src: Source) -> dict[str, Any]:
    """What a draft adds to a result's metadata: the side it was synthesised at and, when
    there is one, ``draft_note`` (the editor shows it in the status bar). {} for a final run.
    A StyleGAN3 draft larger than PREVIEW_SIZE says that it was made at full size."""
    if not request.preview:
        return {}
    side = draft_size(G, request)
    out: dict[str, Any] = {"draft_size": side or G.size}
    notes = [src.info["note"]] if "note" in src.info else []
    if side is None and G.size > PREVIEW_SIZE:
        notes.append(f"StyleGAN3 cannot stop at a lower resolution: drafts are synthesised at full size "
                     f"({G.size} px)")
    if notes:
        out["draft_note"] = "; ".join(notes)
    return out


def pending_draft(request: ToolRequest, src: Source) -> ToolResult:
    """A draft for a picture not inverted far enough yet (``src.kind == "pending"``): the
    picture as it is, with a note saying the release run inverts it (a long optimisation is
    no draft)."""
    image = request.images[Role.IMAGE]
    return ToolResult(image=np.array(image, np.float32, copy=True), metadata={
        "source": "pending", **{f"source_{n}": v for n, v in src.info.items()},
        "draft_note": src.info["note"]})


def source_latent(ld: Loaded, request: ToolRequest, ctx: RunContext, *, seed: int, z_file: str, psi: float,
                  mode: str = "auto", steps: int = 200, noise: str = "const",
                  span: tuple[float, float] = (0.0, 1.0), tune_steps: int = 0) -> Source:
    """The W+ latent a tool starts from: an inverted picture (mode invert, or auto with a
    picture), else the z file / stored latent, else the seed; truncated by ``psi`` (not
    inverted ones). ``span`` maps inversion progress into the job's progress range.

    ``tune_steps`` > 0: an inverted picture's source also carries a copy of the generator
    tuned to it for that many steps (``Source.G``, pivotal tuning), so the picture's own detail
    survives; the inversion then takes the first half of ``span``, the tuning the second.

    A draft (``request.preview``) never optimises: an unfinished inversion is used as far as
    it got (the final run resumes it), or, when it has hardly started, the source is
    ``kind="pending"`` (``ws`` the mean latent, ``info["note"]`` says why): show the picture
    with :func:`pending_draft`."""
    G = ld.G
    image = request.images.get(Role.IMAGE)
    use_picture = mode == "invert" or (mode == "auto" and image is not None and not is_blank(image, request.alpha))
    if use_picture:
        if image is None:
            raise ToolError("inversion needs an input picture (a layer, or INPUT on the command line)")
        key = picture_key(ld.sha256, image, f"{steps}|{noise}")
        state = CACHE.state(key)
        init = "cache" if state.ws is not None else _restore_stored(state, request, key, G, steps)
        if request.preview and state.steps_done < steps:
            return _draft_source(G, state, steps)
        a, b = span
        if tune_steps > 0:
            b = (a + b) / 2

        def progress(f: float, msg: str) -> None:
            ctx.progress(a + (b - a) * f, msg)

        init_ws = None
        if state.ws is None:
            init_ws, init = _encoder_guess(ld, image), "encoder"
            if init_ws is None:
                init = "mean"
        try:
            invert(G, image, steps=steps, state=state, init_ws=init_ws, progress=progress, noise=noise)
        except InversionError as exc:
            raise ToolError(str(exc)) from None
        assert state.ws is not None
        info = {"steps": state.steps_done, "init": init, "key": key}
        if math.isfinite(state.loss):  # a latent restored from a saved result has no loss to report
            info["loss"] = state.loss
        src = Source(state.ws.clone(), "inverted", info)
        if tune_steps > 0:
            src = _tuned_source(G, src, image, request, ctx, tune_steps, noise, (b, span[1]))
        return src
    with torch.inference_mode():
        if z_file:
            kind, lat = read_latent_file(z_file, G)
            if kind == "latent":
                return Source(S.on_generator(G, lat), "latent", {"file": z_file})
            w = S.z_to_w(G, lat)
            info: dict[str, Any] = {"file": z_file}
        else:
            kind = "seed"
            w = S.z_to_w(G, S.sample_z(G, 1, seed))
            info = {"seed": seed}
        if psi != 1.0:
            w = S.truncate(w, S.w_avg(G), psi)
        return Source(S.broadcast(G, w).clone(), kind, info)


#: the attachments a result keeps of its inversion (``ToolRequest.previous`` on a re-run)
STORED_LATENT, STORED_KEY = "latent_source.npy", "latent_source.key"


def stored_inversion(src: Source) -> dict[str, bytes]:
    """Attachments that let a re-run of this result skip the inversion (also after the .ora
    was saved and reopened): the inverted latent and the key of what was inverted."""
    if src.kind != "inverted" or "key" not in src.info:
        return {}
    return {STORED_LATENT: npy_bytes(src.ws), STORED_KEY: str(src.info["key"]).encode()}


def _restore_stored(state: Any, request: ToolRequest, key: str, G: Generator, steps: int) -> str:
    """Fill an empty cache state from the result being re-made, when it inverted this very
    picture with these options (the key matches). Returns "stored", or "" when nothing fits."""
    prev = request.previous or {}
    if prev.get(STORED_KEY, b"").decode(errors="replace") != key or STORED_LATENT not in prev:
        return ""
    try:
        arr = np.load(io.BytesIO(prev[STORED_LATENT]), allow_pickle=False)
    except (OSError, ValueError):
        return ""
    if arr.shape != (1, G.n_styles, G.style_dim) or not np.isfinite(arr).all():
        return ""
    with state.lock:
        if state.ws is None:
            state.ws = S.on_generator(G, torch.from_numpy(arr.astype(np.float32)))
            state.steps_done = steps
    return "stored"


def _encoder_guess(ld: Loaded, image: np.ndarray) -> torch.Tensor | None:
    """The model's inversion encoder's guess for ``image`` as a starting latent, or None
    when the model has no encoder (the inversion then starts from the mean latent)."""
    from ganpaint.latent.encoders import find_encoder
    from ganpaint.latent.inversion import to_target

    enc = find_encoder(ld.name, ld.sha256, ld.path)
    if enc is None:
        return None
    try:
        target = to_target(ld.G, image)
    except InversionError:
        return None  # invert() says why, with its own message
    with torch.inference_mode():
        w = enc(target.float().cpu())
    return S.broadcast(ld.G, S.on_generator(ld.G, w)).clone()


def _tuned_source(G: Generator, src: Source, image: np.ndarray, request: ToolRequest, ctx: RunContext,
                  steps: int, noise: str, span: tuple[float, float]) -> Source:
    """``src`` (an inverted picture) with a copy of ``G`` tuned to the picture (cached). A
    draft never tunes: it uses a finished tuned copy when there is one, else the model itself
    (its note says the detail comes when the slider is let go)."""
    if not tunable(G):
        return Source(src.ws, src.kind, {**src.info, "tuned": "no (the model runs in half precision)"})
    key = f"{src.info.get('key', '')}|tune{steps}|{DEFAULT_LR}"
    if request.preview:
        ready = TUNED.peek(key)
        if ready is not None and ready.G is not None and ready.steps_done >= steps:
            return Source(src.ws, src.kind, {**src.info, "tuned": ready.steps_done}, ready.G)
        return Source(src.ws, src.kind, {**src.info, "tuned": 0,
                                         "note": "draft without the picture's fine detail (matched when you let go)"})
    a, b = span

    def progress(f: float, msg: str) -> None:
        ctx.progress(a + (b - a) * f, msg)

    state = TUNED.state(key)
    tune(G, src.ws, image, steps=steps, state=state, progress=progress, noise=noise)
    return Source(src.ws, src.kind, {**src.info, "tuned": state.steps_done, "tune_loss": state.loss}, state.G)


def _draft_source(G: Generator, state: Any, steps: int) -> Source:
    """A draft's source while the picture's inversion is unfinished (read without its lock:
    a running inversion swaps ``state.ws`` whole each step)."""
    ws, done = state.ws, state.steps_done
    if ws is not None and done >= max(1, DRAFT_MIN_INVERTED * steps):
        return Source(ws.clone(), "inverted", {"steps": done, "loss": state.loss,
                                               "note": f"draft of an unfinished inversion ({done}/{steps} steps)"})
    with torch.inference_mode():
        mean = S.broadcast(G, S.w_avg(G)[None]).clone()
    note = (f"the picture is not inverted yet ({done}/{steps} steps): "
            "the sliders apply when you let go (the inversion runs then)")
    return Source(mean, "pending", {"steps": done, "note": note})


def _draft_resize(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    """resize_picture's filter in a cheaper memory layout (channels last: no transposing
    copies; ~2-3x faster when enlarging a draft onto a large canvas)."""
    if picture.shape[1] == width and picture.shape[0] == height:
        return np.ascontiguousarray(picture, dtype=np.float32)
    import torch.nn.functional as F

    t = torch.from_numpy(np.asarray(picture, np.float32)).permute(2, 0, 1)[None]
    t = t.contiguous(memory_format=torch.channels_last)
    out = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return np.ascontiguousarray(out[0].permute(1, 2, 0).clamp_(0, 1).numpy())


#: the upscaler "Sharper enlargement" prefers (installed by `ganpaint models fetch-realesrgan`)
PREFERRED_UPSCALER = "realesrgan-x4plus"


def gan_enlarge(picture: np.ndarray, width: int, height: int, ctx: RunContext | None,
                prefer: str | Sequence[str] = ()) -> tuple[np.ndarray, str]:
    """Enlarge a generator's small picture towards (width, height) with a learned upscaler.

    ``prefer``: the upscalers chosen for this generator, best first (its card's
    ``extra.upscaler``, e.g. the faces default's), resolved through ``ctx`` (a plugin may ship
    one): the first installed, one pass, as it was chosen. Otherwise, or when it cannot be found, an installed upscaler (a
    model-store entry for the ``upscale`` tool; ``realesrgan-x4plus`` when present), as many
    x-native passes as it takes (at most 3). The last step to the exact size is the caller's
    resize. Returns (picture, the upscaler's name); with no upscaler, or a target no bigger
    than the picture, the picture unchanged and ""."""
    h0, w0 = picture.shape[:2]
    if width <= w0 and height <= h0:
        return picture, ""
    path, name, passes = _preferred_upscaler(prefer, ctx)
    if not path:
        from ganpaint.engine.models.store import ModelStore

        names = [e.name for e in ModelStore().list(tool="upscale")]
        if not names:
            return picture, ""
        name = PREFERRED_UPSCALER if PREFERRED_UPSCALER in names else names[0]
        path = ctx.model_path(name, "upscale") if ctx is not None else str(ModelStore().get(name, tool="upscale").path)
    from ganpaint.engine.models.spandrel_models import load_spandrel, run_image

    device = getattr(ctx, "device", "cpu") if ctx is not None else "cpu"
    desc = load_spandrel(path, device, ctx=ctx)
    native = max(1, int(desc.scale))
    out = np.ascontiguousarray(picture, dtype=np.float32)
    for _ in range(passes):
        if native == 1 or (out.shape[1] >= width and out.shape[0] >= height):
            break
        if ctx is not None:
            ctx.progress(0.95, f"enlarging x{native} with {name}")
        out = run_image(desc, out, ctx=ctx)
    return out, str(name)


def _preferred_upscaler(prefer: str | Sequence[str], ctx: RunContext | None) -> tuple[str, str, int]:
    """(path, name, passes) of the first installed of the generator's own upscalers;
    ("", "", 3) when none is."""
    for name in upscaler_names(prefer):
        if ctx is None:
            break
        try:
            return ctx.model_path(name, "upscale"), name, 1
        except ToolError:
            log.info("the generator's upscaler %r is not installed", name)
    return "", "", 3


def card_upscaler(ld: Loaded) -> tuple[str, ...]:
    """The upscalers the generator's card names, best first (``extra.upscaler``: a name or a
    list); () when none."""
    from ganpaint.engine.models.cards import ModelFileError, card_of_file

    if not ld.path:
        return ()
    try:
        return upscaler_names(card_of_file(ld.path).extra.get("upscaler"))
    except (ModelFileError, OSError):
        return ()


def upscaler_names(value: Any) -> tuple[str, ...]:
    """A card's ``extra.upscaler`` (a name, a list of names, or nothing) as names, best first."""
    if not value:
        return ()
    return (str(value),) if isinstance(value, str) else tuple(str(n) for n in value if n)


def enlarge_for(picture: np.ndarray, request: ToolRequest, size: int, inverted: bool,
                ctx: RunContext | None, prefer: str | Sequence[str] = ()) -> tuple[np.ndarray, str]:
    """``gan_enlarge`` towards what ``place`` will make of the picture (the canvas for an
    inverted picture, the ``size`` square otherwise); drafts are never enlarged this way."""
    if request.preview:
        return picture, ""
    w, h = request.size
    tw, th = (w, h) if inverted else ((size or min(w, h)),) * 2
    return gan_enlarge(picture, tw, th, ctx, prefer)


def place(picture: np.ndarray, request: ToolRequest, size: int, inverted: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The generator's square picture -> (canvas-size RGB, alpha or None).

    An inverted picture is resized back to the canvas (the input's size). A generated one
    becomes a ``size`` square (0 = the canvas's shorter side) centred on the canvas, with
    transparency around it when the canvas is not that square. A draft (``request.preview``,
    maybe synthesised smaller) is resized the cheaper way."""
    w, h = request.size
    resize = _draft_resize if request.preview else resize_picture
    if inverted:
        return resize(picture, w, h), None
    side = size or min(w, h)
    sq = resize(picture, side, side)
    out = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    x0, y0 = (w - side) // 2, (h - side) // 2
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(w, x0 + side), min(h, y0 + side)
    out[cy0:cy1, cx0:cx1] = sq[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    alpha[cy0:cy1, cx0:cx1] = 1.0
    return out, (None if (side == w == h) else alpha)


def npy_bytes(arr: np.ndarray | torch.Tensor) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr.detach().cpu() if isinstance(arr, torch.Tensor) else arr, np.float32),
            allow_pickle=False)
    return buf.getvalue()
