"""The Train dialog after a StyleGAN2 fine-tune: the slider directions are recomputed in the
same job and the status says so; a failure there is a clear warning with the model stored; a
cancel while recomputing keeps the stored model (Pause is off in that stage). Tiny 16 px
generators, two training steps, 64 labelled samples."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

WAIT_MS = 120_000
TINY_BASE = "tiny-gan"
FAST_DIRECTIONS = {"samples": 64, "components": 3}


def _pictures(folder: Path, n: int = 5, size=(36, 44)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def user_store(monkeypatch):
    """The user's store (GANPAINT_DATA_DIR is a temporary folder, see conftest) with tiny-gan@1."""
    from ganpaint.core.paths import models_dir
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store

    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    make_tiny_stylegan_store(models_dir(), TINY_BASE)
    return ModelStore()


def _dialog(qtbot, bridge, store, tmp_path, base: str):
    from ganpaint.qt.dialogs.train import TrainDialog

    dlg = TrainDialog(store, bridge, runs_root=str(tmp_path / "runs"), device="cpu")
    qtbot.addWidget(dlg)
    dlg.show()
    f = dlg.form
    f.set_family("stylegan2")
    f.refresh_models()
    assert f.set_start_model(base)  # "" = from scratch (no longer the default)
    f.set_folders(str(_pictures(tmp_path / "photos")))
    f.advanced.setChecked(True)
    f.steps.setValue(2)
    f.size.setValue(16)
    f.batch.setValue(2)
    f.sample_every = 1
    f.directions_options = dict(FAST_DIRECTIONS)
    if not base:
        f.extra_options = {"style_dim": 16, "n_mlp": 1, "widths": "16,16,16"}
    dlg.check_button.click()
    qtbot.waitUntil(lambda: not dlg._checking, timeout=10_000)
    assert dlg.start_button.isEnabled(), dlg.report_view.toPlainText()
    return dlg


@pytest.mark.slow
def test_finetune_recomputes_directions_and_says_so(qtbot, engine, user_store, tmp_path, answers):
    from ganpaint.engine.jobs import finetune as ft
    from ganpaint.engine.models.directions import load_directions

    queue, bridge = engine
    dlg = _dialog(qtbot, bridge, user_store, tmp_path, f"{TINY_BASE}@1")
    messages: list[str] = []
    queue.events.job_progress.connect(lambda m: messages.append(m.message))
    stored: list[str] = []
    dlg.modelStored.connect(stored.append)
    dlg.start_button.click()
    qtbot.waitUntil(lambda: dlg.state in ("done", "failed", "cancelled"), timeout=WAIT_MS)
    assert dlg.state == "done", dlg.status.text()
    assert stored == [f"{TINY_BASE}@2"]
    text = dlg.status.text()
    assert f"stored as {TINY_BASE}@2" in text and "Slider directions recomputed" in text and "smile" in text
    assert any(m.startswith(ft.DIRECTIONS_MESSAGE) for m in messages)
    assert not [c for c in answers.calls if c[0] == "warning"]
    new = user_store.get(TINY_BASE)
    ds = load_directions(TINY_BASE, sha256=new.card.sha256, style_dim=16)
    assert ds is not None and set(ds.vectors) == set(dlg.outcome.directions)


@pytest.mark.slow
def test_failing_directions_keep_the_model_and_warn(qtbot, engine, user_store, tmp_path, answers):
    from ganpaint.engine.models.store import ModelStore

    _, bridge = engine
    (user_store.root / "directions").write_text("a file where the directions folder should be")
    dlg = _dialog(qtbot, bridge, user_store, tmp_path, "")
    dlg.start_button.click()
    qtbot.waitUntil(lambda: dlg.state in ("done", "failed", "cancelled"), timeout=WAIT_MS)
    assert dlg.state == "done", dlg.status.text()
    text = dlg.status.text()
    assert "stored as stylegan2-mine@1" in text and "slider directions were not recomputed" in text
    warnings = [c for c in answers.calls if c[0] == "warning"]
    assert len(warnings) == 1 and warnings[0][1] == "Slider directions"
    assert "trained and stored as stylegan2-mine@1" in warnings[0][2]
    assert "ganpaint directions compute --model stylegan2-mine" in warnings[0][2]
    assert ModelStore().get("stylegan2-mine").version == 1
    assert dlg.run_labels() == []  # nothing to resume: the model is stored


@pytest.mark.slow
def test_cancel_while_recomputing_keeps_the_stored_model(qtbot, engine, user_store, tmp_path, answers):
    from ganpaint.engine.jobs import finetune as ft
    from ganpaint.engine.models.directions import directions_path

    queue, bridge = engine
    dlg = _dialog(qtbot, bridge, user_store, tmp_path, f"{TINY_BASE}@1")
    gate, reached = threading.Event(), threading.Event()

    def hold(msg):  # worker thread: hold the directions stage until the test has pressed Cancel
        if msg.message.startswith(ft.DIRECTIONS_MESSAGE) and not reached.is_set():
            reached.set()
            gate.wait(30)

    queue.events.job_progress.connect(hold)
    stored: list[str] = []
    dlg.modelStored.connect(stored.append)
    dlg.start_button.click()
    try:
        qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: dlg.status.text().startswith(ft.DIRECTIONS_MESSAGE), timeout=10_000)
        assert not dlg.pause_button.isEnabled() and dlg.cancel_button.isEnabled()
        dlg.cancel_button.click()
        assert "model stays stored" in dlg.status.text()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: dlg.state in ("done", "failed", "cancelled"), timeout=WAIT_MS)
    assert dlg.state == "done" and stored == [f"{TINY_BASE}@2"]
    text = dlg.status.text()
    assert f"stored as {TINY_BASE}@2" in text and "not recomputed (cancelled)" in text
    assert not [c for c in answers.calls if c[0] == "warning"]  # the user asked for it: no warning box
    assert not directions_path(TINY_BASE).exists()
