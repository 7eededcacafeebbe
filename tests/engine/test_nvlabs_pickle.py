"""The restricted unpickler for NVIDIA StyleGAN2-ADA / StyleGAN3 snapshot pickles: it reads the
generator's arguments and tensors and never runs code from the file.

The NVlabs test vectors (pickles written by NVlabs' own code, which embed NVIDIA's
non-commercial source) are read from ../shared/compat/nvlabs (or $GANPAINT_COMPAT_DIR/nvlabs)
and never copied into the repository; those tests skip when the folder is absent.
"""

from __future__ import annotations

import os
import pickle
import sys
import types
from pathlib import Path

import pytest
import torch

from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.nvlabs_pickle import (
    PersistentStub,
    UnsafePickleError,
    load_snapshot,
    read_generator,
)
from ganpaint.testing.compat import compat_dir

NV = compat_dir("nvlabs")
needs_nvlabs = pytest.mark.skipif(not NV.is_dir(), reason="NVlabs test vectors not present")


# ------------------------------------------------------------------------------ real snapshots
@needs_nvlabs
def test_stylegan2_ada_snapshot_reads_as_data() -> None:
    before = set(sys.modules)
    net = read_generator(NV / "stylegan2ada_16px_w64.pkl")
    assert net.family == "stylegan2" and net.class_name == "Generator"
    kw = net.init_kwargs
    assert (kw["z_dim"], kw["w_dim"], kw["c_dim"], kw["img_resolution"]) == (64, 64, 0, 16)
    assert kw["mapping_kwargs"]["num_layers"] == 2
    assert kw["synthesis_kwargs"]["conv_clamp"] == 256 and kw["synthesis_kwargs"]["channel_max"] == 32
    t = net.tensors
    assert tuple(t["mapping.w_avg"].shape) == (64,)
    assert tuple(t["synthesis.b16.conv1.noise_const"].shape) == (16, 16)
    assert tuple(t["synthesis.b4.const"].shape) == (32, 4, 4)
    assert all(v.dtype == torch.float32 for v in t.values())
    # the sources were hashed, not imported: no module of NVIDIA's packages appeared
    assert not any(m.startswith(("torch_utils", "dnnlib", "_imported_module_")) for m in set(sys.modules) - before)
    assert set(net.source_sha256) >= {"Generator", "SynthesisLayer", "MappingNetwork"}
    assert net.stub is not None and net.stub.source_nvidia


@needs_nvlabs
@pytest.mark.parametrize("name", ["stylegan3t_16px.pkl", "stylegan3r_16px.pkl"])
def test_stylegan3_snapshot_reads_as_data(name: str) -> None:
    net = read_generator(NV / name)
    assert net.family == "stylegan3"
    t = net.tensors
    for key in ("synthesis.input.transform", "synthesis.input.freqs", "synthesis.input.phases",
                "synthesis.input.affine.weight", "mapping.w_avg", "synthesis.L0_36_{c}.magnitude_ema",
                "synthesis.L0_36_{c}.up_filter", "synthesis.L0_36_{c}.down_filter"):
        c = 16 if "3t" in name else 32
        assert key.format(c=c) in t, key
    synth = net.stub.submodule("synthesis")  # type: ignore[union-attr]
    assert synth is not None and len(synth.attr("layer_names")) == 15
    if "3r" in name:
        assert net.init_kwargs["use_radial_filters"] is True
        assert tuple(t["synthesis.L0_36_32.down_filter"].shape) == (12, 12)  # radial: 2-D


@needs_nvlabs
def test_truncated_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    data = (NV / "stylegan3t_16px.pkl").read_bytes()
    bad = tmp_path / "cut.pkl"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="cut.pkl"):
        read_generator(bad)


# ------------------------------------------------------------------------------ booby traps
def _persistence_trap(monkeypatch: pytest.MonkeyPatch, target: Path) -> bytes:
    """A pickle made the way torch_utils.persistence makes them: a call of
    torch_utils.persistence._reconstruct_persistent_obj(meta) whose module source writes
    ``target`` when executed, as NVlabs' loader executes it."""
    pkg = types.ModuleType("torch_utils")
    mod = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # what NVlabs' loader does: run the source
        ns: dict = {}
        exec(compile(meta["module_src"], "<pickled source>", "exec"), ns)  # noqa: S102
        return ns[meta["class_name"]]()

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    mod._reconstruct_persistent_obj = _reconstruct_persistent_obj  # type: ignore[attr-defined]
    pkg.persistence = mod  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch_utils", pkg)
    monkeypatch.setitem(sys.modules, "torch_utils.persistence", mod)
    src = (f"# Copyright (c) 2021, NVIDIA CORPORATION\nopen({str(target)!r}, 'w').write('owned')\n"
           "class Generator:\n    pass\n")
    meta = {"type": "class", "version": 6, "module_src": src, "class_name": "Generator",
            "state": {"_parameters": {"w": torch.ones(2)}, "_buffers": {}, "_modules": {}}}

    class Trap:
        def __reduce__(self):
            return (_reconstruct_persistent_obj, (meta,))

    return pickle.dumps({"G_ema": Trap()}, protocol=4)


def test_persistence_source_that_writes_a_file_is_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "written-by-pickle.txt"
    data = _persistence_trap(monkeypatch, target)
    f = tmp_path / "trap.pkl"
    f.write_bytes(data)
    # the trap is live: an ordinary unpickler (with NVlabs' loader importable) writes the file
    pickle.loads(data)
    assert target.read_text() == "owned"
    target.unlink()
    monkeypatch.delitem(sys.modules, "torch_utils.persistence")
    monkeypatch.delitem(sys.modules, "torch_utils")
    snap = load_snapshot(f)  # weights only: an inert record of the class and its tensors
    stub = snap["G_ema"]
    assert isinstance(stub, PersistentStub) and stub.class_name == "Generator"
    assert torch.equal(dict(stub.named_tensors())["w"], torch.ones(2))
    assert stub.source_nvidia
    with pytest.raises(ModelFileError, match="no mapping and synthesis"):
        read_generator(f)
    assert not target.exists()
    assert "torch_utils" not in sys.modules


class _System:
    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def test_plain_reduce_os_system_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "touched"
    f = tmp_path / "system.pkl"
    f.write_bytes(pickle.dumps({"G_ema": _System(f"touch {target}")}))
    with pytest.raises(UnsafePickleError, match=r"refused: the pickle asks for (posix|os|nt)\.system") as err:
        read_generator(f)
    assert err.value.reason == "unsafe" and str(f) in str(err.value)
    assert not target.exists()


class _Eval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def test_builtins_eval_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "eval.pkl"
    f.write_bytes(pickle.dumps([_Eval()]))
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        load_snapshot(f)


def test_plain_containers_and_numpy_values_are_read(tmp_path: Path) -> None:
    import collections

    import numpy as np

    f = tmp_path / "plain.pkl"
    obj = {"a": collections.OrderedDict(x=1), "b": [1.5, (2, 3)], "c": np.float32(0.5), "d": np.arange(3),
           "e": {1, 2}}
    f.write_bytes(pickle.dumps(obj))
    back = load_snapshot(f)
    assert back["a"] == {"x": 1} and back["b"] == [1.5, (2, 3)] and back["c"] == 0.5 and back["e"] == {1, 2}
    assert back["d"].array.tolist() == [0, 1, 2]


def test_numpy_object_arrays_are_refused(tmp_path: Path) -> None:
    import numpy as np

    f = tmp_path / "objects.pkl"
    f.write_bytes(pickle.dumps(np.array([_Eval()], dtype=object)))
    with pytest.raises(UnsafePickleError):
        load_snapshot(f)
