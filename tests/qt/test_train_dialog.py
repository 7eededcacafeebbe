"""The Train dialog driven with qtbot: data check, a tiny fine-tune end to end (start,
progress, pause, resume, a pause for an interactive job, cancel, resume after a simulated
restart, the new version selectable), and a second training refused."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TINY = ["--set", "ngf=4", "--set", "ndf=4", "--set", "num_downs=5", "--size", "32", "--no-progress"]
WAIT_MS = 120_000


def _pictures(folder: Path, n: int, size=(40, 40), mode="RGB", seed=0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        arr = rng.integers(0, 255, (size[1], size[0], len(mode)), dtype=np.uint8)
        Image.fromarray(arr[..., 0] if mode == "L" else arr, mode).save(folder / f"p{i}.png")
    return folder


def _dialog(qtbot, bridge, store=None, **kw):
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.qt.dialogs.train import TrainDialog

    dlg = TrainDialog(store if store is not None else ModelStore(), bridge, **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _check(qtbot, dlg) -> None:
    dlg.check_button.click()
    qtbot.waitUntil(lambda: not dlg._checking, timeout=10_000)


def test_data_check_reports_empty_mixed_grey_and_transparent(qtbot, engine, tmp_path):
    _, bridge = engine
    dlg = _dialog(qtbot, bridge)
    dlg.form.set_family("inpaint")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.txt").write_text("no picture")
    dlg.form.set_folders(str(empty))
    _check(qtbot, dlg)
    text = dlg.report_view.toPlainText()
    assert "no readable pictures" in text and "x.txt" in text
    assert not dlg.start_button.isEnabled()

    mixed = _pictures(tmp_path / "mixed", 3)
    _pictures(mixed / "grey", 2, size=(64, 48), mode="L", seed=1)
    _pictures(mixed / "alpha", 2, size=(30, 30), mode="RGBA", seed=2)
    dlg.form.set_folders(str(mixed))
    assert "check the data again" in dlg.report_view.toPlainText()
    _check(qtbot, dlg)
    text = dlg.report_view.toPlainText()
    assert "7 usable picture(s)" in text and "2 greyscale" in text and "2 with transparency" in text
    assert "mixed sizes" in text and "only 7 pictures; the 'quick' preset wants at least 10" in text
    assert dlg.start_button.isEnabled()
    dlg.form.preset.setCurrentIndex(dlg.form.preset.findData("long"))
    assert not dlg.start_button.isEnabled()  # the check was for other settings


@pytest.fixture
def tiny_model(tmp_path):
    """A tiny pix2pix model in the store, made the way a user would: `ganpaint train`."""
    from ganpaint.cli.main import main

    a, b = _pictures(tmp_path / "a", 6), _pictures(tmp_path / "b", 6, seed=5)
    assert main(["train", "pix2pix", "--data", str(a), "--data-b", str(b), "--steps", "2", "--as", "tiny", *TINY]) == 0
    return a, b


def _setup_paired(dlg, a, b, steps: int) -> None:
    f = dlg.form
    f.set_family("paired")
    f.refresh_models()
    assert f.set_start_model("tiny@1")
    f.set_folders(str(a), str(b))
    f.advanced.setChecked(True)
    f.steps.setValue(steps)
    f.size.setValue(32)
    f.batch.setValue(1)
    f.extra_options = {"ndf": 4}
    f.sample_every = 1
    f.checkpoint_every = 2


@pytest.mark.slow
def test_tiny_finetune_end_to_end(qtbot, engine, tiny_model, answers):
    from ganpaint.engine.jobs import Job
    from ganpaint.engine.models.store import ModelStore

    queue, bridge = engine
    a, b = tiny_model
    store = ModelStore()
    compared: list[tuple[str, str, str]] = []
    dlg = _dialog(qtbot, bridge, store, compare=lambda *args: compared.append(args))
    from ganpaint.qt.panels.jobs import COL_MESSAGE, PAUSED_TEXT, JobsPanel

    jobs_panel = JobsPanel(bridge)
    qtbot.addWidget(jobs_panel)
    _setup_paired(dlg, a, b, steps=10)
    assert not dlg.start_button.isEnabled()
    _check(qtbot, dlg)
    assert dlg.start_button.isEnabled(), dlg.report_view.toPlainText()

    # start, then pause at once: the loop stops at a step boundary with a checkpoint
    dlg.start_button.click()
    assert dlg.state == "running" and dlg.pause_button.isEnabled()
    dlg.pause_button.click()
    qtbot.waitUntil(lambda: dlg.state == "paused", timeout=WAIT_MS)
    assert dlg.outcome.kind == "paused" and "Paused at step" in dlg.status.text()
    run_dir = dlg.run_dir
    assert (Path(run_dir) / "checkpoint.safetensors").is_file()

    # resume: progress arrives (losses, steps/s, samples)
    gate = threading.Event()
    dlg.resume_button.click()
    qtbot.waitUntil(lambda: len(dlg.plot.history) >= 1 and "steps/s" in dlg.status.text(), timeout=WAIT_MS)
    assert dlg.samples.pixmap() is not None and not dlg.samples.pixmap().isNull()
    # an interactive tool job pauses training at its next step; the dialog says so
    queue.submit(Job("tool", "interactive", lambda inputs, ctx: gate.wait(30), title="a tool"))
    qtbot.waitUntil(lambda: "interactive tool job" in dlg.status.text(), timeout=WAIT_MS)
    row = jobs_panel.rows[dlg.job.id]  # the Jobs panel shows the training row, paused for the tool
    assert row.item.text(COL_MESSAGE) == PAUSED_TEXT
    dlg.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: dlg.state == "cancelled", timeout=WAIT_MS)
    assert "nothing was stored" in dlg.status.text()
    assert [e.ref for e in store.list(all_versions=True)] == ["tiny@1"]
    step_at_cancel = dlg.plot.history[-1][0]
    assert 1 <= step_at_cancel < 10
    dlg.close()

    # "restart": a new dialog lists the stopped run and finishes it
    dlg2 = _dialog(qtbot, bridge, ModelStore(), compare=lambda *args: compared.append(args))
    assert any(t.startswith("tiny (paired from tiny@1): step") for t in dlg2.run_labels()), dlg2.run_labels()
    stored: list[str] = []
    dlg2.modelStored.connect(stored.append)
    dlg2.runs.setCurrentIndex(dlg2.runs.findData(run_dir))
    dlg2.resume_run_button.click()
    qtbot.waitUntil(lambda: dlg2.state in ("done", "failed"), timeout=WAIT_MS)
    assert dlg2.state == "done", dlg2.status.text()
    assert stored == ["tiny@2"] and "stored as tiny@2" in dlg2.status.text()
    assert dlg2.plot.history[0][0] == 1 and dlg2.plot.history[-1][0] == 10  # the plot kept the first part
    card = ModelStore().get("tiny@2").card
    assert card.extra["finetune"]["base_model"] == "tiny@1" and card.metrics
    # the new version is selectable as a starting model and for the tool
    dlg2.form.set_family("paired")
    assert dlg2.form.set_start_model("tiny@2") and dlg2.form.set_start_model("tiny@1")
    assert "tiny" in [e.name for e in ModelStore().list("translate")]
    dlg2.compare_button.click()
    assert compared == [("translate", "tiny@1", "tiny@2")]
    assert dlg2.run_labels() == []


@pytest.mark.slow
def test_second_training_is_refused(qtbot, engine, tiny_model, answers):
    from ganpaint.engine.jobs import Job

    queue, bridge = engine
    a, b = tiny_model
    gate = threading.Event()
    # keep the first training waiting behind an interactive job, so it is surely still running
    queue.submit(Job("tool", "interactive", lambda inputs, ctx: gate.wait(30), title="a tool"))
    d1, d2 = _dialog(qtbot, bridge), _dialog(qtbot, bridge)
    for d in (d1, d2):
        _setup_paired(d, a, b, steps=50)
        _check(qtbot, d)
    d1.start_button.click()
    d2.start_button.click()
    assert answers.calls and "already going" in answers.calls[-1][2]
    assert d2.state == "idle" and d1.state == "running"
    d1.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: d1.state == "cancelled", timeout=WAIT_MS)


def test_menu_opens_the_train_dialog(qtbot, window):
    window.action_map["train"].trigger()
    dlg = window._train_dialog
    assert dlg.isVisible()
    fams = [dlg.form.family.itemData(i) for i in range(dlg.form.family.count())]
    assert fams[:2] == ["sketch", "unpaired"] and "inpaint" in fams
    assert dlg.form.model.itemText(dlg.form.model.count() - 1) == "From scratch"
    dlg.close()


@pytest.mark.slow
def test_compare_ab_makes_two_result_layers(qtbot, tmp_path, answers):
    """A/B in a real window: the translate tool runs with the base and the new version."""
    import ganpaint_translate

    from ganpaint.cli.main import main
    from ganpaint.core.layers import LayerKind
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.dialogs.train import _compare_in_window
    from ganpaint.qt.mainwindow import MainWindow

    a, b = _pictures(tmp_path / "a", 4), _pictures(tmp_path / "b", 4, seed=5)
    common = ["--data", str(a), "--data-b", str(b), "--steps", "1", "--as", "tiny", *TINY]
    assert main(["train", "pix2pix", *common]) == 0
    assert main(["train", "pix2pix", *common, "--from", "tiny", "--run-dir", str(tmp_path / "run2")]) == 0
    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_translate, "translate")
    store = ModelStore()
    queue = JobQueue(model_resolver=store.path_for)
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None, model_store=store)
    qtbot.addWidget(win)
    try:
        win.new_document_silent(48, 40)
        _compare_in_window(win)("translate", "tiny@1", "tiny@2")
        doc = win.controller.document

        def results():
            return [layer.result.params.get("model") for layer in doc.layers if layer.kind is LayerKind.RESULT]

        qtbot.waitUntil(lambda: len(results()) == 2, timeout=WAIT_MS)
        assert sorted(results()) == ["tiny@1", "tiny@2"]
    finally:
        doc.history.mark_clean()
        win.close()
        queue.shutdown(wait=True, timeout=30)
