"""SIGTERM and SIGHUP end a real editor process gracefully: the edit made since the last autosave
is written to the recovery folder (offered back at the next start), the process ends with
status 0 within seconds, and it leaves no worker processes behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ganpaint.core.recovery import RecoveryStore

from .conftest import read_until

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX signals")]

# run_gui as `ganpaint` runs it; a timer finds the window once it is up and paints a red stroke.
# The autosave interval is long (10 min, first change 8 s at most): the signal must do the save.
DRIVER = textwrap.dedent(
    """
    import os, sys
    from PySide6.QtCore import QTimer
    from ganpaint.core.brush import BrushSettings
    from ganpaint.qt import mainwindow
    from ganpaint.qt.app import ensure_app, run_gui

    mainwindow.AUTOSAVE_QUIET_MS = 600_000
    # not a first start: no sample photo or Welcome window racing the edit below
    from ganpaint.core.settings import Settings
    settings = Settings.load()
    settings.extra["welcome_shown"] = True
    settings.save()
    app = ensure_app()

    def edit():
        wins = [w for w in app.topLevelWidgets() if isinstance(w, mainwindow.MainWindow) and w.isVisible()]
        if not wins or wins[0].plugins_loading() or wins[0].controller.path is not None:
            QTimer.singleShot(100, edit)
            return
        win = wins[0]
        win._autosave_first_max_ms = 600_000
        doc = win.controller.document
        doc.paint_stroke(0, [(20.0, 30.0), (120.0, 30.0)], BrushSettings(size=12, hardness=1.0, color=(255, 0, 0)))
        print("edited", os.getpid(), flush=True)

    QTimer.singleShot(200, edit)
    sys.exit(run_gui(None, None))
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_autosaves_the_last_edit_and_exits_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "data"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GANPAINT_DATA_DIR=str(data), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(driver)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        read_until(proc, "edited", timeout=60)
        rec = data / "recovery"
        assert not list(rec.glob("*.ora")), "autosaved before the signal: the test would prove nothing"
        sent = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    out = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    assert rc == 0, out
    assert took < 10, f"took {took:.1f} s to end"
    entries = RecoveryStore(rec).pending()
    assert len(entries) == 1, out
    doc = RecoveryStore(rec).restore(entries[0])
    pixels = doc.layers[0].pixels
    assert tuple(pixels[30, 70, :3]) == (255, 0, 0)  # the stroke made after the last autosave
    assert tuple(pixels[200, 200, :3]) != (255, 0, 0)  # and only there
    # nothing of the editor keeps running: its process group (workers included) is empty.
    # (/dev/shm is not compared here: tests running beside this one make blocks of their own;
    # tests/engine/test_worker_pool.py checks the pool leaves none.)
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
