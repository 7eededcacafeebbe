"""The CUDA code paths' logic, on a machine without a GPU (issue 18, point 3): torch's own
device checks are faked at the boundary only (torch.cuda.is_available / device_count /
is_bf16_supported / empty_cache, a tensor that says it lives on cuda:0, a model whose
forward raises torch.OutOfMemoryError there); GANPAINT's code runs unchanged.

* device choice: auto -> cuda, cuda:N checked against the count, no CUDA -> a clear error;
* autocast choice: "fast" is bf16 autocast where the GPU has bf16, fp16 where not, "full" is
  plain float32; the eager call really enters torch.autocast("cuda", dtype);
* out of memory on the GPU: whole picture, then ever smaller tiles, then the CPU (the model
  moved there and back home), the user told at each step, the result right.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import torch
from torch import nn

from ganpaint.engine.inference import backends, devices
from ganpaint.engine.inference.devices import DeviceError, pick_device
from ganpaint.engine.inference.tiling import run_full_resolution
from ganpaint.nn import ResnetConfig, ResnetGenerator
from ganpaint.testing import RecordingContext

CUDA0 = torch.device("cuda", 0)


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch):
    """torch reports ``n`` CUDA devices (bf16 or not); returns a setter."""
    monkeypatch.delenv("GANPAINT_DEVICE", raising=False)
    state = {"n": 2, "bf16": True, "emptied": 0}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: state["n"] > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: state["n"])
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: state["bf16"])

    def empty_cache() -> None:
        state["emptied"] += 1

    monkeypatch.setattr(torch.cuda, "empty_cache", empty_cache)
    return state


# ------------------------------------------------------------------------------ device choice
def test_device_choice_with_and_without_cuda(fake_cuda) -> None:
    assert pick_device("auto") == "cuda" and pick_device(None) == "cuda"
    assert pick_device("cuda:1") == "cuda:1" and pick_device("cpu") == "cpu"
    with pytest.raises(DeviceError, match="only 2 CUDA device"):
        pick_device("cuda:2")
    assert devices.cuda_device_count() == 2
    fake_cuda["n"] = 0
    assert pick_device("auto") in ("cpu", "mps")
    with pytest.raises(DeviceError, match="no CUDA device"):
        pick_device("cuda")
    assert devices.cuda_device_count() == 0


# ------------------------------------------------------------------------------ autocast choice
def _tiny(norm: str = "instance") -> nn.Module:
    torch.manual_seed(0)
    return ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1, norm=norm)).eval()  # type: ignore[arg-type]


def test_autocast_choice_on_cuda(fake_cuda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "openvino_available", lambda: False)
    assert devices.fast_dtype("cuda") == "bfloat16" and devices.fast_dtype("cuda:1") == "bfloat16"
    model = _tiny()
    full = backends.select_runner(model, "cuda", "full")
    assert (full.name, full.dtype, full.call, full.note) == ("eager", "float32", model, "")
    fast = backends.select_runner(model, "cuda:0", "fast")
    assert (fast.name, fast.dtype, fast.note) == ("eager-autocast", "bfloat16", "")
    fake_cuda["bf16"] = False  # e.g. a Turing card: fp16 autocast instead
    assert devices.fast_dtype("cuda") == "float16"
    old = backends.select_runner(model, "cuda", "fast")
    assert (old.name, old.dtype) == ("eager-autocast", "float16")

    entered: list[tuple[str, Any]] = []

    @contextlib.contextmanager
    def autocast(device_type: str, dtype: Any = None, **kw: Any):
        entered.append((device_type, dtype))
        yield

    monkeypatch.setattr(torch, "autocast", autocast)
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.inference_mode():
        y = old.call(x)
        ref = model(x)
    assert entered == [("cuda", torch.float16)]
    assert y.dtype == torch.float32 and torch.equal(y, ref)


# ------------------------------------------------------------------------------ out of memory
class _OnCuda(torch.Tensor):
    """A CPU tensor that says it is on cuda:0; ``.to("cpu")`` gives the plain tensor."""

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return CUDA0

    def to(self, *args: Any, **kwargs: Any) -> torch.Tensor:  # type: ignore[override]
        dev = args[0] if args else kwargs.get("device")
        if dev is not None and torch.device(dev).type == "cpu":
            return self.as_subclass(torch.Tensor).clone()
        return super().to(*args, **kwargs)


class _GpuModel(nn.Module):
    """Runs ``inner``; raises torch.OutOfMemoryError for GPU inputs above ``limit`` pixels;
    ``.to()`` moves to the CPU for real and only records moves to cuda."""

    def __init__(self, inner: nn.Module, limit: int) -> None:
        super().__init__()
        self.inner, self.limit = inner, limit
        self.size_multiple, self.min_size = 4, 8
        self.calls: list[tuple[str, int, int]] = []
        self.moves: list[str] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        on_gpu = isinstance(x, _OnCuda)
        h, w = int(x.shape[-2]), int(x.shape[-1])
        self.calls.append(("cuda" if on_gpu else "cpu", h, w))
        if on_gpu and h * w > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        y: torch.Tensor = self.inner(x.as_subclass(torch.Tensor))
        return y  # a plain tensor: the tiles' sum is made where the output lives (here the CPU)

    def to(self, *args: Any, **kwargs: Any) -> _GpuModel:  # type: ignore[override]
        dev = torch.device(args[0] if args else kwargs["device"])
        self.moves.append(str(dev))
        return super().to(dev) if dev.type == "cpu" else self


def test_out_of_memory_on_the_gpu_goes_to_tiles_then_the_cpu(fake_cuda) -> None:
    inner = _tiny()
    model = _GpuModel(inner, limit=0)  # nothing fits on the "GPU"
    x = (torch.rand(1, 3, 64, 64) * 2 - 1).as_subclass(_OnCuda)
    assert x.device == CUDA0
    ctx = RecordingContext()
    with torch.inference_mode():
        y = run_full_resolution(model, x, model, ctx=ctx, budget_bytes=1 << 40)
        ref = inner(x.as_subclass(torch.Tensor))
    msgs = [m for _, m in ctx.calls]
    tiles = [m for m in msgs if m.startswith("Out of memory: retrying in")]
    assert tiles == ["Out of memory: retrying in 32x32 tiles", "Out of memory: retrying in 16x16 tiles",
                     "Out of memory: retrying in 8x8 tiles"], msgs
    assert "Out of memory on cuda:0: retrying on the CPU" in msgs
    gpu = [(h, w) for d, h, w in model.calls if d == "cuda"]
    assert len(gpu) == 4  # the whole picture, then the first window of each tile size, each out of memory
    assert model.calls[-1] == ("cpu", 64, 64)  # the CPU had room for the whole picture
    assert model.moves == ["cpu", "cuda:0"]  # moved for the retry, then back to its device
    assert fake_cuda["emptied"] == 4  # the cache freed after each out-of-memory
    assert torch.allclose(y, ref, atol=1e-5)


def test_out_of_memory_fits_in_tiles_stays_on_the_gpu(fake_cuda) -> None:
    inner = _tiny("none")  # no whole-picture statistics pass: only the tiles run
    model = _GpuModel(inner, limit=130 * 130)  # 128-px windows fit, the 256-px picture does not
    x = (torch.rand(1, 3, 256, 256) * 2 - 1).as_subclass(_OnCuda)
    ctx = RecordingContext()
    with torch.inference_mode():
        y = run_full_resolution(model, x, model, ctx=ctx, budget_bytes=1 << 40)
    msgs = [m for _, m in ctx.calls]
    assert [m for m in msgs if m.startswith("Out of memory")] == ["Out of memory: retrying in 128x128 tiles"]
    assert model.moves == [] and fake_cuda["emptied"] == 1
    gpu = [(h, w) for d, h, w in model.calls if d == "cuda"]
    assert gpu[0] == (256, 256) and len(gpu) == 10 and all(max(c) <= 128 for c in gpu[1:])  # 3 x 3 windows
    with torch.inference_mode():
        ref = inner(x.as_subclass(torch.Tensor))
    assert (y - ref).abs().max() * 127.5 <= 1.0  # the tiles agree with the whole picture
