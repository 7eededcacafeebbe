"""The Translate tool: registration, runs through the plugin host, and the official vectors
through the command line (`ganpaint models import` then `ganpaint run translate`)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import ganpaint_translate
import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.core.specs import ToolError
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn import ResnetConfig, ResnetGenerator
from ganpaint.testing import RecordingContext, run_tool

COMPAT = Path("/work/shared/compat")
VECTORS = ["cyclegan_resnet9_ngf8", "pix2pix_unet256_batchnorm_ngf8", "unet256_instancenorm_ngf8"]
needs_compat = pytest.mark.skipif(not COMPAT.is_dir(), reason="compat vectors not present")


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _pth(path: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    torch.save(ResnetGenerator(ResnetConfig(ngf=4, n_blocks=2)).state_dict(), path)
    return path


class StoreContext(RecordingContext):
    """RecordingContext whose model_path is the real model store."""

    def __init__(self, store: ModelStore, **kw) -> None:
        super().__init__(**kw)
        self.store = store

    def model_path(self, name: str, tool: str) -> str:
        return self.store.path_for(name, tool)


def test_entry_point_and_api_version() -> None:
    eps = [ep for ep in entry_points(group="ganpaint.plugins") if ep.name == "translate"]
    assert eps and eps[0].value == "ganpaint_translate"
    assert ganpaint_translate.GANPAINT_API_VERSION == 1
    (spec,) = ganpaint_translate.ganpaint_register_tools()
    assert spec.id == "translate" and spec.uses_torch
    assert spec.param("model").kind == "model"
    assert spec.param("direction").choices == ("forward", "reverse")
    assert spec.param("mode").choices == ("eval", "published")
    assert spec.param("seed").kind == "seed"


def test_import_does_not_load_torch() -> None:
    code = "import sys, ganpaint_translate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_runs_both_directions_of_a_pair(plugin_host, tmp_path: Path) -> None:
    plugin_host.register(ganpaint_translate, "translate")
    store = ModelStore(tmp_path / "models", include_resources=False)
    store.import_files(_pth(tmp_path / "a.pth", 1), _pth(tmp_path / "b.pth", 2), name="pair")
    x = np.random.default_rng(0).random((20, 30, 3), dtype=np.float32)
    fwd = run_tool(plugin_host, "translate", x, {"model": "pair"}, ctx=StoreContext(store))
    rev = run_tool(plugin_host, "translate", x, {"model": "pair", "direction": "reverse"}, ctx=StoreContext(store))
    assert fwd.image.shape == (20, 30, 3) and rev.image.shape == (20, 30, 3)
    assert np.abs(fwd.image - rev.image).max() > 0.01
    assert fwd.metadata["model"] == "pair" and rev.metadata["direction"] == "reverse"
    assert fwd.metadata["model_sha256"] == store.get("pair").card.sha256


def test_clear_messages_for_missing_model_or_direction(plugin_host, tmp_path: Path) -> None:
    plugin_host.register(ganpaint_translate, "translate")
    store = ModelStore(tmp_path / "models", include_resources=False)
    store.import_files(_pth(tmp_path / "a.pth", 1), name="single")
    x = np.zeros((8, 8, 3), np.float32)
    with pytest.raises(ToolError, match="no model chosen"):
        run_tool(plugin_host, "translate", x, {}, ctx=StoreContext(store))
    with pytest.raises(ToolError, match="no reverse generator"):
        run_tool(plugin_host, "translate", x, {"model": "single", "direction": "reverse"}, ctx=StoreContext(store))
    with pytest.raises(ToolError, match="no model named 'other'"):
        run_tool(plugin_host, "translate", x, {"model": "other"}, ctx=StoreContext(store))


# --------------------------------------------------------------------------- the command line
@pytest.fixture
def cli(isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``cli(args) -> (exit status, stdout, stderr)``: ganpaint's own main(), in this process,
    with GANPAINT_DATA_DIR pointing at an empty folder."""
    from ganpaint.cli.main import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")

    def call(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    call.data_dir = isolated_data_dir  # type: ignore[attr-defined]
    return call


@needs_compat
def test_official_vectors_through_the_command_line(cli, tmp_path: Path) -> None:
    for vector in VECTORS:
        name = vector.replace("_", "-")
        code, out, err = cli(["models", "import", str(COMPAT / f"{vector}.pth"), "--as", name])
        assert code == 0, err
        assert "stored as" in out and "ngf=8" in out
    code, out, err = cli(["models", "list", "--tool", "translate"])
    assert code == 0 and all(v.replace("_", "-") in out for v in VECTORS), out + err
    for vector in VECTORS:
        target = tmp_path / f"{vector}.png"
        code, out, err = cli(
            ["run", "translate", str(COMPAT / f"{vector}_input.png"), "-o", str(target), "--model",
             vector.replace("_", "-"), "-q"]
        )
        assert code == 0, err
        diff = np.abs(_png(target).astype(int) - _png(COMPAT / f"{vector}_expected.png").astype(int))
        assert diff.max() <= 1, f"{vector}: max difference {diff.max()}"


def test_command_line_bad_input(cli, tmp_path: Path) -> None:
    code, _, err = cli(["models", "import", str(_pth(tmp_path / "g.pth", 1)), "--as", "keep"])
    assert code == 0, err
    models = cli.data_dir / "models"
    snapshot = {p.name: p.read_bytes() for p in models.rglob("*") if p.is_file()}

    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "marker"), "w"))

    torch.save({"model.1.weight": Boom()}, tmp_path / "evil.pth")
    (tmp_path / "junk.pth").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    torch.save({"body.0.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    for bad, words in (("evil.pth", "refused"), ("junk.pth", "truncated"), ("other.pth", "unknown architecture")):
        code, _, err = cli(["models", "import", str(tmp_path / bad), "--as", "keep"])
        assert code == 1 and words in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "marker").exists()
    assert {p.name: p.read_bytes() for p in models.rglob("*") if p.is_file()} == snapshot
    code, _, err = cli(["models", "remove", "absent"])
    assert code == 2 and "no model named 'absent'" in err
    code, out, _ = cli(["models", "remove", "keep"])
    assert code == 0 and "removed keep@1" in out
