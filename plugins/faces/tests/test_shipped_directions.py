"""Directions shipped beside a plugin's default model, and the default model's registration."""

from __future__ import annotations

import shutil
from pathlib import Path

import ganpaint_faces
import numpy as np
import pytest
from ganpaint_faces.tool import run

from ganpaint.core.specs import ToolError, ToolRequest
from ganpaint.engine.models.directions import DirectionSet, directions_path, save_directions
from ganpaint.engine.models.store import ModelStore
from ganpaint.testing import RecordingContext

SPEC = ganpaint_faces.ganpaint_register_tools()[0]
TINY = "tiny-gan"


@pytest.fixture()
def shipped(tiny_store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordingContext:
    """The tiny generator copied into a 'plugin models' folder with a smile direction beside
    it; the user's store (GANPAINT_DATA_DIR) is empty."""
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "user"))
    folder = tmp_path / "plugin" / "models"
    folder.mkdir(parents=True)
    src = tiny_store.get(TINY)
    dst = folder / src.path.name
    shutil.copy(src.path, dst)
    ds = DirectionSet(TINY, src.card.sha256, 16)
    v = np.zeros(16, np.float32)
    v[3] = 1.0
    ds.add("smile", v, kind="boundary", scale=1.5)
    save_directions(ds, folder)
    return RecordingContext(models={(TINY, "faces"): str(dst)})


def _request(**params: object) -> ToolRequest:
    return ToolRequest(SPEC.id, {}, SPEC.resolve_params({"model": TINY, **params}), canvas=(16, 16))


def test_shipped_directions_drive_the_sliders(shipped: RecordingContext) -> None:
    assert not directions_path(TINY).exists()  # nothing in the user's store
    plain = run(_request(seed=4), shipped)
    moved = run(_request(seed=4, smile=2.0), shipped)
    assert moved.metadata["sliders"] == {"smile": 2.0}
    assert np.abs(moved.image - plain.image).max() > 1e-3


def test_users_directions_hide_shipped_ones(shipped: RecordingContext, tiny_store: ModelStore) -> None:
    ds = DirectionSet(TINY, tiny_store.get(TINY).card.sha256, 16)
    ds.add("beard", np.eye(16, dtype=np.float32)[5], kind="boundary", scale=1.0)
    save_directions(ds)  # the user's store: recomputed directions, say
    with pytest.raises(ToolError, match="no direction for smile"):
        run(_request(seed=4, smile=1.0), shipped)
    assert run(_request(seed=4, beard=1.0), shipped).metadata["sliders"] == {"beard": 1.0}


def test_default_model_is_registered_only_when_its_file_is_there(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ganpaint_faces, "MODEL_FILE", tmp_path / "missing.safetensors")
    monkeypatch.setattr(ganpaint_faces, "UPSCALER_FILE", tmp_path / "missing-x4.safetensors")
    assert ganpaint_faces.ganpaint_register_models() == []
    real = tmp_path / "faces-default.safetensors"
    real.write_bytes(b"x")
    monkeypatch.setattr(ganpaint_faces, "MODEL_FILE", real)
    (spec,) = ganpaint_faces.ganpaint_register_models()
    assert (spec.name, spec.tool, spec.path, spec.default) == ("faces-default", "faces", str(real), True)
    up = tmp_path / "faces-upscale-x4.safetensors"
    up.write_bytes(b"x")
    monkeypatch.setattr(ganpaint_faces, "UPSCALER_FILE", up)
    assert [(m.name, m.tool) for m in ganpaint_faces.ganpaint_register_models()] == [
        ("faces-default", "faces"), ("faces-upscale-x4", "upscale")]


def test_the_shipped_default_runs_with_its_shipped_directions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not ganpaint_faces.MODEL_FILE.is_file():
        pytest.skip("a source checkout without the trained default")
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))  # an empty user store
    (m,) = [m for m in ganpaint_faces.ganpaint_register_models() if m.tool == "faces"]
    ctx = RecordingContext(models={(m.name, "faces"): m.path})
    req = ToolRequest(SPEC.id, {}, SPEC.resolve_params({"seed": 5, "background": 2.0}), canvas=(64, 64))
    assert SPEC.param("model").default == m.name == "faces-default"
    moved = run(req, ctx)
    plain = run(ToolRequest(SPEC.id, {}, SPEC.resolve_params({"seed": 5}), canvas=(64, 64)), ctx)
    assert moved.image.shape == (64, 64, 3) and moved.metadata["sliders"] == {"background": 2.0}
    assert np.abs(moved.image - plain.image).mean() > 0.01  # the background direction changes the picture


# ------------------------------------------------------------------ sliders that fail the rule are withheld


def test_withheld_slider_is_hidden_and_refused(shipped: RecordingContext, tiny_store: ModelStore) -> None:
    from ganpaint.engine.models.directions import find_directions

    folder = Path(shipped.model_path(TINY, "faces")).parent
    sha = tiny_store.get(TINY).card.sha256
    ds = find_directions(TINY, sha256=sha, model_file=shipped.model_path(TINY, "faces"))
    assert ds is not None
    ds.add("beard", np.eye(16, dtype=np.float32)[5], kind="boundary", scale=1.0)
    ds.withhold("smile", "moves its attribute too little (+0.10 of its range, needs +0.25)")
    save_directions(ds, folder)
    # the panel's hook: every slider but beard hidden (smile withheld, the rest never computed)
    hidden = ganpaint_faces.hidden_sliders({"model": TINY}, shipped.model_path)
    assert "smile" in hidden and "beard" not in hidden
    assert set(hidden) == set(ganpaint_faces.SLIDERS) - {"beard"}
    # the reason survives a round trip and is what the command line is told
    again = find_directions(TINY, sha256=sha, model_file=shipped.model_path(TINY, "faces"))
    assert again is not None and "smile" not in again.vectors and "smile" in again.withheld
    with pytest.raises(ToolError, match=r"ships no smile slider .*too little"):
        run(_request(seed=4, smile=1.0), shipped)
    assert run(_request(seed=4, beard=1.0), shipped).metadata["sliders"] == {"beard": 1.0}


def test_hidden_sliders_without_directions_or_model(shipped: RecordingContext, tmp_path: Path) -> None:
    # the shipped file has only smile: the other sliders are hidden
    assert "smile" not in ganpaint_faces.hidden_sliders({"model": TINY}, shipped.model_path)
    assert "beard" in ganpaint_faces.hidden_sliders({"model": TINY}, shipped.model_path)
    # no directions at all: nothing hidden, the run explains how to compute them
    lone = tmp_path / "lone" / "m.safetensors"
    lone.parent.mkdir()
    assert ganpaint_faces.hidden_sliders({"model": "other"}, lambda n, t: str(lone)) == []

    def unknown(name: str, tool: str) -> str:
        raise ToolError(f"no model {name!r}")

    assert ganpaint_faces.hidden_sliders({"model": "nope"}, unknown) == []
    assert ganpaint_faces.hidden_sliders({"model": ""}, shipped.model_path) == []
    # a damaged directions file hides nothing (the run reports it)
    (lone.parent / "directions").mkdir()
    (lone.parent / "directions" / "other.safetensors").write_bytes(b"\xff" * 40)
    assert ganpaint_faces.hidden_sliders({"model": "other"}, lambda n, t: str(lone)) == []


def test_shipped_default_hides_exactly_its_withheld_sliders(isolated_data_dir: Path) -> None:
    """The default model's panel offers the sliders that met the rule, and only those."""
    from ganpaint.engine.models.direction_files import saved_direction_names

    if not ganpaint_faces.MODEL_FILE.is_file():
        pytest.skip("no default faces model in this checkout")
    found = saved_direction_names(ganpaint_faces.DEFAULT_MODEL, ganpaint_faces.MODEL_FILE)
    assert found is not None
    hidden = ganpaint_faces.hidden_sliders({"model": ganpaint_faces.DEFAULT_MODEL},
                                           lambda n, t: str(ganpaint_faces.MODEL_FILE))
    assert set(hidden) == set(found.withheld) and set(hidden) <= set(ganpaint_faces.SLIDERS)
    assert set(ganpaint_faces.SLIDERS) - set(hidden) <= found.names


def test_host_hides_the_defaults_withheld_sliders(isolated_data_dir: Path) -> None:
    """The host's path end to end: the real plugin manager resolves the faces hook and the
    model store resolves the shipped default (no Qt window needed)."""
    from ganpaint.engine.models.direction_files import saved_direction_names
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.hidden_params import host_hidden_params

    if not ganpaint_faces.MODEL_FILE.is_file():
        pytest.skip("no default faces model in this checkout")
    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_faces, "faces")
    spec = pm.tool("faces")
    call = host_hidden_params(pm, ModelStore(defaults=pm.models()))
    found = saved_direction_names(ganpaint_faces.DEFAULT_MODEL, ganpaint_faces.MODEL_FILE)
    assert found is not None
    assert call(spec, spec.default_params()) == set(found.withheld)
    assert call(spec, {**spec.default_params(), "model": "no-such-model"}) == frozenset()
