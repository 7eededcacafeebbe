"""Importing rosinality StyleGAN2 checkpoints into the model store, refusing NVIDIA pickles,
and generating with the stored model through ganpaint.nn.stylegan_sampling."""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.cli.main import main
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.checkpoints import read_checkpoint
from ganpaint.engine.models.loading import architectures, load_model
from ganpaint.engine.models.store import ModelStore
from ganpaint.engine.models.stylegan_import import STYLEGAN_TOOLS, detect_stylegan2, sniff
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config
from ganpaint.train.recipes.stylegan2 import TOOLS as RECIPE_TOOLS

COMPAT = Path("/work/shared/compat/stylegan2")
PLAIN = COMPAT / "stylegan2_rosinality_32px.pt"
TRAINING = COMPAT / "stylegan2_rosinality_32px_training.pt"
needs_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="compat vectors not present")


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", include_resources=False)


def _pictures(images: torch.Tensor) -> np.ndarray:
    return (S.to_pictures(images) * 255).round().astype(np.uint8)


def _expected(name: str) -> np.ndarray:
    return np.asarray(Image.open(COMPAT / name).convert("RGB")).astype(int)


def _z() -> torch.Tensor:
    return torch.from_numpy(np.load(COMPAT / "stylegan2_z.npy"))


def _tiny_generator(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    g = Generator(StyleGAN2Config(size=16, style_dim=8, n_mlp=2, channels=(8, 8, 4)))
    with torch.no_grad():  # noise strengths start at 0; make the noise visible
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.3)
    return g


# ------------------------------------------------------------------------------------ compat files
@needs_compat
def test_plain_file_imports_and_reproduces_every_vector(store: ModelStore) -> None:
    entry = store.import_files(PLAIN, name="church")
    card = entry.card
    assert card.architecture == "stylegan2" and card.components == ("g_ema",)
    assert card.config == {"size": 32, "style_dim": 64, "n_mlp": 3, "channels": [48, 40, 32, 24],
                           "channel_multiplier": None, "lr_mlp": 0.01}
    assert entry.tools == ("stylemix", "faces") and card.extra["latent_avg"] == "file"
    assert "32 px, 8 style inputs, latent size 64, mapping depth 3, widths 48/40/32/24" in entry.report
    # listed by both tools, found by both, never by translate
    assert [e.name for e in store.list(tool="faces")] == [e.name for e in store.list(tool="stylemix")] == ["church"]
    assert store.list(tool="translate") == []
    assert store.path_for("church", "faces") == str(entry.path)

    g = load_model(entry.path)
    assert isinstance(g, Generator) and g.n_styles == 8
    z = _z()
    with torch.inference_mode():
        psi1 = _pictures(S.generate(g, z, psi=1.0))
        psi05 = _pictures(S.generate(g, z, psi=0.5))
        w = S.z_to_w(g, z[:2])
        mixed = _pictures(S.synthesize(g, S.mix(g, w[0:1], w[1:2], crossover=4)))
    for i in range(4):
        assert np.abs(psi1[i] - _expected(f"stylegan2_z{i}_psi1.png")).max() <= 1
        assert np.abs(psi05[i] - _expected(f"stylegan2_z{i}_psi0.5.png")).max() <= 1
    assert np.abs(mixed[0] - _expected("stylegan2_mix_z0_z1_inject4.png")).max() <= 1


@needs_compat
def test_training_checkpoint_needs_the_namespace_allow_list_and_gets_a_computed_mean(store: ModelStore) -> None:
    # plain weights_only loading refuses it (argparse.Namespace), and so does the generic reader
    with pytest.raises(pickle.UnpicklingError):
        torch.load(TRAINING, weights_only=True)
    with pytest.raises(ModelFileError, match="refused"):
        read_checkpoint(TRAINING)
    entry = store.import_files(TRAINING, name="trained")
    assert entry.card.config["channel_multiplier"] == 2  # from args
    assert entry.card.extra["training_args"] == {"size": 32, "latent": 64, "n_mlp": 3, "channel_multiplier": 2,
                                                 "iter": 800000}
    assert "computed from 4096 z samples (seed 0)" in entry.report
    g = load_model(entry.path)
    assert torch.equal(g.latent_avg, g.mean_latent(4096, 0))
    file_avg = torch.load(PLAIN, weights_only=True)["latent_avg"]
    assert (g.latent_avg - file_avg).norm() / file_avg.norm() < 0.05  # an estimate of the same mean
    z = _z()
    with torch.inference_mode():
        psi1 = _pictures(S.generate(g, z))
        # with the published mean, truncation matches too
        psi05 = _pictures(S.synthesize(g, S.truncate(S.z_to_w(g, z), file_avg, 0.5)))
    for i in range(4):
        assert np.abs(psi1[i] - _expected(f"stylegan2_z{i}_psi1.png")).max() <= 1
        assert np.abs(psi05[i] - _expected(f"stylegan2_z{i}_psi0.5.png")).max() <= 1


@needs_compat
def test_cli_imports_both_files_and_refuses_a_pkl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    assert main(["models", "import", str(PLAIN)]) == 0
    assert main(["models", "import", str(TRAINING), "--as", "trained"]) == 0
    out, _ = capsys.readouterr()
    assert "stored as stylegan2_rosinality_32px@1" in out and "stored as trained@1" in out
    assert "listed by the stylemix and faces tools" in out
    pkl = tmp_path / "network-snapshot-025000.pkl"
    pkl.write_bytes(PLAIN.read_bytes())
    assert main(["models", "import", str(pkl)]) == 1
    _, err = capsys.readouterr()
    # .pkl files go to the restricted NVIDIA reader (issue 14); a torch zip is not such a pickle
    assert "not a readable NVIDIA snapshot pickle" in err and "network-snapshot-025000.pkl" in err
    assert main(["models", "list", "--tool", "faces"]) == 0
    out, _ = capsys.readouterr()
    assert "stylegan2_rosinality_32px" in out and "trained" in out
    assert not list((tmp_path / "data" / "models").glob("network*"))


# ------------------------------------------------------------------------------------ unsafe files
def test_code_in_a_stylegan_file_never_runs(tmp_path: Path, store: ModelStore) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):  # what a malicious checkpoint does
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "ffhq.pt"
    torch.save({"g_ema": _tiny_generator().state_dict(), "latent_avg": torch.zeros(8), "x": Payload()}, bad)
    assert sniff(bad) == "rosinality"
    with pytest.raises(ModelFileError, match="refused"):
        store.import_files(bad)
    assert not marker.exists() and store.list() == []


def test_an_nvidia_pickle_under_another_name_is_recognised_and_refused(tmp_path: Path, store: ModelStore) -> None:
    # the opening of a dnnlib network pickle: GLOBAL dnnlib.tflib.network Network
    fake = tmp_path / "stylegan2-ffhq-config-f.pt"
    fake.write_bytes(b"\x80\x02cdnnlib.tflib.network\nNetwork\nq\x00)\x81q\x01.")
    assert sniff(fake) == "nvidia"
    with pytest.raises(ModelFileError, match="refused: a TensorFlow StyleGAN pickle"):
        store.import_files(fake)


# ------------------------------------------------------------------------------------ other layouts
def test_bare_g_ema_state_dict_and_other_sizes(tmp_path: Path, store: ModelStore) -> None:
    g = _tiny_generator()
    sd = {k: v for k, v in g.state_dict().items() if k != "latent_avg"}
    path = tmp_path / "g_ema_only.pt"
    torch.save(sd, path)
    entry = store.import_files(path, name="bare", tool="faces")
    assert entry.card.config["size"] == 16 and entry.card.config["channels"] == [8, 8, 4]
    assert entry.tools == ("faces", "stylemix") and entry.card.extra["generator_key"] == "(state dict)"
    loaded = load_model(entry.path)
    ws = torch.randn(2, loaded.n_styles, 8)
    with torch.no_grad():
        assert torch.allclose(loaded(ws), g.eval()(ws), atol=1e-6)


def test_channel_multiplier_is_recognised_from_widths() -> None:
    with torch.device("meta"):  # shapes only: a full-width 256 px generator costs no memory
        sd = Generator(StyleGAN2Config(size=256, style_dim=512, n_mlp=8, channel_multiplier=1)).state_dict()
        odd = Generator(StyleGAN2Config(size=64, style_dim=32, n_mlp=2, channels=(32, 32, 32, 16, 8))).state_dict()
    det = detect_stylegan2(sd)
    assert det.config.channel_multiplier == 1 and det.multiplier_from == "widths"
    assert det.config.channels == (512, 512, 512, 512, 256, 128, 64) and det.config.n_mlp == 8
    assert "channel multiplier 1" in det.describe()
    det = detect_stylegan2(odd)
    assert det.config.channel_multiplier is None and det.config.channels == (32, 32, 32, 16, 8)


def test_damaged_stylegan_files_get_clear_messages(tmp_path: Path, store: ModelStore) -> None:
    sd = _tiny_generator().state_dict()
    missing = {k: v for k, v in sd.items() if k not in ("latent_avg", "convs.1.noise.weight")}
    p = tmp_path / "missing.pt"
    torch.save({"g_ema": missing}, p)
    with pytest.raises(ModelFileError, match=r"missing keys \(1\): convs.1.noise.weight"):
        store.import_files(p)
    p2 = tmp_path / "avg.pt"
    torch.save({"g_ema": {k: v for k, v in sd.items() if k != "latent_avg"}, "latent_avg": torch.zeros(5)}, p2)
    with pytest.raises(ModelFileError, match="latent_avg has 5 values, the latent size is 8"):
        store.import_files(p2)
    p3 = tmp_path / "args.pt"
    torch.save({"g_ema": {k: v for k, v in sd.items() if k != "latent_avg"},
                "args": argparse.Namespace(size=64, channel_multiplier=2)}, p3)
    with pytest.raises(ModelFileError, match="args say 64 px but the weights are for 16 px"):
        store.import_files(p3)
    assert store.list() == []


# ------------------------------------------------------------------------------------ sampling API
def test_sampling_api_shapes_and_semantics() -> None:
    g = _tiny_generator().eval()
    z = S.sample_z(g, 3, seed=4)
    assert z.shape == (3, 8) and torch.equal(z, S.sample_z(g, 3, seed=4))
    w = S.z_to_w(g, z)
    assert w.shape == (3, 8) and S.z_to_w(g, z[0]).shape == (1, 8)
    avg = S.mean_latent(g, n=512, seed=0)
    assert torch.allclose(S.truncate(w, avg, 0.0), avg.expand(3, -1))
    assert torch.allclose(S.truncate(w, avg, 1.0), w, atol=1e-6)
    assert S.w_avg(g).shape == (8,)  # zeros buffer -> computed
    ws = S.mix(g, w[0:1], w[1:3], crossover=2)
    assert ws.shape == (2, g.n_styles, 8)
    assert torch.equal(ws[:, :2], w[0:1, None].expand(2, 2, -1)) and torch.equal(ws[:, 2:], w[1:3, None].expand(-1, 4, -1))
    assert torch.equal(S.mix(g, w[0:1], w[1:2], 99), S.broadcast(g, w[0:1]))  # clamped: all A
    with torch.no_grad():
        const = S.synthesize(g, w)
        assert const.shape == (3, 3, 16, 16) and torch.equal(const, S.synthesize(g, S.broadcast(g, w), "const"))
        r1, r2 = S.synthesize(g, w, "random", seed=1), S.synthesize(g, w, "random", seed=1)
        assert torch.equal(r1, r2) and not torch.equal(r1, S.synthesize(g, w, "random", seed=2))
    pics = S.to_pictures(const)
    assert pics.shape == (3, 16, 16, 3) and pics.dtype == np.float32 and 0 <= pics.min() <= pics.max() <= 1
    with pytest.raises(ValueError, match=r"z must have shape \(N, 8\)"):
        S.z_to_w(g, torch.zeros(2, 5))


def test_registration_and_tool_lists_agree() -> None:
    assert "stylegan2" in architectures()
    assert STYLEGAN_TOOLS == RECIPE_TOOLS
