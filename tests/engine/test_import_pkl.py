"""`ganpaint models import X.pkl`: NVIDIA StyleGAN2-ADA / StyleGAN3 snapshots stored as GANPaint
models (safetensors + card) without running the pickles' code, reproducing NVlabs' pictures.

The NVlabs test vectors are read from ../shared/compat/nvlabs (or $GANPAINT_COMPAT_DIR/nvlabs)
and never copied into the repository; the tests that need them skip when they are absent.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.checkpoints import file_sha256
from ganpaint.engine.models.store import ModelStore
from ganpaint.testing.compat import compat_dir

NV = compat_dir("nvlabs")
needs_nvlabs = pytest.mark.skipif(not NV.is_dir(), reason="NVlabs test vectors not present")


def _ref(name: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(NV / name).convert("RGB")).astype(int)


def _to8(img: torch.Tensor) -> np.ndarray:
    """As NVlabs' gen_images.py: (img * 127.5 + 128).clamp(0, 255) -> uint8."""
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy().astype(int)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    if not NV.is_dir():
        pytest.skip("NVlabs test vectors not present")
    s = ModelStore(tmp_path_factory.mktemp("store"), include_resources=False)
    s.import_files(NV / "stylegan2ada_16px_w64.pkl", name="sg2ada")
    s.import_files(NV / "stylegan3t_16px.pkl", name="sg3t")
    s.import_files(NV / "stylegan3r_16px.pkl", name="sg3r", tool="faces")
    return s


# ------------------------------------------------------------------------------ StyleGAN2-ADA
@needs_nvlabs
def test_stylegan2_ada_card(store: ModelStore) -> None:
    e = store.get("sg2ada")
    c = e.card
    assert c.architecture == "stylegan2" and c.components == ("g_ema",)
    assert c.config["conv_clamp"] == 256 and c.config["n_mlp"] == 2 and c.config["style_dim"] == 64
    assert c.licence == "LicenseRef-NVIDIA-Source-Code-License-NC"
    assert c.extra["non_commercial"] is True and "non-commercial" in c.extra["licence_note"]
    assert c.source_files[0]["sha256"] == file_sha256(NV / "stylegan2ada_16px_w64.pkl")
    assert c.extra["nvlabs_init_kwargs"]["synthesis_kwargs"]["channel_base"] == 1024
    assert set(e.tools) == {"stylemix", "faces"}
    # the stored file is safetensors: no pickle, no NVIDIA source
    head = e.path.read_bytes()
    assert b"torch_utils" not in head and b"NVIDIA CORPORATION" not in head


@needs_nvlabs
@pytest.mark.parametrize("psi", [1.0, 0.5])
def test_stylegan2_ada_reproduces_nvlabs(store: ModelStore, psi: float) -> None:
    from ganpaint.engine.models.loading import load_model
    from ganpaint.nn import stylegan_sampling as S

    G = load_model(store.get("sg2ada").path, component="g_ema")
    z = torch.from_numpy(np.load(NV / "stylegan2ada_z.npy"))
    with torch.no_grad():
        w = S.truncate(S.z_to_w(G, z), S.w_avg(G), psi)
        pics = _to8(S.synthesize(G, S.broadcast(G, w), noise="const"))
    for i in range(2):
        assert np.abs(_ref(f"stylegan2ada_z{i}_psi{psi:g}.png") - pics[i]).max() <= 1


@needs_nvlabs
def test_stylegan2_ada_sliders_stored_beside_it(store: ModelStore) -> None:
    from ganpaint.engine.models.directions import load_directions

    e = store.get("sg2ada")
    ds = load_directions("sg2ada", sha256=e.card.sha256, style_dim=64, root=store.root)
    assert ds is not None
    assert {"sefa0", "pc0"} <= set(ds.vectors)
    assert ds.info["sefa0"]["kind"] == "sefa" and ds.info["pc0"]["kind"] == "ganspace"


@needs_nvlabs
def test_stylemix_and_faces_load_the_imported_stylegan2(store: ModelStore) -> None:
    from ganpaint.latent.stylegan_tools import load_generator
    from ganpaint.nn import stylegan_sampling as S
    from ganpaint.nn.stylegan2 import Generator

    ctx = SimpleNamespace(device="cpu", model_path=lambda n, t: store.path_for(n, t),
                          progress=lambda *a, **k: None, cancelled=lambda: False)
    for tool in ("stylemix", "faces"):
        ld = load_generator(ctx, "sg2ada", tool)  # type: ignore[arg-type]
        assert isinstance(ld.G, Generator) and ld.G.n_styles == 6
    z = torch.from_numpy(np.load(NV / "stylegan2ada_z.npy"))
    with torch.no_grad():
        pics = _to8(S.synthesize(ld.G, S.broadcast(ld.G, S.z_to_w(ld.G, z[:1]))))
    assert np.abs(_ref("stylegan2ada_z0_psi1.png") - pics[0]).max() <= 1


# ------------------------------------------------------------------------------ StyleGAN3
@needs_nvlabs
@pytest.mark.parametrize(("name", "cfg"), [("sg3t", "t"), ("sg3r", "r")])
@pytest.mark.parametrize("psi", [1.0, 0.5])
def test_stylegan3_reproduces_nvlabs(store: ModelStore, name: str, cfg: str, psi: float) -> None:
    from ganpaint.engine.models.loading import load_model
    from ganpaint.nn.stylegan3 import Generator

    e = store.get(name)
    assert e.card.architecture == "stylegan3" and e.card.licence.endswith("-NC")
    assert e.card.config["use_radial_filters"] is (cfg == "r")
    G = load_model(e.path, component="g_ema")
    assert isinstance(G, Generator)
    z = torch.from_numpy(np.load(NV / "stylegan3_z.npy"))
    with torch.no_grad():
        pics = _to8(G(z, truncation_psi=psi))
    for i in range(2):
        assert np.abs(_ref(f"stylegan3{cfg}_z{i}_psi{psi:g}.png") - pics[i]).max() <= 1


@needs_nvlabs
def test_stylemix_and_faces_load_the_imported_stylegan3(store: ModelStore) -> None:
    """Both tools run StyleGAN3 imports (tests/engine/test_stylegan3_tools.py runs them)."""
    from ganpaint.latent.stylegan_tools import canvas_size, load_generator
    from ganpaint.nn import stylegan_sampling as S
    from ganpaint.nn.stylegan3 import Generator

    ctx = SimpleNamespace(device="cpu", model_path=lambda n, t: store.path_for(n, t),
                          progress=lambda *a, **k: None, cancelled=lambda: False)
    assert store.get("sg3r").tool == "faces"
    for name in ("sg3t", "sg3r"):
        for tool in ("stylemix", "faces"):
            ld = load_generator(ctx, name, tool)  # type: ignore[arg-type]
            assert isinstance(ld.G, S.StyleGAN3Tools) and isinstance(ld.G.g, Generator)
            assert (ld.G.n_styles, ld.G.style_dim, S.z_dim(ld.G)) == (16, 32, 32)
    assert canvas_size({"model": "sg3t"}, lambda n, t: store.path_for(n, t), "stylemix") == (16, 16)


# ------------------------------------------------------------------------------ refusals
@needs_nvlabs
def test_conditional_and_unsupported_generators_are_refused_with_a_reason() -> None:
    from ganpaint.engine.models.nvlabs_convert import stylegan2_from_nvlabs, stylegan3_from_nvlabs
    from ganpaint.engine.models.nvlabs_pickle import read_generator

    sg2 = read_generator(NV / "stylegan2ada_16px_w64.pkl")
    cond = dataclasses.replace(sg2, init_kwargs={**sg2.init_kwargs, "c_dim": 10})
    with pytest.raises(ModelFileError, match="conditional generator"):
        stylegan2_from_nvlabs(cond)
    sk = {**sg2.init_kwargs["synthesis_kwargs"], "architecture": "resnet"}
    resnet = dataclasses.replace(sg2, init_kwargs={**sg2.init_kwargs, "synthesis_kwargs": sk})
    with pytest.raises(ModelFileError, match="'resnet' synthesis architecture"):
        stylegan2_from_nvlabs(resnet)
    sg3 = read_generator(NV / "stylegan3t_16px.pkl")
    with pytest.raises(ModelFileError, match="conditional generator"):
        stylegan3_from_nvlabs(dataclasses.replace(sg3, init_kwargs={**sg3.init_kwargs, "c_dim": 3}))
    # a config that rebuilds other layers than the file recorded is refused, not mis-loaded
    wrong = dataclasses.replace(sg3, init_kwargs={**sg3.init_kwargs, "margin_size": 8})
    with pytest.raises(ModelFileError, match="layers are|rebuild"):
        stylegan3_from_nvlabs(wrong)


def test_booby_trapped_pkl_import_stores_nothing(tmp_path: Path) -> None:
    import pickle

    target = tmp_path / "pwned"

    class Trap:
        def __reduce__(self):
            return (os.system, (f"touch {target}",))

    f = tmp_path / "evil.pkl"
    f.write_bytes(pickle.dumps({"G_ema": Trap()}))
    s = ModelStore(tmp_path / "store", include_resources=False)
    with pytest.raises(ModelFileError, match="refused"):
        s.import_files(f, name="evil")
    assert not target.exists() and s.list() == []


# ------------------------------------------------------------------------------ conv_clamp
def test_stylegan2_conv_clamp_limits_every_layer() -> None:
    from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

    base = StyleGAN2Config(size=8, style_dim=8, n_mlp=1, channels=(8, 8))
    assert "conv_clamp" not in base.to_dict()  # unchanged cards for unclamped models
    clamped = dataclasses.replace(base, conv_clamp=0.5)
    assert StyleGAN2Config.from_dict(clamped.to_dict()) == clamped
    torch.manual_seed(0)
    a = Generator(base).eval()
    b = Generator(clamped).eval()
    b.load_state_dict(a.state_dict())
    ws = torch.randn(1, a.n_styles, 8)
    seen: list[float] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.append(float(out.abs().max())))
             for m in (b.conv1, *b.convs)]
    with torch.no_grad():
        ya, yb = a(ws), b(ws)
    for h in hooks:
        h.remove()
    assert max(seen) <= 0.5 and not torch.allclose(ya, yb)
    assert float(yb.abs().max()) <= 0.5 * 2 + 1e-6  # two levels of clamped to-RGB outputs
    with pytest.raises(ValueError, match="conv_clamp"):
        StyleGAN2Config(size=8, conv_clamp=-1.0)
