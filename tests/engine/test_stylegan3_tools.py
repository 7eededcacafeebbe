"""StyleGAN3 generators in the style-mixing and face-slider tools: the StyleGAN3Tools view
(z/w sizes, style groups by the layers' bands, no noise, full-size drafts), style mixing with
every preset and truncation, the seed grid, inversion, and SeFa / GANSpace directions computed
on import and moving the picture.

Two generators: a tiny random StyleGAN3-T built from its config (always), and NVlabs'
StyleGAN3-T / -R test pickles imported into a temporary store (read from ../shared/compat/nvlabs
or $GANPAINT_COMPAT_DIR/nvlabs, never committed; those tests skip when absent).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from ganpaint_faces import ganpaint_register_tools as faces_tools
from ganpaint_faces.tool import run as run_faces
from ganpaint_stylemix import ganpaint_register_tools as stylemix_tools
from ganpaint_stylemix.tool import run as run_stylemix
from safetensors.torch import save_file

from ganpaint.core.specs import Role, ToolRequest
from ganpaint.engine.jobs.thumbnails import ThumbnailContext
from ganpaint.engine.models.cards import METADATA_KEY, ModelCard
from ganpaint.engine.models.checkpoints import weights_sha256
from ganpaint.engine.models.directions import compute_directions, find_directions, sefa
from ganpaint.engine.models.store import ModelStore
from ganpaint.latent import stylegan_tools
from ganpaint.latent.inversion import InversionState, invert
from ganpaint.latent.stylegan_thumbnails import thumbnails
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan3 import Generator as SG3Generator
from ganpaint.nn.stylegan3 import StyleGAN3Config
from ganpaint.testing import RecordingContext
from ganpaint.testing.compat import compat_dir

STYLEMIX = stylemix_tools()[0]
FACES = faces_tools()[0]
TINY = "tiny-sg3"
#: z narrower than w, so the two sizes cannot be confused; pictures at full contrast
TINY_CONFIG = StyleGAN3Config(img_resolution=16, z_dim=8, w_dim=12, channel_base=256, channel_max=8,
                              mapping_layers=2, output_scale=1.0)




NV = compat_dir("nvlabs")
needs_nvlabs = pytest.mark.skipif(not NV.is_dir(), reason="NVlabs test vectors not present")


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """A random 16 px StyleGAN3-T, written the way the store writes one (every parameter
    perturbed so that each ws entry matters, the mean w computed)."""
    root = tmp_path_factory.mktemp("sg3")
    torch.manual_seed(0)
    g = SG3Generator(TINY_CONFIG).eval()
    with torch.no_grad():
        g.synthesis.input.affine.weight.normal_(0.0, 0.5)  # NVlabs initialises it to 0
        g.mapping.w_avg.copy_(S.StyleGAN3Tools(g).mean_latent(1024))
    sd = {f"g_ema.{k}": v.contiguous() for k, v in g.state_dict().items() if v is not None}
    card = ModelCard("stylegan3", TINY_CONFIG.to_dict(), "stylemix", components=("g_ema",),
                     extra={"tools": ["faces"], "n_styles": TINY_CONFIG.num_ws}, title=TINY)
    card = dataclasses.replace(card, sha256=weights_sha256(sd), name=TINY)
    save_file(sd, str(root / f"{TINY}.safetensors"), metadata={METADATA_KEY: card.to_json(indent=None)})
    return ModelStore(root=root, include_resources=False)


@pytest.fixture(scope="module")
def nv_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    if not NV.is_dir():
        pytest.skip("NVlabs test vectors not present")
    s = ModelStore(tmp_path_factory.mktemp("store"), include_resources=False)
    s.import_files(NV / "stylegan3t_16px.pkl", name="sg3t")
    s.import_files(NV / "stylegan3r_16px.pkl", name="sg3r", tool="faces")
    return s


def _ctx(store: ModelStore, *names: str) -> RecordingContext:
    return RecordingContext(models={(n, t): str(store.get(n).path) for n in names for t in ("stylemix", "faces")})


def _mix(ctx: RecordingContext, model: str, **params) -> object:  # type: ignore[no-untyped-def]
    p = STYLEMIX.resolve_params({"model": model, **params})
    return run_stylemix(ToolRequest(STYLEMIX.id, {}, p, canvas=(16, 16)), ctx)


def _face(ctx: RecordingContext, model: str, image: np.ndarray | None = None, preview: bool = False,
          **params) -> object:  # type: ignore[no-untyped-def]
    p = FACES.resolve_params({"model": model, **params})
    images = {} if image is None else {Role.IMAGE: image}
    return run_faces(ToolRequest(FACES.id, images, p, canvas=(16, 16), preview=preview), ctx)


def _npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data))


def _meta_generator(**config) -> S.StyleGAN3Tools:  # type: ignore[no-untyped-def]
    """A full-size StyleGAN3 built without memory (meta tensors): only its geometry is read."""
    with torch.device("meta"):
        return S.StyleGAN3Tools(SG3Generator(StyleGAN3Config(**config)))


# ------------------------------------------------------------------------------ the interface
def test_the_view_has_the_stylegan2_interface_with_its_own_sizes(tiny_store: ModelStore) -> None:
    ld = stylegan_tools.load_generator(_ctx(tiny_store, TINY), TINY, "faces")
    G = ld.G
    assert isinstance(G, S.StyleGAN3Tools) and isinstance(G.g, SG3Generator)
    assert (G.size, S.z_dim(G), G.style_dim, G.n_styles) == (16, 8, 12, 16)
    assert not S.stops_early(G) and G.stored_noise() == [] and S.random_noise(G, 2, 0) == []
    with torch.no_grad():
        z = S.sample_z(G, 2, seed=3)
        assert z.shape == (2, 8)
        w = S.z_to_w(G, z)
        assert w.shape == (2, 12)
        # the view's synthesis is NVlabs' path: mapping, truncation, synthesis
        ref = G.g(z, truncation_psi=0.6)
        mine = S.synthesize(G, S.truncate(w, S.w_avg(G), 0.6), max_size=8)
        assert mine.shape == (2, 3, 16, 16)  # no early stop: full size whatever max_size says
        assert torch.allclose(mine, ref, atol=1e-5)
        assert torch.equal(S.synthesize(G, w, noise="random", seed=1), S.synthesize(G, w, noise="const"))
    with pytest.raises(ValueError, match="no noise inputs"):
        S.synthesize(G, w, noise=[torch.zeros(1, 1, 4, 4)])
    with pytest.raises(ValueError, match=r"z must have shape \(N, 8\)"):
        S.z_to_w(G, torch.zeros(1, 12))


@pytest.mark.parametrize("res", [256, 1024])
@pytest.mark.parametrize("radial", [False, True])
def test_style_groups_follow_the_layer_bands(res: int, radial: bool) -> None:
    """Coarse = the input and layers 0-2 (bands of 4-10 px of an equivalent StyleGAN2
    resolution at 1024 px), middle = layers 3-5 (16-40 px), fine = the rest: the FFHQ 1024 px
    StyleGAN2 split (4-8 / 16-32 / 64-1024 px) by octave."""
    G = _meta_generator(img_resolution=res, conv_kernel=1 if radial else 3, use_radial_filters=radial)
    levels = G.style_levels()
    assert len(levels) == G.n_styles == 16 and levels[0] == 0.0 and levels[-1] == 1.0
    assert levels == sorted(levels)
    assert S.style_groups(G) == {"coarse": (0, 4), "middle": (4, 7), "fine": (7, 16)}


def test_style_groups_of_an_unusual_layout_stay_ordered_and_non_empty() -> None:
    for layers, critical in ((4, 1), (6, 2), (20, 2), (3, 2)):
        g = S.style_groups(_meta_generator(img_resolution=64, num_layers=layers, num_critical=critical))
        (a, b), (c, d), (e, f) = g["coarse"], g["middle"], g["fine"]
        assert a == 0 < b == c < d == e < f == layers + 2, (layers, g)


def test_stylegan2_groups_are_the_presets_they_were() -> None:
    from ganpaint_stylemix.tool import preset_range

    from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

    for size in (16, 64, 256, 1024):
        with torch.device("meta"):
            G = Generator(StyleGAN2Config(size=size, style_dim=8, n_mlp=1, channels=(8,) * (size.bit_length() - 2)))
        assert S.stops_early(G) and S.z_dim(G) == 8
        assert S.style_groups(G) == {k: preset_range(G.n_styles, k) for k in ("coarse", "middle", "fine")}


def test_drafts_are_full_size_with_a_note_when_larger_than_a_preview() -> None:
    src = stylegan_tools.Source(torch.zeros(1, 16, 512), "seed", {"seed": 0})
    draft = ToolRequest("faces", {}, {}, canvas=(64, 64), preview=True)
    big = _meta_generator(img_resolution=256)
    assert stylegan_tools.draft_size(big, draft) is None  # synthesize at full size
    meta = stylegan_tools.draft_metadata(big, draft, src)
    assert meta["draft_size"] == 256 and "full size (256 px)" in meta["draft_note"]
    small = _meta_generator(img_resolution=64)
    assert stylegan_tools.draft_metadata(small, draft, src) == {"draft_size": 64}
    assert stylegan_tools.draft_metadata(big, dataclasses.replace(draft, preview=False), src) == {}


# ------------------------------------------------------------------------------ style mixing
def test_stylemix_presets_seeds_and_psi(tiny_store: ModelStore) -> None:
    ctx = _ctx(tiny_store, TINY)
    a = _mix(ctx, TINY, seed=0, seed_b=5, preset="custom", crossover=32)
    b = _mix(ctx, TINY, seed=5, seed_b=0, preset="custom", crossover=32)
    ws_a, ws_b = _npy(a.attachments["latent.npy"]), _npy(b.attachments["latent.npy"])  # type: ignore[attr-defined]
    assert ws_a.shape == (1, 16, 12) and not np.allclose(ws_a, ws_b)
    assert np.abs(a.image - b.image).max() > 0.05  # type: ignore[attr-defined]
    expect = {"coarse": (0, 4), "middle": (4, 7), "fine": (7, 16)}
    for preset, (lo, hi) in expect.items():
        res = _mix(ctx, TINY, seed=0, seed_b=5, preset=preset)
        assert res.metadata["styles_from_b"] == list(range(lo, hi)) and res.metadata["n_styles"] == 16  # type: ignore[attr-defined]
        ws = _npy(res.attachments["latent.npy"])  # type: ignore[attr-defined]
        want = ws_a.copy()
        want[:, lo:hi] = ws_b[:, lo:hi]
        assert np.allclose(ws, want)
        # every group changes the picture: each takes something visible from B
        assert np.abs(res.image - a.image).max() > 1e-3, preset  # type: ignore[attr-defined]
    # custom: the first k from A
    k5 = _npy(_mix(ctx, TINY, seed=0, seed_b=5, preset="custom", crossover=5).attachments["latent.npy"])  # type: ignore[attr-defined]
    assert np.allclose(k5[:, :5], ws_a[:, :5]) and np.allclose(k5[:, 5:], ws_b[:, 5:])
    # psi 0: every seed gives the mean picture; psi 0.5 halves the distance to it in W
    m0 = _mix(ctx, TINY, seed=3, seed_b=8, preset="fine", psi=0.0)
    m1 = _mix(ctx, TINY, seed=11, seed_b=2, preset="coarse", psi=0.0)
    assert np.abs(m0.image - m1.image).max() < 1e-5  # type: ignore[attr-defined]
    half = _npy(_mix(ctx, TINY, seed=0, preset="custom", crossover=32, psi=0.5).attachments["latent.npy"])  # type: ignore[attr-defined]
    avg = _npy(m0.attachments["latent.npy"])  # type: ignore[attr-defined]
    assert np.allclose(half - avg, 0.5 * (ws_a - avg), atol=1e-5)


@needs_nvlabs
@pytest.mark.parametrize(("name", "cfg"), [("sg3t", "t"), ("sg3r", "r")])
def test_stylemix_all_from_a_reproduces_nvlabs(nv_store: ModelStore, name: str, cfg: str, tmp_path: Path) -> None:
    """Source A from NVlabs' z file, every style from A, psi 0.5: their reference picture."""
    from PIL import Image

    ctx = _ctx(nv_store, name)
    z = np.load(NV / "stylegan3_z.npy")
    np.save(tmp_path / "z1.npy", z[1])
    res = _mix(ctx, name, z=str(tmp_path / "z1.npy"), preset="custom", crossover=32, psi=0.5)
    ref = np.asarray(Image.open(NV / f"stylegan3{cfg}_z1_psi0.5.png").convert("RGB")).astype(float)
    assert np.abs(res.image * 255 - ref).max() <= 1.5  # type: ignore[attr-defined]
    mixed = _mix(ctx, name, z=str(tmp_path / "z1.npy"), seed_b=4, preset="middle", psi=0.5)
    assert mixed.metadata["styles_from_b"] == [4, 5, 6]  # type: ignore[attr-defined]
    assert np.abs(mixed.image - res.image).max() > 1e-3  # type: ignore[attr-defined]


def test_seed_grid_thumbnails_are_the_tools_pictures(tiny_store: ModelStore) -> None:
    ctx = _ctx(tiny_store, TINY)
    pics = thumbnails({"model": TINY, "psi": 0.7}, [5, 0], 16, ThumbnailContext(ctx, STYLEMIX.id))
    assert len(pics) == 2 and pics[0].shape == (16, 16, 3)
    tool = _mix(ctx, TINY, seed=5, preset="custom", crossover=32, psi=0.7, size=16)
    assert np.abs(pics[0] - tool.image).max() < 1e-4  # type: ignore[attr-defined]
    assert np.abs(pics[0] - pics[1]).max() > 0.05
    small = thumbnails({"model": TINY, "psi": 0.7}, [5], 8, ThumbnailContext(ctx, FACES.id))
    assert small[0].shape == (8, 8, 3)


# ------------------------------------------------------------------------------ inversion
def test_inversion_through_stylegan3_lowers_the_loss(tiny_store: ModelStore) -> None:
    G = stylegan_tools.load_generator(_ctx(tiny_store, TINY), TINY, "faces").G
    with torch.no_grad():  # a picture the generator can make (another seed's)
        target = S.to_pictures(S.synthesize(G, S.z_to_w(G, S.sample_z(G, 1, 42))))[0]
    state = InversionState()
    losses: list[float] = []
    invert(G, target, steps=25, lr=0.05, state=state, progress=lambda f, m: losses.append(state.loss))
    assert state.ws is not None and state.ws.shape == (1, 16, 12) and len(losses) == 25
    assert losses[-1] < 0.6 * losses[0], losses
    assert all(np.isfinite(losses))


def test_faces_tool_inverts_a_picture_with_a_stylegan3(tiny_store: ModelStore) -> None:
    ctx = _ctx(tiny_store, TINY)
    stylegan_tools.CACHE.clear()
    picture = _mix(ctx, TINY, seed=42, preset="custom", crossover=32).image  # type: ignore[attr-defined]
    first = _face(ctx, TINY, picture, source="invert", steps=3, tune=0)  # the inversion alone
    more = _face(ctx, TINY, picture, source="invert", steps=20, tune=0)
    assert first.metadata["source"] == more.metadata["source"] == "inverted"  # type: ignore[attr-defined]
    assert more.metadata["source_steps"] == 20 and more.metadata["source_loss"] < first.metadata["source_loss"]  # type: ignore[attr-defined]
    assert np.abs(more.image - picture).mean() < np.abs(first.image - picture).mean()  # type: ignore[attr-defined]
    # a draft reuses the inversion and is synthesised at the generator's (full) size
    draft = _face(ctx, TINY, picture, preview=True, source="invert", steps=20, tune=0)
    assert draft.metadata["draft_size"] == 16 and np.abs(draft.image - more.image).max() < 1e-5  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ directions
def _moves_monotonically(ctx: RecordingContext, model: str, direction: str) -> list[float]:
    base = _face(ctx, model, seed=2, psi=0.7).image  # type: ignore[attr-defined]
    dists = []
    for amount in (0.5, 1.0, 1.5, 2.0):
        out = _face(ctx, model, seed=2, psi=0.7, direction=direction, amount=amount)
        dists.append(float(np.abs(out.image - base).mean()))  # type: ignore[attr-defined]
    assert all(a < b for a, b in zip(dists, dists[1:], strict=False)), (direction, dists)
    return dists


def test_sefa_and_ganspace_of_a_random_stylegan3(tiny_store: ModelStore, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    entry = tiny_store.get(TINY)
    G = stylegan_tools.load_generator(_ctx(tiny_store, TINY), TINY, "faces").G
    axes = sefa(G, k=4)
    assert axes.shape == (4, 12) and torch.allclose(axes.norm(dim=1), torch.ones(4), atol=1e-5)
    assert abs(float(axes[0] @ axes[1])) < 1e-4
    # SeFa's A: synthesis layer 0's affine (style) weights as applied ("all": the input's too, ...)
    layer0 = G.style_layers()[1]
    mods = G.modulation_weights("first")
    assert torch.allclose(mods, layer0.affine.weight * layer0.affine.weight_gain)
    assert G.modulation_weights("all").shape == (sum(m.affine.weight.shape[0] for m in G.style_layers()), 12)
    # the leading axis is the unit direction that A stretches most (A's rows normalised)
    An = mods / mods.norm(dim=1, keepdim=True)
    gains = [float((An @ d).norm()) for d in axes]
    assert gains == sorted(gains, reverse=True)
    report = compute_directions(G, TINY, entry.card.sha256, samples=200, components=3, labels="none",
                                root=tiny_store.root)
    assert set(report.names) == {"pc0", "pc1", "pc2", "sefa0", "sefa1", "sefa2"}
    ds = find_directions(TINY, sha256=entry.card.sha256, style_dim=12, model_file=entry.path)
    assert ds is not None and ds.info["sefa0"]["kind"] == "sefa" and ds.info["pc0"]["kind"] == "ganspace"
    ctx = _ctx(tiny_store, TINY)
    _moves_monotonically(ctx, TINY, "sefa0")
    # a random generator's rotation input folds far along pc0: only its first steps are checked
    base = _face(ctx, TINY, seed=2, psi=0.7).image  # type: ignore[attr-defined]
    near = [_face(ctx, TINY, seed=2, psi=0.7, direction="pc0", amount=a).image for a in (0.2, 0.4)]  # type: ignore[attr-defined]
    assert 1e-3 < np.abs(near[0] - base).mean() < np.abs(near[1] - base).mean()


@needs_nvlabs
@pytest.mark.parametrize("name", ["sg3t", "sg3r"])
def test_directions_computed_on_import_are_listed_and_move_the_face(nv_store: ModelStore, name: str,
                                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))  # the user's own folder: empty
    entry = nv_store.get(name)
    assert set(entry.tools) == {"stylemix", "faces"}
    assert (nv_store.root / "directions" / f"{name}.safetensors").is_file()  # beside the model
    ctx = _ctx(nv_store, name)
    ld = stylegan_tools.load_generator(ctx, name, "faces")
    ds = stylegan_tools.model_directions(ld)  # what the faces tool offers
    assert ds is not None and ds.style_dim == 32 and ds.generator_sha256 == entry.card.sha256
    assert {f"sefa{i}" for i in range(10)} | {f"pc{i}" for i in range(10)} <= set(ds.vectors)
    assert all(ds.scale(n) > 0 for n in ds.vectors)
    dists = _moves_monotonically(ctx, name, "sefa0")
    assert dists[-1] > 0.005
    back = _face(ctx, name, seed=2, psi=0.7, direction="sefa0", amount=-1.5)
    assert back.metadata["sliders"] == {"sefa0": -1.5}  # type: ignore[attr-defined]
    _moves_monotonically(ctx, name, "pc0")


@needs_nvlabs
def test_directions_list_names_the_stylegan3_sliders(nv_store: ModelStore, capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ganpaint directions list --model NAME` (the names the faces tool's other-direction slider takes)."""
    from ganpaint.cli import directions as cli

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(cli, "_store", lambda args: nv_store)
    assert cli.run(type("Args", (), {"directions_command": "list", "model": "sg3t"})()) == 0
    out = capsys.readouterr().out
    assert "sefa0" in out and "ganspace" in out and "pc9" in out


def test_pivotal_tuning_through_stylegan3_brings_the_picture_closer(tiny_store: ModelStore) -> None:
    """The faces tool's detail matching works on a StyleGAN3 too (the tool view is copied
    whole, its mapping network left as it was)."""
    from ganpaint.latent.inversion import psnr

    ctx = _ctx(tiny_store, TINY)
    stylegan_tools.CACHE.clear()
    stylegan_tools.TUNED.clear()
    yy, xx = np.mgrid[0:16, 0:16]  # hard-edged blocks and ramps: nothing this model draws
    picture = np.stack([((xx // 4 + yy // 4) % 2) * 0.8, yy / 15.0, xx / 30.0], -1).astype(np.float32)
    plain = _face(ctx, TINY, picture, source="invert", steps=20, tune=0)
    tuned = _face(ctx, TINY, picture, source="invert", steps=20, tune=60)
    assert tuned.metadata["source_tuned"] == 60  # type: ignore[attr-defined]
    assert psnr(tuned.image, picture) > psnr(plain.image, picture) + 0.5  # type: ignore[attr-defined]
    G = stylegan_tools.load_generator(ctx, TINY, "faces").G
    copy = next(iter(stylegan_tools.TUNED._items.values())).G
    for (name, a), b in zip(G.named_parameters(), copy.parameters(), strict=True):
        assert torch.equal(a, b) == name.startswith("g.mapping."), name
