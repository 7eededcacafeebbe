"""On a CUDA machine only (marker ``cuda``): the tools' inference path on the GPU agrees with
the CPU, "fast" (bf16/fp16 autocast) stays within a few levels, and the device choice is cuda."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganpaint.engine.inference.devices import fast_dtype, pick_device
from ganpaint.engine.inference.translate import translate_array
from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator
from ganpaint.testing import RecordingContext

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def _picture(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(xx * 7), np.cos(yy * 5), np.sin((xx + yy) * 3)], -1) * 0.4 + 0.5
    return np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("arch", ["resnet", "unet"])
def test_gpu_matches_cpu_and_fast_is_close(arch: str) -> None:
    torch.manual_seed(0)
    model = (ResnetGenerator(ResnetConfig(ngf=16, n_blocks=3, norm="instance")) if arch == "resnet"
             else UnetGenerator(UnetConfig(ngf=16, num_downs=6, norm="batch"))).eval()
    pic = _picture(200, 264)
    cpu = translate_array(model, pic)
    model.to("cuda")
    gpu = translate_array(model, pic, ctx=RecordingContext(device="cuda"))
    fast = translate_array(model, pic, ctx=RecordingContext(device="cuda", precision="fast"))
    assert np.abs(gpu - cpu).max() * 255 <= 1.0
    assert np.abs(fast - cpu).mean() * 255 <= 3.0, fast_dtype("cuda")


def test_auto_device_is_cuda() -> None:
    assert pick_device("auto") == "cuda" and fast_dtype("cuda") in ("bfloat16", "float16")
