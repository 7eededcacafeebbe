"""Reading .pth files safely and recognising the official generator architectures."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.checkpoints import (
    check_keys,
    detect_generator,
    drop_stale_norm_buffers,
    read_checkpoint,
    weights_sha256,
)
from ganpaint.nn import ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator

COMPAT = Path("/work/shared/compat")
needs_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="compat vectors not present")


def _save(sd: dict, path: Path, **kw) -> Path:
    torch.save(sd, path, **kw)
    return path


@needs_compat
@pytest.mark.parametrize(
    ("file", "arch", "expect"),
    [
        ("cyclegan_resnet9_ngf8.pth", "resnet_generator",
         dict(ngf=8, n_blocks=9, norm="instance", dropout=False, in_channels=3, out_channels=3)),
        ("pix2pix_unet256_batchnorm_ngf8.pth", "unet_generator",
         dict(ngf=8, num_downs=8, norm="batch", in_channels=3, out_channels=3)),
        ("unet256_instancenorm_ngf8.pth", "unet_generator", dict(ngf=8, num_downs=8, norm="instance")),
    ],
)
def test_detects_the_compat_vectors(file: str, arch: str, expect: dict) -> None:
    det, clean = detect_generator(read_checkpoint(COMPAT / file))
    assert det.architecture == arch
    assert {k: det.config[k] for k in expect} == expect
    assert det.dropped_keys == ()
    assert "ngf=8" in det.describe()


@pytest.mark.parametrize(
    "config",
    [
        ResnetConfig(ngf=4, n_blocks=6, norm="instance", dropout=True),
        ResnetConfig(ngf=6, n_blocks=9, norm="batch", dropout=False),
        ResnetConfig(in_channels=1, out_channels=3, ngf=4, n_blocks=3),
        ResnetConfig(ngf=4, n_blocks=2, padding="zero"),
        ResnetConfig(ngf=4, n_blocks=2, padding="zero", dropout=True),
    ],
)
def test_detects_resnet_variants(tmp_path: Path, config: ResnetConfig) -> None:
    path = _save(ResnetGenerator(config).state_dict(), tmp_path / "g.pth")
    det, _ = detect_generator(read_checkpoint(path))
    assert det.config == config.to_dict()
    assert det.official_name == f"resnet_{config.n_blocks}blocks"


@pytest.mark.parametrize("depth", [7, 8])
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_detects_unet_depth_and_norm(tmp_path: Path, depth: int, norm: str) -> None:
    cfg = UnetConfig(ngf=2, num_downs=depth, norm=norm, in_channels=3, out_channels=1)
    path = _save(UnetGenerator(cfg).state_dict(), tmp_path / "g.pth")
    det, _ = detect_generator(read_checkpoint(path))
    assert det.config == cfg.to_dict()
    assert det.official_name == f"unet_{2**depth}"
    assert not det.dropout_visible


def test_drops_instance_norm_running_stats_old_files_carry(tmp_path: Path) -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2)).state_dict()
    stale = {}
    for mod in ("model.2", "model.5", "model.10.conv_block.2", "model.11.conv_block.6"):
        stale[f"{mod}.running_mean"] = torch.zeros(4)
        stale[f"{mod}.running_var"] = torch.ones(4)
        stale[f"{mod}.num_batches_tracked"] = torch.tensor(0)
    path = _save({**sd, **stale}, tmp_path / "old.pth")
    det, clean = detect_generator(read_checkpoint(path))
    assert set(det.dropped_keys) == set(stale)
    assert set(clean) == set(sd)
    assert "dropped 12" in det.describe()


def test_batch_norm_running_stats_are_kept() -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1, norm="batch")).state_dict()
    kept, dropped = drop_stale_norm_buffers(sd)
    assert dropped == [] and set(kept) == set(sd)


def test_unwraps_containers_and_data_parallel_prefixes(tmp_path: Path) -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1)).state_dict()
    wrapped = {"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 200}
    path = _save(wrapped, tmp_path / "w.pth")
    assert list(read_checkpoint(path)) == list(sd)


def test_reads_legacy_non_zip_files(tmp_path: Path) -> None:
    sd = UnetGenerator(UnetConfig(ngf=2, num_downs=5)).state_dict()
    path = _save(sd, tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    assert weights_sha256(read_checkpoint(path)) == weights_sha256(sd)


class _Payload:
    """Unpickling this would create a marker file (what a malicious checkpoint does)."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("as_torch", [True, False])
def test_pickled_payload_is_refused_and_never_runs(tmp_path: Path, as_torch: bool) -> None:
    marker = tmp_path / "pwned"
    payload = _Payload()
    payload.marker = str(marker)
    path = tmp_path / "evil.pth"
    if as_torch:
        torch.save({"model.1.weight": torch.zeros(1), "x": payload}, path)
    else:
        with open(path, "wb") as fh:
            pickle.dump({"model.1.weight": payload}, fh, protocol=2)
    assert not marker.exists()
    with pytest.raises(ModelFileError, match="refused") as info:
        read_checkpoint(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_python_objects_are_refused_with_their_class_named(tmp_path: Path) -> None:
    path = tmp_path / "obj.pth"
    torch.save({"w": torch.zeros(2), "opt": _Payload}, path)
    with pytest.raises(ModelFileError, match=r"refused.*_Payload"):
        read_checkpoint(path)


@needs_compat
def test_truncated_zip_checkpoint(tmp_path: Path) -> None:
    data = (COMPAT / "cyclegan_resnet9_ngf8.pth").read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        read_checkpoint(path)


def test_truncated_legacy_checkpoint(tmp_path: Path) -> None:
    full = _save({"w": torch.zeros(1000)}, tmp_path / "full.pth", _use_new_zipfile_serialization=False)
    path = tmp_path / "cut.pth"
    path.write_bytes(full.read_bytes()[:300])
    with pytest.raises(ModelFileError, match="truncated"):
        read_checkpoint(path)


def test_empty_missing_and_non_model_files(tmp_path: Path) -> None:
    (tmp_path / "empty.pth").write_bytes(b"")
    (tmp_path / "notes.pth").write_text("hello")
    with pytest.raises(ModelFileError, match="empty"):
        read_checkpoint(tmp_path / "empty.pth")
    with pytest.raises(ModelFileError, match="no such file"):
        read_checkpoint(tmp_path / "absent.pth")
    with pytest.raises(ModelFileError, match="not a model file"):
        read_checkpoint(tmp_path / "notes.pth")


def test_several_networks_in_one_file_are_named(tmp_path: Path) -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1)).state_dict()
    path = _save({"G_A": sd, "G_B": sd}, tmp_path / "both.pth")
    with pytest.raises(ModelFileError, match="several networks.*G_A"):
        read_checkpoint(path)


def test_unknown_architecture_says_what_did_not_match() -> None:
    sd = {"encoder.conv1.weight": torch.zeros(8, 3, 3, 3), "decoder.out.bias": torch.zeros(3)}
    with pytest.raises(ModelFileError, match=r"unknown architecture.*model\.1\.weight.*encoder\.conv1\.weight"):
        detect_generator(sd)


def test_missing_extra_and_misshapen_keys_are_listed() -> None:
    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2)).state_dict()
    broken = dict(sd)
    del broken["model.4.weight"]
    broken["model.4.scale"] = torch.zeros(1)
    broken["model.7.bias"] = torch.zeros(5)
    with pytest.raises(ModelFileError) as info:
        detect_generator(broken)
    msg = str(info.value)
    assert "missing keys (1): model.4.weight" in msg
    assert "unexpected keys (1): model.4.scale" in msg
    assert "model.7.bias (5,) (expected (16,))" in msg


def test_check_keys_accepts_an_exact_match() -> None:
    g = UnetGenerator(UnetConfig(ngf=2, num_downs=5))
    check_keys(g, g.state_dict())  # no exception


def test_weights_digest_depends_on_values_not_order() -> None:
    a = {"x": torch.arange(4.0), "n": torch.tensor(3)}
    b = {"n": torch.tensor(3), "x": torch.arange(4.0)}
    assert weights_sha256(a) == weights_sha256(b)
    assert weights_sha256(a) != weights_sha256({**a, "x": torch.arange(4.0) + 1})



def test_safetensors_files_are_read_and_truncated_ones_named(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    sd = ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1)).state_dict()
    path = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    det, _ = detect_generator(read_checkpoint(path))
    assert det.config["n_blocks"] == 1
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(ModelFileError, match="cut.safetensors: not a readable safetensors file"):
        read_checkpoint(cut)
