"""Upscale, Restore faces, Restore: descriptors, model lists, agreement with spandrel,
seam-free tiling, alpha, the one-sentence "no model" answer, the command line and the
document (Image > Resize + result layer in one undo step). Test vectors are made here."""

from __future__ import annotations

from pathlib import Path

import ganpaint_upscale
import numpy as np
import pytest
import torch
from ganpaint_upscale import RESTORE, RESTORE_FACES, UPSCALE, ganpaint_register_tools
from ganpaint_upscale import tool as up
from PIL import Image

from ganpaint.core.specs import OutputMode, ToolError
from ganpaint.core.toolio import validate_result
from ganpaint.engine.models import spandrel_models as sm
from ganpaint.engine.models.store import ModelStore
from ganpaint.testing import RecordingContext, make_request

SPECS = {s.id: s for s in ganpaint_register_tools()}


# ----------------------------------------------------------------------------- vectors
def compact_sd(nf: int = 8, num_conv: int = 2, scale: int = 2, seed: int = 1) -> dict[str, torch.Tensor]:
    """SRVGGNetCompact in BasicSR layout (``body.N``), random weights."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    in_ch = 3
    for i in range(num_conv + 1):
        sd[f"body.{2 * i}.weight"] = torch.randn(nf, in_ch, 3, 3, generator=g) * (1.2 / (in_ch * 9) ** 0.5)
        sd[f"body.{2 * i}.bias"] = torch.randn(nf, generator=g) * 0.05
        sd[f"body.{2 * i + 1}.weight"] = torch.full((nf,), 0.25)
        in_ch = nf
    last = 2 * (num_conv + 1)
    sd[f"body.{last}.weight"] = torch.randn(3 * scale * scale, nf, 3, 3, generator=g) * (0.3 / (nf * 9) ** 0.5)
    sd[f"body.{last}.bias"] = torch.zeros(3 * scale * scale)
    return sd


def scunet_sd() -> dict[str, torch.Tensor]:
    """A shallow SCUNet (denoiser: one block per level, the default width, which its 32-channel heads need)."""
    sm.import_spandrel()
    from spandrel.architectures.SCUNet import SCUNet

    torch.manual_seed(0)
    return SCUNet(in_nc=3, config=[1, 1, 1, 1, 1, 1, 1], dim=64).state_dict()


def restoreformer_sd() -> dict[str, torch.Tensor]:
    """A narrow RestoreFormer (face restoration) with random weights."""
    sm.import_spandrel()
    from spandrel.architectures.RestoreFormer import RestoreFormer

    torch.manual_seed(0)
    return RestoreFormer(n_embed=32, embed_dim=16, ch=32, out_ch=3, ch_mult=(1, 2), num_res_blocks=1,
                         attn_resolutions=(16,), dropout=0.0, in_channels=3, resolution=512, z_channels=16,
                         double_z=False, enable_mid=True, head_size=8).state_dict()


def picture(h: int = 53, w: int = 70, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(x[..., None] / 6.0 + np.array([0, 1, 2], np.float32)) * np.cos(y[..., None] / 9.0)
    return np.clip(base + rng.normal(0, 0.05, (h, w, 3)), 0, 1).astype(np.float32)


def to8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a * 255), 0, 255).astype(np.int16)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files imported through the store, as a user would (no --tool)."""
    folder = tmp_path_factory.mktemp("upscale-src")
    store = ModelStore(tmp_path_factory.mktemp("upscale-store"), include_resources=False)
    out: dict[str, Path] = {}
    for name, sd, wrap in (("tiny-x2", compact_sd(), "params"), ("tiny-x4", compact_sd(scale=4, seed=4), "params"),
                           ("tiny-denoise", scunet_sd(), None), ("tiny-face", restoreformer_sd(), None)):
        src = folder / f"{name}.pth"
        torch.save({wrap: sd} if wrap else sd, src)
        out[name] = src
        out[name + ":stored"] = store.import_files(src, name=name).path
    out["store"] = store.root
    return out


@pytest.fixture()
def ctx(models: dict[str, Path]) -> RecordingContext:
    store = ModelStore(models["store"], include_resources=False)
    return RecordingContext(models={(e.name, t): str(e.path) for e in store.list() for t in e.tools})


def run(tool: str, image: np.ndarray, ctx: RecordingContext, **params: object):  # type: ignore[no-untyped-def]
    alpha = params.pop("alpha", None)
    mask = params.pop("mask", None)
    spec = SPECS[tool]
    req = make_request(image, spec=spec, params=params, alpha=alpha, mask=mask)  # type: ignore[arg-type]
    fn = {UPSCALE: up.upscale, RESTORE: up.restore, RESTORE_FACES: up.restore_faces}[tool]
    return req, validate_result(req, fn(req, ctx), any_size=spec.output is OutputMode.RESIZE)


# ----------------------------------------------------------------------------- descriptors, lists
def test_descriptors_have_plain_labels_and_tooltips() -> None:
    assert ganpaint_upscale.GANPAINT_API_VERSION == 1
    assert set(SPECS) == {UPSCALE, RESTORE_FACES, RESTORE}
    assert SPECS[UPSCALE].output is OutputMode.RESIZE
    for spec in SPECS.values():
        assert spec.uses_torch and spec.description
        for p in spec.params:
            assert p.label and p.help, (spec.id, p.name)
        for i in spec.inputs:
            assert i.label and i.help
    assert SPECS[UPSCALE].param("factor").default == "native"
    assert "no automatic face finder" in SPECS[RESTORE_FACES].inputs[1].help


def test_imported_files_land_under_their_tools(models: dict[str, Path]) -> None:
    store = ModelStore(models["store"], include_resources=False)
    assert [e.name for e in store.list(tool=UPSCALE)] == ["tiny-x2", "tiny-x4"]
    assert [e.name for e in store.list(tool=RESTORE)] == ["tiny-denoise"]
    assert [e.name for e in store.list(tool=RESTORE_FACES)] == ["tiny-face"]
    assert store.get("tiny-denoise").card.architecture == "spandrel:SCUNet"
    assert store.get("tiny-face").card.config["purpose"] == "FaceSR"


def test_no_model_installed_says_how_to_get_one(isolated_data_dir: Path) -> None:
    empty = RecordingContext()
    for tool, words in ((UPSCALE, "ganpaint models fetch-realesrgan"), (RESTORE, "ganpaint models import FILE"),
                        (RESTORE_FACES, "ganpaint models import FILE")):
        with pytest.raises(ToolError, match="no model is installed") as err:
            run(tool, picture(8, 8), empty)
        assert words in str(err.value) and "\n" not in str(err.value)


# ----------------------------------------------------------------------------- upscale
def test_upscale_agrees_with_spandrel(models: dict[str, Path], ctx: RecordingContext) -> None:
    rgb = picture(21, 26)
    spandrel = sm.import_spandrel()
    for name, scale in (("tiny-x2", 2), ("tiny-x4", 4)):
        _, res = run(UPSCALE, rgb, ctx, model=name)  # native factor
        ref_desc = spandrel.ModelLoader("cpu").load_from_file(str(models[name])).eval()
        ref = ref_desc(torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None])[0].permute(1, 2, 0).numpy()
        assert res.image.shape == (21 * scale, 26 * scale, 3) == ref.shape
        assert np.abs(to8(res.image) - to8(ref)).max() <= 1
        assert res.metadata["native_scale"] == scale and res.metadata["architecture"] == "Compact"


def test_upscale_tiled_is_seam_free(ctx: RecordingContext) -> None:
    rgb = picture(53, 70)
    _, whole = run(UPSCALE, rgb, ctx, model="tiny-x2")
    _, tiled = run(UPSCALE, rgb, ctx, model="tiny-x2", tile=16)
    assert whole.image.shape == (106, 140, 3)
    assert any("Tile" in m for _, m in ctx.calls)
    assert np.abs(to8(whole.image) - to8(tiled.image)).max() <= 1


def test_upscale_factors_and_fit(ctx: RecordingContext) -> None:
    rgb = picture(20, 30)
    _, r3 = run(UPSCALE, rgb, ctx, model="tiny-x2", factor="3")
    assert r3.image.shape == (60, 90, 3) and r3.metadata["passes"] == 2  # x2 twice, then Lanczos to x3
    _, r4 = run(UPSCALE, rgb, ctx, model="tiny-x4", factor="2")
    assert r4.image.shape == (40, 60, 3) and r4.metadata["passes"] == 1
    _, fit = run(UPSCALE, rgb, ctx, model="tiny-x2", factor="fit", width=45, height=100)
    assert fit.image.shape == (30, 45, 3)  # keeps the aspect, fits the width
    with pytest.raises(ToolError, match="width or the height"):
        run(UPSCALE, rgb, ctx, model="tiny-x2", factor="fit")


def test_upscale_alpha_is_kept_and_smooth(ctx: RecordingContext) -> None:
    rgb = picture(24, 24)
    rgb[:, :12] = 0.0  # arbitrary colour under transparent pixels
    alpha = np.zeros((24, 24), np.float32)
    alpha[:, 12:] = 1.0
    alpha[:, 11] = 0.5
    _, res = run(UPSCALE, rgb, ctx, model="tiny-x2", alpha=alpha)
    assert res.alpha is not None and res.alpha.shape == (48, 48)
    assert np.allclose(res.alpha[:, 30:], 1.0, atol=1e-3) and np.allclose(res.alpha[:, :16], 0.0, atol=1e-3)
    # the hidden black does not bleed into the visible edge (it took the neighbours' colour)
    edge = res.image[:, 24:28]
    assert edge.mean() > 0.25


# ----------------------------------------------------------------------------- restore, faces
def test_restore_runs_the_denoiser_and_blends(ctx: RecordingContext) -> None:
    rgb = picture(40, 48)
    _, full = run(RESTORE, rgb, ctx, model="tiny-denoise")
    assert full.image.shape == rgb.shape and full.metadata["architecture"] == "SCUNet"
    assert np.abs(full.image - rgb).max() > 0.01
    _, none = run(RESTORE, rgb, ctx, model="tiny-denoise", strength=0.0)
    assert np.allclose(none.image, rgb)


def test_restore_faces_on_the_selection(ctx: RecordingContext) -> None:
    rgb = picture(48, 64)
    mask = np.zeros((48, 64), np.float32)
    mask[8:40, 20:52] = 1.0
    _, res = run(RESTORE_FACES, rgb, ctx, model="tiny-face", mask=mask)
    assert res.image.shape == rgb.shape and res.metadata["box"] == [20, 8, 32, 32]
    outside = np.ones((48, 64), bool)
    outside[8:40, 20:52] = False
    assert np.allclose(res.image[outside], rgb[outside])
    assert np.abs(res.image[8:40, 20:52] - rgb[8:40, 20:52]).max() > 0.01


def test_a_model_of_another_tool_is_refused(ctx: RecordingContext) -> None:
    with pytest.raises(ToolError, match="no model 'tiny-x2' for tool 'restore'"):
        run(RESTORE, picture(16, 16), ctx, model="tiny-x2")


# ----------------------------------------------------------------------------- document, CLI
def test_document_is_resized_with_the_result_in_one_undo_step(ctx: RecordingContext) -> None:
    from ganpaint.core.document import Document
    from ganpaint.core.toolio import apply_result, build_request

    doc = Document(30, 20)
    src = doc.add_layer(name="photo", pixels=(np.dstack([picture(20, 30), np.ones((20, 30, 1))]) * 255)
                        .astype(np.uint8))
    steps = len(doc.history.entries)
    spec = SPECS[UPSCALE]
    req = build_request(doc, spec, {}, {"model": "tiny-x2"})
    res = validate_result(req, up.upscale(req, ctx), any_size=True)
    apply_result(doc, spec, req, res, src.id)
    assert (doc.width, doc.height) == (60, 40) and len(doc.history.entries) == steps + 1
    assert [la.name for la in doc.layers][-1].startswith("photo") and doc.active_layer.result is not None
    assert doc.active_layer.pixels.shape == (40, 60, 4) and doc.find_layer(src.id).pixels.shape == (40, 60, 4)
    doc.history.undo()
    assert (doc.width, doc.height) == (30, 20) and len(doc.layers) == 1


def test_command_line_upscale(models: dict[str, Path], tmp_path: Path, isolated_data_dir: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from ganpaint.cli.main import main

    assert main(["models", "import", str(models["tiny-x2"]), "--as", "tiny-x2"]) == 0
    out = capsys.readouterr().out
    assert "for the 'upscale' tool" in out
    Image.fromarray(to8(picture(20, 30)).astype(np.uint8)).save(tmp_path / "small.png")
    code = main(["run", "upscale", str(tmp_path / "small.png"), "-o", str(tmp_path / "big.png"),
                 "--model", "tiny-x2", "-q"])
    assert code == 0, capsys.readouterr().err
    assert Image.open(tmp_path / "big.png").size == (60, 40)
