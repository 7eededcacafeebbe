"""Reading NVIDIA's StyleGAN2-ADA / StyleGAN3 snapshot pickles without running their code.

A snapshot (``network-snapshot-*.pkl``, the published ``ffhq.pkl`` ...) is a plain pickle of a
dict with ``G``, ``D``, ``G_ema``, ``augment_pipe`` and ``training_set_kwargs``. Every network
module was wrapped by NVlabs' ``torch_utils.persistence``, so it is pickled as a call of
``torch_utils.persistence._reconstruct_persistent_obj(meta)`` where ``meta`` carries the Python
source of the module that defined the class, the class name and the module's ``__dict__``.
Their loader executes that source. This one never does.

:class:`SafeUnpickler` resolves only a short allow-list of globals:

* ``_reconstruct_persistent_obj`` -> :class:`PersistentStub`, an inert record of the class
  name, its constructor arguments (``init_kwargs``) and its state (``_parameters``,
  ``_buffers``, ``_modules`` and plain attributes); the source text is kept only as its
  sha256, never compiled;
* tensors: ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter`` and
  ``torch.storage._load_from_bytes`` (whose bytes are read with ``torch.load(weights_only=True)``);
* plain containers and values: ``collections.OrderedDict``, ``dnnlib.EasyDict`` (as a dict),
  a plain ``torch.nn.Module`` (as a stub), numpy arrays, scalars and dtypes of numeric kinds.

Any other global (``os.system``, ``builtins.exec``, ``subprocess`` ...) stops the load with
:class:`UnsafePickleError` naming what was asked for. Nothing of the file runs, so a pickle
whose embedded source would write a file leaves none behind.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganpaint.engine.models.cards import ModelFileError

__all__ = [
    "NVlabsNetwork",
    "PersistentStub",
    "SafeUnpickler",
    "UnsafePickleError",
    "load_snapshot",
    "read_generator",
]


class UnsafePickleError(ModelFileError):
    """The pickle asks for something beyond tensors and plain containers."""


class PersistentStub:
    """What ``_reconstruct_persistent_obj`` would have rebuilt, as inert data."""

    def __init__(self, class_name: str = "", state: Mapping[str, Any] | None = None,
                 source_sha256: str = "", source_size: int = 0, source_nvidia: bool = False) -> None:
        self.class_name = class_name
        self.state: dict[str, Any] = dict(state or {})
        self.source_sha256 = source_sha256
        self.source_size = source_size
        #: the embedded source carries NVIDIA's copyright notice (its licence then applies)
        self.source_nvidia = source_nvidia

    def __setstate__(self, state: Any) -> None:  # BUILD on a plain nn.Module
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, Mapping):
            raise UnsafePickleError(f"a module's state is a {type(state).__name__}, expected a dict")
        self.state.update(state)

    def __repr__(self) -> str:
        return f"PersistentStub({self.class_name!r})"

    @property
    def init_kwargs(self) -> dict[str, Any]:
        kw = self.state.get("_init_kwargs") or {}
        return _plain(kw) if isinstance(kw, Mapping) else {}

    @property
    def init_args(self) -> tuple[Any, ...]:
        args = self.state.get("_init_args") or ()
        return tuple(args) if isinstance(args, list | tuple) else ()

    def submodule(self, name: str) -> PersistentStub | None:
        mods = self.state.get("_modules") or {}
        m = mods.get(name)
        return m if isinstance(m, PersistentStub) else None

    def named_tensors(self, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
        """(dotted name, tensor) of every parameter and buffer, as ``state_dict()`` orders them."""
        for group in ("_parameters", "_buffers"):
            for k, v in (self.state.get(group) or {}).items():
                if isinstance(v, torch.Tensor):
                    yield prefix + k, v
        for k, m in (self.state.get("_modules") or {}).items():
            if isinstance(m, PersistentStub):
                yield from m.named_tensors(f"{prefix}{k}.")

    def attr(self, name: str, default: Any = None) -> Any:
        return self.state.get(name, default)


class _EasyDict(dict):  # type: ignore[type-arg]
    """dnnlib's EasyDict, unpickled as a plain dict (its attribute access is not needed)."""

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, Mapping):
            self.update(state)


class _ArrayStub:
    """``numpy.core.multiarray._reconstruct``'s empty array; BUILD fills it from raw bytes."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        try:
            _version, shape, dtype, _fortran, raw = state
        except (TypeError, ValueError):
            raise UnsafePickleError("a numpy array with an unexpected state") from None
        if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(raw, bytes | bytearray):
            raise UnsafePickleError("a numpy array of Python objects; only numeric arrays are read")
        order = "F" if _fortran else "C"
        self.array = np.frombuffer(bytes(raw), dtype=dtype).reshape(tuple(shape), order=order).copy()


def _np_reconstruct(_cls: Any, _shape: Any, _dtype: Any) -> _ArrayStub:
    return _ArrayStub()


def _np_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(spec, str):
        raise UnsafePickleError(f"numpy dtype {spec!r}: only named numeric dtypes are read")
    dt = np.dtype(spec)
    if dt.hasobject or dt.kind not in "biufcb?":
        raise UnsafePickleError(f"numpy dtype {spec!r}: only numeric dtypes are read")
    return dt


def _np_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise UnsafePickleError("a numpy scalar that is not a plain number")
    return np.frombuffer(data, dtype=dtype)[0].item()


def _reconstruct_persistent(meta: Any) -> PersistentStub:
    if not isinstance(meta, Mapping):
        raise UnsafePickleError("a persistent object without its metadata")
    if meta.get("type") != "class":
        raise UnsafePickleError(f"a persistent object of type {meta.get('type')!r}; only classes are read")
    src = meta.get("module_src")
    src_b = src.encode("utf-8", "replace") if isinstance(src, str) else b""
    state = meta.get("state")
    if state is not None and not isinstance(state, Mapping):
        raise UnsafePickleError("a persistent object whose state is not a dict")
    # the source is hashed, never compiled or executed
    nvidia = b"NVIDIA CORPORATION" in src_b[:4096]
    return PersistentStub(str(meta.get("class_name") or "?"), state or {}, hashlib.sha256(src_b).hexdigest(),
                          len(src_b), nvidia)


def _load_storage(data: Any) -> Any:
    """``torch.storage._load_from_bytes``: the bytes are a legacy ``torch.save`` of one storage."""
    if not isinstance(data, bytes | bytearray):
        raise UnsafePickleError("a tensor storage without its bytes")
    try:
        return torch.load(io.BytesIO(bytes(data)), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        raise UnsafePickleError(f"a tensor storage that torch's weights-only reader refuses ({exc})") from None


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       backward_hooks: Any = None, metadata: Any = None) -> torch.Tensor:
    if not isinstance(storage, torch.storage.TypedStorage | torch.UntypedStorage):
        raise UnsafePickleError("a tensor whose storage is not a torch storage")
    t = torch._utils._rebuild_tensor(storage, int(offset), tuple(size), tuple(stride))
    return t


def _rebuild_parameter(data: Any, requires_grad: Any = False, backward_hooks: Any = None, *rest: Any) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError("a parameter that holds no tensor")
    return data.detach()


class _NdarrayMarker:
    """Stands for ``numpy.ndarray`` as the first argument of ``_reconstruct``; never builds an array."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise UnsafePickleError("refused: the pickle calls numpy.ndarray directly")


class _ModuleStubClass(PersistentStub):
    """Stands in for ``torch.nn.Module`` itself (``Module.__new__`` then BUILD with its __dict__)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _ModuleStubClass:
        obj = object.__new__(cls)
        PersistentStub.__init__(obj, "Module")
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray")

#: (module, name) -> what the unpickler hands back instead of importing it
ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("dnnlib.util", "EasyDict"): _EasyDict,
    ("dnnlib", "EasyDict"): _EasyDict,
    ("torch.nn.modules.module", "Module"): _ModuleStubClass,
    ("numpy", "dtype"): _np_dtype,
    ("numpy", "ndarray"): _NdarrayMarker,
    **{(m, "_reconstruct"): _np_reconstruct for m in _NUMPY_MODULES},
    **{(m, "scalar"): _np_scalar for m in _NUMPY_MODULES},
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED` globals and no persistent ids."""

    def find_class(self, module: str, name: str) -> Any:
        hit = ALLOWED.get((module, name))
        if hit is None and module.startswith("dnnlib.tflib"):
            raise UnsafePickleError(
                f"refused: a TensorFlow StyleGAN pickle ({module}.{name}); GANPaint reads the PyTorch pickles of "
                "stylegan2-ada-pytorch and stylegan3 (convert this one with their legacy.py where you trust it, "
                "or with rosinality's convert_weight.py) and never runs code from a pickle"
            )
        if hit is None:
            raise UnsafePickleError(
                f"refused: the pickle asks for {module}.{name}; GANPaint reads only tensors, storages "
                "and plain containers from NVIDIA pickles and never runs code from them"
            )
        return hit

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refused: the pickle uses persistent ids, which NVIDIA snapshots do not")


def _plain(obj: Any) -> Any:
    """Containers and numpy stand-ins as JSON-like values (dicts, lists, numbers, strings)."""
    if isinstance(obj, _ArrayStub):
        return None if obj.array is None else obj.array.tolist()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, bool | int | float | str) or obj is None:
        return obj
    return repr(obj)


def load_snapshot(path: str | os.PathLike[str]) -> Any:
    """The unpickled snapshot (a dict of stubs, tensors and plain values); UnsafePickleError for
    anything else, ModelFileError for a damaged file."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            return SafeUnpickler(fh).load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{p}: {exc}", path=p, reason="unsafe") from None
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read the file ({exc.strerror or exc})", path=p) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{p}: not a readable NVIDIA snapshot pickle ({type(exc).__name__}: {exc})",
                             path=p, reason="corrupt") from None


@dataclass(frozen=True)
class NVlabsNetwork:
    """One network of a snapshot (normally ``G_ema``), as data."""

    #: "stylegan2" (stylegan2-ada-pytorch, or stylegan3's networks_stylegan2) or "stylegan3"
    family: str
    class_name: str
    init_kwargs: dict[str, Any]
    #: parameters and buffers, flat, with NVlabs' names (``mapping.fc0.weight``, ``synthesis.b4.const``, ...)
    tensors: dict[str, torch.Tensor]
    #: sha256 of each embedded module source (never run), by class name
    source_sha256: dict[str, str] = field(default_factory=dict)
    #: the snapshot's other entries, as plain values where they are plain (training_set_kwargs ...)
    snapshot_info: dict[str, Any] = field(default_factory=dict)
    stub: PersistentStub | None = field(default=None, compare=False, repr=False)


def _sources(stub: PersistentStub, out: dict[str, str]) -> None:
    if stub.source_sha256:
        out.setdefault(stub.class_name, stub.source_sha256)
    for m in (stub.state.get("_modules") or {}).values():
        if isinstance(m, PersistentStub):
            _sources(m, out)


def read_generator(path: str | os.PathLike[str], key: str = "G_ema") -> NVlabsNetwork:
    """The generator ``key`` (``G_ema``; ``G`` when a snapshot has no ``G_ema``) of a snapshot."""
    p = Path(path)
    snap = load_snapshot(p)
    if isinstance(snap, PersistentStub):  # a bare pickled generator
        stub, used = snap, "(whole file)"
        info: dict[str, Any] = {}
    elif isinstance(snap, Mapping):
        used = key if isinstance(snap.get(key), PersistentStub) else ("G" if isinstance(snap.get("G"), PersistentStub) else "")
        if not used:
            found = ", ".join(str(k) for k in list(snap)[:8])
            raise ModelFileError(f"{p}: no generator ({key}) in the snapshot; it holds {found}", path=p)
        stub = snap[used]
        info = {str(k): _plain(v) for k, v in snap.items()
                if not isinstance(v, PersistentStub) and k != "augment_pipe"}
    else:
        raise ModelFileError(f"{p}: expected a snapshot dict with G_ema, found a {type(snap).__name__}", path=p)
    synth = stub.submodule("synthesis")
    mapping = stub.submodule("mapping")
    if synth is None or mapping is None:
        raise ModelFileError(f"{p}: {used} ({stub.class_name}) has no mapping and synthesis networks; "
                             "not a StyleGAN2-ADA / StyleGAN3 generator", path=p)
    family = "stylegan3" if synth.submodule("input") is not None else "stylegan2"
    if family == "stylegan2" and synth.submodule("b4") is None:
        raise ModelFileError(f"{p}: {used}'s synthesis network is neither StyleGAN2 (b4 ...) nor StyleGAN3 (input, L0 ...)", path=p)
    tensors: dict[str, torch.Tensor] = {}
    for k, v in stub.named_tensors():
        tensors[k] = v.detach().float().contiguous() if v.is_floating_point() else v.detach().contiguous()
    srcs: dict[str, str] = {}
    _sources(stub, srcs)
    info["generator_key"] = used
    return NVlabsNetwork(family, stub.class_name, stub.init_kwargs, tensors, srcs, info, stub)
