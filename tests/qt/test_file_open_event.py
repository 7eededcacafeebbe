"""macOS open-file handling (issue 13): a QFileOpenEvent posted to the app opens the document.

Runs in a child process: the test session's QApplication already exists (pytest-qt's), and the
editor's own application class is only made by ``ensure_app`` in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image

CHILD = textwrap.dedent(r"""
    import json, sys, time
    from PySide6.QtCore import QCoreApplication, QUrl
    from PySide6.QtGui import QFileOpenEvent
    from ganpaint.qt.app import create_window, ensure_app
    from ganpaint.qt.file_open import attach_file_open

    first, second = sys.argv[1], sys.argv[2]
    app = ensure_app()
    out = {"app_class": type(app).__name__}
    # before the window exists: queued, nothing opened
    QCoreApplication.postEvent(app, QFileOpenEvent(first))
    app.processEvents()
    out["pending"] = list(app._pending_files)

    app, window = create_window(None, None, load_plugins=False)
    out["sent"] = attach_file_open(app, window)

    def size():
        return [window.controller.document.width, window.controller.document.height]

    def wait_for(wanted):
        # a picture opens as a new untitled document (its path stays None): watch the size
        end = time.monotonic() + 20
        while time.monotonic() < end:
            app.processEvents()
            if size() == wanted:
                return True
            time.sleep(0.02)
        return False

    out["first_open"] = wait_for([40, 24])
    # with the window there: a second document (a URL this time, as the Dock sends) opens at once
    QCoreApplication.postEvent(app, QFileOpenEvent(QUrl.fromLocalFile(second)))
    out["second_open"] = wait_for([20, 30])
    window.controller.document.history.mark_clean()
    window.close()
    print("RESULT " + json.dumps(out))
""")


def test_file_open_event_opens_the_document(tmp_path):
    first = tmp_path / "first.png"
    second = tmp_path / "second.png"
    Image.fromarray(np.full((24, 40, 3), 200, np.uint8)).save(first)
    Image.fromarray(np.full((30, 20, 3), 50, np.uint8)).save(second)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GANPAINT_DATA_DIR=str(tmp_path / "data"))
    p = subprocess.run([sys.executable, "-c", CHILD, str(first), str(second)], capture_output=True,
                       text=True, timeout=120, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert p.returncode == 0 and lines, p.stdout + p.stderr
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["app_class"] == "GANPaintApplication"
    assert out["pending"] == [str(first)]
    assert out["sent"] == [str(first)]
    assert out["first_open"], "the queued document did not open"
    assert out["second_open"], "the document sent to the running window did not open"
