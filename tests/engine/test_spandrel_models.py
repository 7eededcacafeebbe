"""Community models through spandrel: safe reading, detection, cards, the store, tiling, and
the torchvision stand-in. Test vectors are made here: BasicSR-layout networks of non-default
widths with random weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from ganpaint.engine.models import spandrel_models as sm
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.store import ModelStore

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- vectors
def rrdbnet_sd(nf: int = 16, nb: int = 2, gc: int = 32, seed: int = 0) -> dict[str, torch.Tensor]:
    """Real-ESRGAN's RRDBNet (x4) in BasicSR key layout: conv_first, body.N.rdbK.convM, ..."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}

    def conv(name: str, out_ch: int, in_ch: int) -> None:
        sd[f"{name}.weight"] = torch.randn(out_ch, in_ch, 3, 3, generator=g) * (1.4 / (in_ch * 9) ** 0.5)
        sd[f"{name}.bias"] = torch.randn(out_ch, generator=g) * 0.05

    conv("conv_first", nf, 3)
    for b in range(nb):
        for r in (1, 2, 3):
            for k in range(1, 6):
                conv(f"body.{b}.rdb{r}.conv{k}", nf if k == 5 else gc, nf + (k - 1) * gc)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        conv(name, nf, nf)
    conv("conv_last", 3, nf)
    sd["conv_last.bias"] += 0.5
    return sd


def compact_sd(nf: int = 12, num_conv: int = 3, scale: int = 2, seed: int = 1) -> dict[str, torch.Tensor]:
    """SRVGGNetCompact (realesr-animevideov3's architecture) in BasicSR key layout."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    in_ch = 3
    for i in range(num_conv + 1):
        sd[f"body.{2 * i}.weight"] = torch.randn(nf, in_ch, 3, 3, generator=g) * (1.2 / (in_ch * 9) ** 0.5)
        sd[f"body.{2 * i}.bias"] = torch.randn(nf, generator=g) * 0.05
        sd[f"body.{2 * i + 1}.weight"] = torch.full((nf,), 0.25)  # PReLU
        in_ch = nf
    last = 2 * (num_conv + 1)
    sd[f"body.{last}.weight"] = torch.randn(3 * scale * scale, nf, 3, 3, generator=g) * (0.3 / (nf * 9) ** 0.5)
    sd[f"body.{last}.bias"] = torch.zeros(3 * scale * scale)
    return sd


def picture(h: int = 53, w: int = 70, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(x[..., None] / 6.0 + np.array([0, 1, 2], np.float32)) * np.cos(y[..., None] / 9.0)
    return np.clip(base + rng.normal(0, 0.05, (h, w, 3)), 0, 1).astype(np.float32)


def to8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a * 255), 0, 255).astype(np.int16)


@pytest.fixture()
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "store", include_resources=False)


def spandrel_reference(path: Path, rgb: np.ndarray) -> np.ndarray:
    """spandrel's own loader and call on the original file."""
    spandrel = sm.import_spandrel()
    desc = spandrel.ModelLoader("cpu").load_from_file(str(path)).eval()
    x = torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None]
    return desc(x)[0].permute(1, 2, 0).numpy()


# ----------------------------------------------------------------------------- import + reproduce
@pytest.mark.parametrize("form", ["pth", "safetensors"])
def test_rrdbnet_params_ema_imports_and_reproduces_spandrel(tmp_path: Path, store: ModelStore, form: str) -> None:
    sd = rrdbnet_sd()
    src = tmp_path / f"RealESRGAN_tiny.{form}"
    if form == "pth":
        torch.save({"params_ema": sd}, src)
    else:
        save_file(sd, str(src))
    entry = store.import_files(src)
    card = entry.card
    assert entry.tool == "upscale" and "upscale" in [e.tool for e in store.list(tool="upscale")]
    assert card.architecture == "spandrel:ESRGAN" and card.components == ()
    c = card.config
    assert (c["purpose"], c["scale"], c["in_channels"], c["out_channels"]) == ("SR", 4, 3, 3)
    assert c["tags"] == ["16nf", "2nb"] and c["code_licence"] == "Apache-2.0"
    assert c["size"] == {"minimum": 2, "multiple_of": 1, "square": False} and c["tiling"] == "supported"
    assert "ESRGAN" in entry.report and "stored as" in entry.report

    rgb = picture(21, 19)
    ours = sm.run_image(sm.load_spandrel(entry.path, "cpu"), rgb)
    ref = spandrel_reference(src, rgb)
    assert ours.shape == (84, 76, 3)
    assert ref.std() > 0.02  # a real picture, not a clamped constant
    assert np.abs(to8(ours) - to8(ref)).max() <= 1


def test_compact_params_imports_and_reproduces_spandrel(tmp_path: Path, store: ModelStore) -> None:
    sd = compact_sd(nf=12, num_conv=3, scale=2)
    src = tmp_path / "animevideo-tiny.pth"
    torch.save({"params": sd}, src)
    entry = store.import_files(src)
    assert entry.tool == "upscale" and entry.card.architecture == "spandrel:Compact"
    assert entry.card.config["scale"] == 2 and entry.card.config["code_licence"] == "BSD-3-Clause"
    rgb = picture(30, 41)
    ours = sm.run_image(sm.load_spandrel(entry.path, "cpu"), rgb)
    ref = spandrel_reference(src, rgb)
    assert ours.shape == (60, 82, 3) and ref.std() > 0.05
    assert np.abs(to8(ours) - to8(ref)).max() <= 1


def test_params_ema_is_preferred_over_params(tmp_path: Path, store: ModelStore) -> None:
    ema, plain = compact_sd(seed=1), compact_sd(seed=2)
    src = tmp_path / "both.pth"
    torch.save({"params": plain, "params_ema": ema}, src)
    entry = store.import_files(src)
    from ganpaint.engine.models.checkpoints import read_safetensors

    stored, _ = read_safetensors(entry.path)
    assert all(torch.equal(stored[k], ema[k]) for k in ema)


def test_tiled_equals_untiled_on_an_odd_picture() -> None:
    desc = sm.detect(compact_sd(nf=8, num_conv=2, scale=2))
    rgb = picture(53, 70)
    whole = sm.run_image(desc, rgb, tile=4096)
    tiled = sm.run_image(desc, rgb, tile=24)
    assert whole.shape == tiled.shape == (106, 140, 3)
    assert np.abs(to8(whole) - to8(tiled)).max() <= 1
    assert np.abs(whole - tiled).max() < 1e-4  # exact up to float rounding: no seam


# ----------------------------------------------------------------------------- refusals
def _one_sentence(text: str) -> None:
    assert "\n" not in text and "Traceback" not in text and text.rstrip().endswith((".", ")"))


def test_torchscript_is_refused_with_one_sentence(tmp_path: Path, store: ModelStore) -> None:
    src = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.trace(torch.nn.Conv2d(3, 3, 3), torch.zeros(1, 3, 8, 8)), str(src))
    with pytest.raises(ModelFileError, match="TorchScript") as err:
        store.import_files(src)
    _one_sentence(str(err.value))
    assert store.list() == []


def test_junk_state_dict_is_refused_with_one_sentence(tmp_path: Path, store: ModelStore) -> None:
    g = torch.Generator().manual_seed(3)
    src = tmp_path / "junk.pth"
    torch.save({f"layer{i}.kernel": torch.randn(4, 4, generator=g) for i in range(5)}, src)
    with pytest.raises(ModelFileError, match="unknown architecture") as err:
        store.import_files(src)
    _one_sentence(str(err.value))
    assert "spandrel" in str(err.value)


def test_unsafe_pickle_is_refused_and_nothing_runs(tmp_path: Path, store: ModelStore) -> None:
    marker = tmp_path / "marker"

    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(marker), "w"))

    src = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"body.0.weight": Boom()}}, src)
    with pytest.raises(ModelFileError, match="refused"):
        store.import_files(src)
    assert not marker.exists()


def test_an_architecture_without_a_checked_licence_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sm.ARCH_LICENCES, "Compact")
    with pytest.raises(ModelFileError, match="licence") as err:
        sm.detect(compact_sd())
    _one_sentence(str(err.value))
    monkeypatch.setitem(sm.ARCH_LICENCES, "Compact", sm.ArchLicence("CC-BY-NC-4.0", False))
    with pytest.raises(ModelFileError, match="not compatible with GANPaint's GPL-3.0-or-later"):
        sm.detect(compact_sd())


def test_every_main_spandrel_architecture_has_a_checked_licence() -> None:
    spandrel = sm.import_spandrel()
    ids = {str(s.architecture.id) for s in spandrel.MAIN_REGISTRY.architectures()}
    assert ids == set(sm.ARCH_LICENCES)
    assert all(lic.gpl_compatible for lic in sm.ARCH_LICENCES.values())
    assert "spandrel_extra_arches" not in sys.modules


def test_purposes_map_to_tools() -> None:
    assert sm.PURPOSE_TOOLS == {"SR": "upscale", "FaceSR": "restore_faces", "Inpainting": "inpaint",
                                "Restoration": "restore"}
    assert sm.describe(sm.detect(compact_sd(scale=1)))["tool"] == "restore"


# ----------------------------------------------------------------------------- torchvision stand-in
def test_standin_functions_match_torchvision() -> None:
    tvf = pytest.importorskip("torchvision.transforms.functional")
    from ganpaint.engine.models import _torchvision_standin as tvs

    x = torch.rand(1, 3, 23, 31, generator=torch.Generator().manual_seed(0))
    for angle in (17.0, -40.0):
        ref = tvf.rotate(x, angle, tvf.InterpolationMode.BILINEAR, fill=0)
        ours = tvs.rotate(x, torch.tensor([angle]), tvs.InterpolationMode.BILINEAR, fill=0)
        assert torch.allclose(ours, ref, atol=1e-5)
    ref = tvf.normalize(x[0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    assert torch.allclose(tvs.normalize(x[0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), ref)


STANDIN_SCRIPT = textwrap.dedent("""
    import importlib.abc, sys
    class NoTorchvision(importlib.abc.MetaPathFinder):  # the frozen bundle's failure, simulated
        def find_spec(self, name, path=None, target=None):
            if name == "torchvision" or name.startswith("torchvision."):
                raise ImportError("operator torchvision::nms does not exist (simulated)")
    sys.meta_path.insert(0, NoTorchvision())
    import numpy as np, torch
    from ganpaint.engine.models import _torchvision_standin as tvs, spandrel_models as sm
    sm.import_spandrel()
    assert tvs.is_standin() and "simulated" in tvs.failure
    from spandrel.architectures.LaMa import LaMa
    from spandrel.architectures.RestoreFormer import RestoreFormer
    torch.manual_seed(0)
    lama = sm.detect(LaMa(in_nc=4, out_nc=3).state_dict())
    rgb = np.random.default_rng(0).random((40, 48, 3), dtype=np.float32)
    hole = np.zeros((40, 48), bool); hole[10:20, 12:30] = True
    out = sm.run_masked(lama, rgb, hole)
    assert out.shape == (40, 48, 3) and np.isfinite(out).all()
    rf = sm.detect(RestoreFormer(n_embed=32, embed_dim=16, ch=32, out_ch=3, ch_mult=(1, 2), num_res_blocks=1,
                                 attn_resolutions=(16,), dropout=0.0, in_channels=3, resolution=512,
                                 z_channels=16, double_z=False, enable_mid=True, head_size=8).state_dict())
    out = sm.run_image(rf, rgb[:32, :32])
    assert out.shape == (32, 32, 3) and np.isfinite(out).all()
    print("standin-ok", lama.architecture.id, rf.architecture.id)
""")


def test_spandrel_loads_lama_and_restoreformer_where_torchvision_fails() -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", STANDIN_SCRIPT], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "standin-ok LaMa RestoreFormer" in proc.stdout


def test_standin_is_not_installed_where_torchvision_imports() -> None:
    pytest.importorskip("torchvision")
    code = ("from ganpaint.engine.models import _torchvision_standin as t; import sys; "
            "assert t.ensure_torchvision() is False and not t.is_standin(); print('real')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and "real" in proc.stdout, proc.stderr[-2000:]
