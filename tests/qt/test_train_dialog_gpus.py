"""The Train dialog's multi-GPU run (issue 18): the "GPUs" box appears only with 2+ GPUs; more
than 1 starts ``engine.jobs.finetune.torchrun_command``'s command in a QProcess (here a stand-in
Python script: no GPU on the test machine), whose progress and "stored as" line the dialog
reads; Cancel sends SIGTERM and the run ends as stopped with its checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

WAIT_MS = 60_000

DONE_SCRIPT = r"""
import sys, time
for i in range(1, 4):
    sys.stderr.write(f"\rtraining:  {i * 33}%|###| {i}/3 [00:01<00:01]"); sys.stderr.flush(); time.sleep(0.05)
print("stored as mine@3 for the 'inpaint' tool: /x (3 steps in 1.0 s)")
"""

STOP_SCRIPT = r"""
import signal, sys, time
def stop(signum, frame):
    print("ganpaint: SIGTERM: every process stops after this step with a checkpoint", flush=True)
    sys.exit(130)
signal.signal(signal.SIGTERM, stop)
sys.stderr.write("\rtraining:  10%|#| 7/70 [00:01<00:09]"); sys.stderr.flush()
time.sleep(60)
"""


def _pictures(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def _dialog(qtbot, bridge, monkeypatch, gpus: int):
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.qt.dialogs import train as train_dialog

    monkeypatch.setattr(train_dialog, "local_gpu_count", lambda: gpus)
    dlg = train_dialog.TrainDialog(ModelStore(), bridge)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _checked_inpaint(qtbot, dlg, tmp_path: Path) -> None:
    dlg.form.set_family("inpaint")
    dlg.form.set_folders(str(_pictures(tmp_path / "pics", 12)))
    dlg.check_button.click()
    qtbot.waitUntil(lambda: not dlg._checking, timeout=10_000)
    assert dlg.start_button.isEnabled()


def _fake_launch(monkeypatch, tmp_path: Path, script: str, seen: list) -> None:
    from ganpaint.engine.jobs import finetune as ft

    def fake(req, *, gpus, **kw):
        seen.append((req.family, gpus))
        return ft.DistributedLaunch((sys.executable, "-c", script), str(tmp_path / "run"), "mine")

    monkeypatch.setattr(ft, "torchrun_command", fake)


def test_no_gpus_box_without_two_gpus(qtbot, engine, monkeypatch) -> None:
    from ganpaint.qt.dialogs.train import local_gpu_count

    assert local_gpu_count() in (0,) or local_gpu_count() >= 2  # never 1: one GPU needs no box
    dlg = _dialog(qtbot, engine[1], monkeypatch, 0)
    assert not dlg.gpus.isVisible() and not dlg.gpus_label.isVisible()
    dlg2 = _dialog(qtbot, engine[1], monkeypatch, 4)
    assert dlg2.gpus.isVisible() and (dlg2.gpus.minimum(), dlg2.gpus.maximum(), dlg2.gpus.value()) == (1, 4, 4)


def test_several_gpus_run_the_torchrun_command_and_store(qtbot, engine, monkeypatch, tmp_path) -> None:
    dlg = _dialog(qtbot, engine[1], monkeypatch, 2)
    _checked_inpaint(qtbot, dlg, tmp_path)
    seen: list = []
    _fake_launch(monkeypatch, tmp_path, DONE_SCRIPT, seen)
    stored: list[str] = []
    dlg.modelStored.connect(stored.append)
    dlg.start_button.click()
    assert dlg.state == "running" and seen == [("inpaint", 2)] and not dlg.gpus.isEnabled()
    qtbot.waitUntil(lambda: dlg.state != "running", timeout=WAIT_MS)
    assert dlg.state == "done", dlg.status.text()
    assert stored == ["mine@3"] and "mine@3" in dlg.status.text() and dlg.progress.value() == 1000


def test_cancel_sends_sigterm_and_the_run_stops_with_its_checkpoint(qtbot, engine, monkeypatch, tmp_path) -> None:
    dlg = _dialog(qtbot, engine[1], monkeypatch, 2)
    _checked_inpaint(qtbot, dlg, tmp_path)
    _fake_launch(monkeypatch, tmp_path, STOP_SCRIPT, [])
    dlg.start_button.click()
    qtbot.waitUntil(lambda: "step 7 of 70" in dlg.status.text(), timeout=WAIT_MS)
    assert dlg.progress.value() == 100 and dlg.cancel_button.isEnabled()
    dlg.cancel_button.click()
    qtbot.waitUntil(lambda: dlg.state != "running", timeout=WAIT_MS)
    assert dlg.state == "cancelled" and "resume it from 'Stopped runs'" in dlg.status.text()


def test_one_gpu_keeps_the_in_process_job(qtbot, engine, monkeypatch, tmp_path) -> None:
    dlg = _dialog(qtbot, engine[1], monkeypatch, 2)
    _checked_inpaint(qtbot, dlg, tmp_path)
    seen: list = []
    _fake_launch(monkeypatch, tmp_path, DONE_SCRIPT, seen)
    made = []
    from ganpaint.engine.jobs import finetune as ft

    monkeypatch.setattr(ft, "make_finetune_job", lambda *a, **k: made.append(a) or (_ for _ in ()).throw(
        ft.FinetuneError("stop here")))
    monkeypatch.setattr("ganpaint.qt.dialogs.train.QMessageBox.warning", lambda *a, **k: None)
    dlg.gpus.setValue(1)
    dlg.start_button.click()
    assert made and not seen and dlg.state == "idle"


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("SIGTERM stand-in script is POSIX")
