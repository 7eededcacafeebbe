"""Descriptors that plugins return from their contribution hooks, and the
request/result objects that cross the plugin boundary.

This module is the contract between the host and every plugin. It is pure
Python + numpy: no Qt, no torch.

Pixel convention at the plugin boundary (written once, kept everywhere):

* images are ``numpy.float32`` arrays of shape ``(H, W, 3)``, RGB, values in [0, 1];
* alpha is passed separately as ``(H, W)`` float32 in [0, 1], straight (not premultiplied);
* masks and selections are ``(H, W)`` float32 in [0, 1] (1 = the tool may act here).

Tools name their code as a lazy ``"module:attr"`` string; the host imports it on
first use, inside a worker thread, so discovery never imports heavy modules.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # numpy is only needed for annotations here; `import ganpaint` stays light
    import numpy as np

#: Version of the plugin API this host implements (major, minor).
#: A plugin declares the major version it was written for (see hookspecs).
PLUGIN_API_VERSION: tuple[int, int] = (1, 3)

_ID_RE = re.compile(r"^[a-z][a-z0-9_\-]*$")
_LAZY_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


class SpecError(ValueError):
    """A descriptor returned by a plugin is malformed."""


class Role(enum.StrEnum):
    """What a tool input is for; the panel offers the layers that fit the role."""

    IMAGE = "image"  #: the picture to work on (the active layer by default)
    MASK = "mask"  #: where to act: the selection, or a mask layer
    SKETCH = "sketch"  #: line art, dark lines on white (transparent counts as white)
    HINTS = "hints"  #: colour hints layer (RGBA; alpha says where a hint is)
    IMAGE_B = "image_b"  #: a second picture (style source, reference, ...)


class OutputMode(enum.StrEnum):
    """Where a tool's result goes."""

    NEW_LAYER = "new_layer"  #: a new result layer above the source (default)
    REPLACE = "replace"  #: replace the source layer's pixels (one undoable step)
    #: the result may have another size than the canvas (an upscaler): the image is resized
    #: to it (every layer and the selection, as Image > Resize does) and the result goes in a
    #: new layer above the source, all in one undoable step; the host does not composite it
    #: through the mask (the tool had the mask), and it must carry its alpha when the source has one
    RESIZE = "resize"


ParamKind = Literal["float", "int", "seed", "bool", "choice", "color", "file", "model", "string"]
_KINDS: tuple[str, ...] = ("float", "int", "seed", "bool", "choice", "color", "file", "model", "string")


@dataclass(frozen=True)
class InputSpec:
    """One input of a tool, named by role.

    label: what the panel calls the layer picker ("Sketch", "Area to fill"); empty: a plain
      name for the role. help: one sentence shown as its tooltip (plugin API 1.2).
    """

    role: Role
    label: str = ""
    required: bool = True
    help: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            try:
                object.__setattr__(self, "role", Role(self.role))
            except ValueError as exc:
                raise SpecError(f"unknown input role {self.role!r}") from exc


@dataclass(frozen=True)
class ParamSpec:
    """A parameter of a tool. The host builds the widget from it.

    kind:
      ``float``  (minimum, maximum, step), ``int`` (minimum, maximum, step),
      ``seed`` (an int with a dice button), ``bool``, ``choice`` (choices),
      ``color`` (an ``(r, g, b)`` tuple of floats in [0, 1]), ``file`` (a path),
      ``model`` (a model-store name; ``model_tool`` says which tool's models to list,
      default the tool's own id), ``string``.
    live: changes re-run the tool as a preview (latest-wins queue), debounced.
    thumbnails: (``seed`` only) a lazy ``"module:function"`` drawing small pictures of what
      seeds give, ``fn(params, seeds, size, ctx) -> list of (h, w, 3) float32 in [0, 1]``
      (one per seed, about ``size`` pixels a side); it runs in a worker. The panel then
      offers a grid of seeds to pick from (see docs/plugins.md).
    thumbnail_params: (with ``thumbnails``) the names of the parameters the pictures depend
      on: only these are passed in ``params`` and a change of one re-draws the grid. None
      (the default) passes every parameter except the seeds that have thumbnails.
    label: the name the panel shows, in words a painter knows ("Strength", "Variation");
      empty: the name with ``_`` as spaces. help: one sentence, the field's tooltip.
    advanced: (plugin API 1.2) a knob only a researcher needs (latent files, optimisation
      steps, working resolution): the panel puts it in an "Advanced" section, closed by
      default. It still has a default, and the command line sets it like any other.
    """

    name: str
    kind: ParamKind
    label: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    live: bool = False
    model_tool: str | None = None
    thumbnails: str | None = None
    thumbnail_params: tuple[str, ...] | None = None
    advanced: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise SpecError(f"parameter name {self.name!r} must be a lower-case identifier")
        object.__setattr__(self, "advanced", bool(self.advanced))
        if self.kind not in _KINDS:
            raise SpecError(f"parameter {self.name!r}: unknown kind {self.kind!r}")
        self._check_thumbnails()
        if self.kind == "choice":
            if not self.choices:
                raise SpecError(f"parameter {self.name!r}: a choice needs choices")
            object.__setattr__(self, "choices", tuple(self.choices))
        if self.kind in ("float", "int") and self.minimum is not None and self.maximum is not None:
            if self.minimum > self.maximum:
                raise SpecError(f"parameter {self.name!r}: minimum > maximum")
        if self.default is None:
            object.__setattr__(self, "default", _default_for(self))
        object.__setattr__(self, "default", self.coerce(self.default))

    def _check_thumbnails(self) -> None:
        if self.thumbnails is not None:
            if self.kind != "seed":
                raise SpecError(f"parameter {self.name!r}: thumbnails are only for seed parameters, "
                                f"not {self.kind!r}")
            if not isinstance(self.thumbnails, str) or not _LAZY_RE.match(self.thumbnails):
                raise SpecError(f"parameter {self.name!r}: thumbnails must be a 'module:function' string, "
                                f"got {self.thumbnails!r}")
        if self.thumbnail_params is not None:
            if self.thumbnails is None:
                raise SpecError(f"parameter {self.name!r}: thumbnail_params without thumbnails")
            if isinstance(self.thumbnail_params, str) or not all(
                isinstance(n, str) and _NAME_RE.match(n) for n in self.thumbnail_params
            ):
                raise SpecError(f"parameter {self.name!r}: thumbnail_params must be a tuple of parameter names, "
                                f"got {self.thumbnail_params!r}")
            object.__setattr__(self, "thumbnail_params", tuple(self.thumbnail_params))

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (possibly a string from the command line) to this
        parameter's type and check it; raises ``ValueError`` with a clear message."""
        k = self.kind
        try:
            if k == "float":
                v: Any = float(value)
                if not math.isfinite(v):
                    raise ValueError("not a finite number")
                self._check_range(v)
                return v
            if k in ("int", "seed"):
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError("not an integer")
                v = int(value)
                if k == "int":
                    self._check_range(v)
                elif v < 0:
                    raise ValueError("a seed is a non-negative integer")
                return v
            if k == "bool":
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low in ("1", "true", "yes", "on"):
                        return True
                    if low in ("0", "false", "no", "off"):
                        return False
                    raise ValueError("expected true or false")
                return bool(value)
            if k == "choice":
                v = str(value)
                if v not in self.choices:
                    raise ValueError(f"expected one of {', '.join(self.choices)}")
                return v
            if k == "color":
                if isinstance(value, str):
                    value = _parse_colour(value)
                rgb = tuple(float(c) for c in value)
                if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
                    raise ValueError("expected three values in [0, 1] or #rrggbb")
                return rgb
            return "" if value is None else str(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameter {self.name}: {value!r}: {exc}") from None

    def _check_range(self, v: float) -> None:
        if self.minimum is not None and v < self.minimum:
            raise ValueError(f"below the minimum {self.minimum}")
        if self.maximum is not None and v > self.maximum:
            raise ValueError(f"above the maximum {self.maximum}")


def _default_for(p: ParamSpec) -> Any:
    if p.kind == "float":
        return p.minimum if p.minimum is not None else 0.0
    if p.kind in ("int", "seed"):
        return int(p.minimum) if (p.kind == "int" and p.minimum is not None) else 0
    if p.kind == "bool":
        return False
    if p.kind == "choice":
        return p.choices[0]
    if p.kind == "color":
        return (0.0, 0.0, 0.0)
    return ""


def _parse_colour(text: str) -> tuple[float, float, float]:
    t = text.strip()
    if t.startswith("#") and len(t) == 7:
        return tuple(int(t[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]
    parts = [float(p) for p in t.split(",")]
    if len(parts) != 3:
        raise ValueError("expected #rrggbb or r,g,b")
    return (parts[0], parts[1], parts[2])


@dataclass(frozen=True)
class ToolSpec:
    """A tool contributed by a plugin (returned from ``ganpaint_register_tools``).

    ``run`` names a callable ``run(request: ToolRequest, ctx: RunContext) -> ToolResult``
    as ``"package.module:function"``; it is imported on first use, in a worker.
    """

    id: str
    title: str
    run: str
    inputs: tuple[InputSpec, ...] = (InputSpec(Role.IMAGE),)
    params: tuple[ParamSpec, ...] = ()
    output: OutputMode = OutputMode.NEW_LAYER
    description: str = ""
    category: str = "Filters"
    #: True when the tool needs torch (the host then loads it lazily, on the first job)
    uses_torch: bool = False
    #: Set by the host when registering: the plugin that contributed the tool.
    plugin: str = ""
    #: Optional ``"module:function"``: ``canvas(params, model_path) -> (width, height) | None``,
    #: the canvas a tool that needs no input picture gets on the command line when neither
    #: INPUT nor ``--size`` is given (a generator's own resolution, say). ``model_path(name,
    #: tool)`` resolves a model name as ``RunContext.model_path`` does. Empty: 512 x 512.
    canvas: str = ""
    #: Optional ``"module:function"`` (plugin API 1.3): ``hidden_params(params, model_path) ->
    #: iterable of parameter names`` the panel hides for the current values, e.g. the sliders
    #: the chosen model has no direction for. Called in the GUI process whenever a ``model``
    #: parameter changes, so it must be quick and must not import torch; a hidden parameter
    #: keeps its default. Empty: every parameter is shown.
    hidden_params: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise SpecError(f"tool id {self.id!r} must be lower-case letters, digits, '-' or '_'")
        if not isinstance(self.title, str) or not self.title:
            raise SpecError(f"tool {self.id!r}: title must be a non-empty string")
        if not isinstance(self.run, str) or not _LAZY_RE.match(self.run):
            raise SpecError(f"tool {self.id!r}: run must be a 'module:attr' string, got {self.run!r}")
        if not isinstance(self.canvas, str) or (self.canvas and not _LAZY_RE.match(self.canvas)):
            raise SpecError(f"tool {self.id!r}: canvas must be a 'module:attr' string, got {self.canvas!r}")
        if not isinstance(self.hidden_params, str) or (self.hidden_params and not _LAZY_RE.match(self.hidden_params)):
            raise SpecError(f"tool {self.id!r}: hidden_params must be a 'module:attr' string, "
                            f"got {self.hidden_params!r}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "params", tuple(self.params))
        for i in self.inputs:
            if not isinstance(i, InputSpec):
                raise SpecError(f"tool {self.id!r}: inputs must be InputSpec, got {type(i).__name__}")
        names = [p.name for p in self.params]
        for p in self.params:
            if not isinstance(p, ParamSpec):
                raise SpecError(f"tool {self.id!r}: params must be ParamSpec, got {type(p).__name__}")
        if len(set(names)) != len(names):
            raise SpecError(f"tool {self.id!r}: duplicate parameter names")
        for p in self.params:
            for dep in p.thumbnail_params or ():
                if dep not in names:
                    raise SpecError(f"tool {self.id!r}: parameter {p.name!r}: thumbnail_params names "
                                    f"an unknown parameter {dep!r}")
        if not isinstance(self.output, OutputMode):
            try:
                object.__setattr__(self, "output", OutputMode(self.output))
            except ValueError as exc:
                raise SpecError(f"tool {self.id!r}: unknown output mode {self.output!r}") from exc

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def roles(self) -> tuple[Role, ...]:
        return tuple(i.role for i in self.inputs)

    def default_params(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given`` (coerced). Unknown names raise ``ValueError``."""
        out = self.default_params()
        for name, value in given.items():
            try:
                spec = self.param(name)
            except KeyError:
                known = ", ".join(p.name for p in self.params) or "none"
                raise ValueError(f"tool {self.id}: unknown parameter {name!r} (known: {known})") from None
            out[name] = spec.coerce(value)
        return out


@dataclass(frozen=True)
class ModelSpec:
    """A model file a plugin ships (returned from ``ganpaint_register_models``).

    ``path`` is a safetensors file; its card is in the file's metadata or in a
    ``<name>.card.json`` beside it. Shipped models are read-only defaults.
    """

    name: str
    tool: str
    path: str
    title: str = ""
    default: bool = False
    plugin: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _ID_RE.match(self.name):
            raise SpecError(f"model name {self.name!r} must be lower-case letters, digits, '-' or '_'")
        if not isinstance(self.tool, str) or not self.tool:
            raise SpecError(f"model {self.name!r}: tool must be a tool id")
        if not isinstance(self.path, str) or not self.path:
            raise SpecError(f"model {self.name!r}: path must be a file path")


@dataclass(frozen=True)
class RecipeSpec:
    """A training recipe (returned from ``ganpaint_register_recipes``).

    ``factory`` names ``"module:attr"``, a callable returning the recipe object the
    training loop drives (see ganpaint.train).
    """

    id: str
    title: str
    factory: str
    description: str = ""
    plugin: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise SpecError(f"recipe id {self.id!r} is not valid")
        if not isinstance(self.factory, str) or not _LAZY_RE.match(self.factory):
            raise SpecError(f"recipe {self.id!r}: factory must be a 'module:attr' string")


# --------------------------------------------------------------------------------------
# Crossing the boundary at run time
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolRequest:
    """Everything a tool run needs, copied out of the document (never shared with it).

    ``images`` maps a role to an (H, W, 3) float32 RGB array; for ``Role.HINTS`` the
    array is (H, W, 4) RGBA (alpha = where a hint is). ``alpha`` is the straight
    alpha of the IMAGE input. ``mask`` is the selection (or the MASK-role layer),
    None when there is none. All arrays have the canvas size and are read-only.
    """

    tool_id: str
    images: Mapping[Role, np.ndarray]
    params: Mapping[str, Any]
    alpha: np.ndarray | None = None
    mask: np.ndarray | None = None
    #: name of the layer the IMAGE role was taken from (for naming the result)
    source_name: str = ""
    #: (width, height) of the canvas; lets a tool without picture inputs (a generator)
    #: know the size to produce. None in requests built by hand (``size`` then uses the arrays).
    canvas: tuple[int, int] | None = None
    #: True for a quick draft while the user drags a live slider; a final run (False) with
    #: the released value always follows, so a tool may trade quality for speed here (a lower
    #: resolution, no long optimisation) but should return the same kind of picture.
    preview: bool = False
    #: When the run re-makes an existing result layer (a live slider, or a re-run after the
    #: document was saved and reopened): that layer's attachments (``ToolResult.attachments``,
    #: kept in the .ora). A tool may reuse expensive state it stored there, e.g. an inverted
    #: latent, after checking it still fits the inputs. Empty for a new result.
    previous: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        return self.images[Role.IMAGE]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        if self.canvas is not None:
            return (int(self.canvas[0]), int(self.canvas[1]))
        for arr in self.images.values():
            return (int(arr.shape[1]), int(arr.shape[0]))
        if self.mask is not None:
            return (int(self.mask.shape[1]), int(self.mask.shape[0]))
        raise ValueError("request has no image")


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: an (H, W, 3) float32 RGB picture in [0, 1].

    ``alpha`` None means "keep the source alpha". ``metadata`` is stored with the
    result layer (JSON-serialisable values); ``attachments`` are named byte blobs
    (a latent as .npy, say) stored inside the .ora so the result can be re-edited.
    ``composited`` True means the tool already blended through the mask itself
    (inpainting does), so the host must not composite again.
    """

    image: np.ndarray
    alpha: np.ndarray | None = None
    name: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    attachments: Mapping[str, bytes] = field(default_factory=dict)
    composited: bool = False


class JobCancelled(BaseException):
    """Raised by ``RunContext.progress`` when the user cancelled the job.

    A ``BaseException`` (like ``KeyboardInterrupt``), so a tool's ``except Exception:`` does
    not swallow a cancel; clean up in ``finally`` (or catch ``JobCancelled`` and re-raise).
    """


class ToolError(Exception):
    """Raised by a tool for a problem the user can fix (shown as a message, no traceback)."""


class RunContext(Protocol):
    """What the host gives a running tool."""

    #: "cpu", "cuda", "mps" (a torch device string)
    device: str
    #: "fast" allows reduced precision where the device supports it
    precision: Literal["full", "fast"]

    def progress(self, fraction: float, message: str = "", preview: np.ndarray | None = None) -> None:
        """Report progress in [0, 1]. Raises JobCancelled when the job was cancelled:
        call it between steps or tiles (at least every second or so)."""

    def cancelled(self) -> bool:
        """True once cancel was requested (for loops that clean up before raising)."""

    def model_path(self, name: str, tool: str) -> str:
        """Path of a model-store entry (a safetensors file). Raises ToolError if unknown."""


ToolFunction = Callable[[ToolRequest, RunContext], ToolResult]
