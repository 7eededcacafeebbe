"""Autosave protects the first minute: a real editor process killed with SIGKILL right after
its first edit leaves an autosave that the next start offers back, edit included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from .conftest import read_until

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="SIGKILL")]

# The editor as `ganpaint` builds it (qt.app.create_window: settings, recovery store in
# GANPAINT_DATA_DIR, default autosave interval), minus plugin discovery to start faster.
DRIVER = textwrap.dedent(
    """
    import sys
    from ganpaint.core.brush import BrushSettings
    from ganpaint.qt.app import create_window

    app, win = create_window(None, None, load_plugins=False)
    win.show()
    app.processEvents()
    doc = win.controller.document
    doc.paint_stroke(0, [(20.0, 30.0), (120.0, 30.0)], BrushSettings(size=12, hardness=1.0, color=(255, 0, 0)))
    print("edited", flush=True)
    sys.exit(app.exec())
    """
)


def test_sigkill_after_the_first_edit_leaves_a_recoverable_autosave(tmp_path, qtbot, classic_pm, answers):
    data = tmp_path / "data"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GANPAINT_DATA_DIR=str(data), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(driver)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        read_until(proc, "edited", timeout=40)
        edited = time.monotonic()
        rec = data / "recovery"
        # the first change is autosaved within a few seconds (not after the 60 s interval)
        while time.monotonic() - edited < 15 and not list(rec.glob("*.json")):
            time.sleep(0.1)
        waited = time.monotonic() - edited
        assert list(rec.glob("*.json")), "no autosave 15 s after the first edit"
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean exit: nothing gets to tidy up
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert waited < 12

    from ganpaint.core.recovery import RecoveryStore

    store = RecoveryStore(rec)
    entries = store.pending()
    assert len(entries) == 1 and entries[0].pid == proc.pid
    doc = store.restore(entries[0])
    px = doc.composite()
    assert tuple(px[30, 70, :3]) == (255, 0, 0)  # on the stroke
    assert tuple(px[60, 70, :3]) == (255, 255, 255)  # the white canvas around it

    # the next start offers it (qt.app.offer_recovery, as run_gui does after showing the window)
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.app import offer_recovery
    from ganpaint.qt.mainwindow import MainWindow

    queue = JobQueue()
    win = MainWindow(plugin_manager=classic_pm, queue=queue, recovery=RecoveryStore(rec))
    qtbot.addWidget(win)
    try:
        answers.question_answer = QMessageBox.StandardButton.Open
        assert offer_recovery(win)
        assert answers.calls[-1][0] == "question" and "Untitled" in answers.calls[-1][2]
        got = win.controller.document.composite()
        assert np.array_equal(got, px) and win.controller.modified
        assert not entries[0].meta_path.exists()  # taken over by this session's slot
    finally:
        win.controller.document.history.mark_clean()
        win.close()
        queue.shutdown()
    assert not [p for p in Path(rec).iterdir() if p.suffix in (".ora", ".json")]
