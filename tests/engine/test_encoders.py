"""Latent encoders: they learn w from the generator's pictures, and files stay with their generator."""

from __future__ import annotations

from pathlib import Path

import torch

from ganpaint.latent.encoders import encoder_path, find_encoder, load_encoder, save_encoder, train_encoder
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config
from ganpaint.nn.stylegan2.encoder import EncoderConfig, LatentEncoder


def _tiny() -> Generator:
    torch.manual_seed(0)
    g = Generator(StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))).eval()
    g.latent_avg.copy_(S.mean_latent(g, 512))
    return g


def test_untrained_encoder_gives_the_mean_latent() -> None:
    enc = LatentEncoder(EncoderConfig(16, 16))
    enc.w_avg.copy_(torch.arange(16.0))
    out = enc(torch.rand(3, 3, 32, 32) * 2 - 1)  # another size is resized
    assert torch.equal(out, torch.arange(16.0).expand(3, -1))


def test_trained_encoder_beats_the_mean_latent_on_new_latents() -> None:
    torch.set_num_threads(1)
    G = _tiny()
    enc = train_encoder(G, steps=150, batch=16, seed=0, pool=2400, width=32)
    with torch.no_grad():
        w = S.z_to_w(G, S.sample_z(G, 64, seed=99))  # latents the encoder never saw
        x = S.synthesize(G, w, noise="const")
        guess = enc(x)
    err_enc = float(((guess - w) ** 2).mean())
    err_mean = float(((S.w_avg(G) - w) ** 2).mean())
    assert err_enc < 0.85 * err_mean  # measured 0.63 against 0.87 (a random 16 px generator)


def test_files_are_tied_to_their_generator(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "user"))
    enc = LatentEncoder(EncoderConfig(16, 16))
    torch.nn.init.normal_(enc.head[-1].weight)
    shipped = tmp_path / "plugin"
    path = save_encoder(enc, "gan", "sha-a", shipped)
    assert path == encoder_path("gan", shipped)
    again = load_encoder(path, "sha-a")
    assert again is not None
    x = torch.rand(2, 3, 16, 16)
    assert torch.equal(again(x), enc(x))
    assert load_encoder(path, "sha-b") is None  # another generator's encoder is ignored
    small = save_encoder(enc, "gan16", "sha-a", shipped, half=True)
    assert small.stat().st_size < 0.6 * path.stat().st_size
    assert torch.allclose(load_encoder(small, "sha-a")(x), enc(x), atol=5e-3)
    path.with_name("broken.safetensors").write_bytes(b"not a file")
    assert load_encoder(path.with_name("broken.safetensors")) is None
    # looked up in the user's folder, then beside the model file
    assert find_encoder("gan", "sha-a", shipped / "gan.safetensors") is not None
    assert find_encoder("gan", "sha-a") is None
