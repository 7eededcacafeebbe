"""Qt tests run offscreen (no display needed), with user data in a temporary folder.

Fixtures for driving the real main window: ``classic_pm`` (a plugin host with only the
built-in classic plugin, no discovery of whatever is installed on the machine),
``window`` (a shown MainWindow with its own job queue), ``answers`` (scripted replies
for QMessageBox so no test can hang on a modal dialog), and mouse helpers.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory, monkeypatch):
    # settings, recent files, window layout and recovery files never touch the real home
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path_factory.mktemp("ganpaint-data")))


class Answers:
    """Replaces QMessageBox's static dialogs: records each call and returns a scripted answer."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.question_answer = None  # default: Discard (never Save, never block)

    def install(self, monkeypatch) -> None:
        from PySide6.QtWidgets import QMessageBox

        B = QMessageBox.StandardButton

        def question(parent, title, text, *args, **kw):
            self.calls.append(("question", title, text))
            return self.question_answer if self.question_answer is not None else B.Discard

        def make(kind):
            def show(parent, title, text, *args, **kw):
                self.calls.append((kind, title, text))
                return B.Ok

            return show

        monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
        for kind in ("warning", "information", "critical"):
            monkeypatch.setattr(QMessageBox, kind, staticmethod(make(kind)))
        monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a, **k: self.calls.append(("about", "", ""))))
        monkeypatch.setattr(QMessageBox, "open", lambda box, *a: self.calls.append(("open", box.windowTitle(),
                                                                                     box.text())))

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def answers(monkeypatch) -> Answers:
    a = Answers()
    a.install(monkeypatch)
    return a


@pytest.fixture
def classic_pm():
    import ganpaint_classic

    from ganpaint.plugins.manager import PluginManager

    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_classic, "classic")
    return pm


@pytest.fixture
def window(qtbot, classic_pm, answers):
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.mainwindow import MainWindow

    queue = JobQueue()
    win = MainWindow(plugin_manager=classic_pm, queue=queue, recovery=None)
    qtbot.addWidget(win)
    win.resize(1100, 750)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.document.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=10)


def send_mouse(widget, kind: str, pos, buttons=None, button=None, modifiers=None) -> None:
    """Send a real QMouseEvent (QTest's mouseMove cannot carry held buttons)."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    types = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease}
    p = QPointF(pos)
    g = QPointF(widget.mapToGlobal(p.toPoint()))
    button = Qt.MouseButton.LeftButton if button is None else button
    if buttons is None:
        buttons = button if kind in ("press", "move") else Qt.MouseButton.NoButton
    if kind == "move":
        button = Qt.MouseButton.NoButton
    ev = QMouseEvent(types[kind], p, g, button, buttons,
                     Qt.KeyboardModifier.NoModifier if modifiers is None else modifiers)
    QApplication.sendEvent(widget, ev)


def drag(widget, points, button=None, modifiers=None) -> None:
    """Press at the first point, move through the others, release at the last."""
    send_mouse(widget, "press", points[0], button=button, modifiers=modifiers)
    for p in points[1:]:
        send_mouse(widget, "move", p, button=button, modifiers=modifiers)
    send_mouse(widget, "release", points[-1], button=button, modifiers=modifiers)


def noise_document(w: int = 64, h: int = 48, seed: int = 1):  # noqa: ANN201
    """A w x h document with one opaque layer of seeded noise and an empty history."""
    import numpy as np

    from ganpaint.core.document import Document

    doc = Document(w, h)
    px = np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)
    px[:, :, 3] = 255
    doc.add_layer(name="Background", pixels=px)
    doc.history.clear()
    return doc


def shown_canvas(qtbot, doc):  # noqa: ANN001, ANN201
    """A 400x300 Canvas on ``doc`` (its own DocumentController), shown and exposed."""
    from ganpaint.qt.canvas import Canvas
    from ganpaint.qt.document_controller import DocumentController

    cv = Canvas(DocumentController(doc))
    qtbot.addWidget(cv)
    cv.resize(400, 300)
    cv.show()
    qtbot.waitExposed(cv)
    return cv


@pytest.fixture
def engine():
    """A job queue and its Qt bridge (the Train dialog's tests), shut down after the test."""
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.bridge import JobBridge

    queue = JobQueue()
    bridge = JobBridge(queue)
    yield queue, bridge
    queue.shutdown(wait=True, timeout=30)
    bridge.close()


def read_until(proc, expected: str, timeout: float) -> str:
    """Read a child process's stdout (a pipe) until ``expected`` appears; returns what was read.
    Fails if the process exits first or ``timeout`` seconds pass."""
    import os
    import time

    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    buf = ""
    while time.monotonic() < deadline:
        try:
            chunk = os.read(proc.stdout.fileno(), 65536)
        except BlockingIOError:
            chunk = b""
        buf += chunk.decode("utf-8", "replace")
        if expected in buf:
            return buf
        if proc.poll() is not None:
            raise AssertionError(f"the editor exited early ({proc.returncode}): {buf}")
        time.sleep(0.05)
    raise AssertionError(f"no {expected!r} from the editor within {timeout} s: {buf}")


def held_results(window, qtbot, n: int) -> list:
    """Run Invert ``n`` times; return the finished messages, not yet handed to the runner."""
    doc = window.controller.document
    spec = next(s for s in window.tool_specs() if s.id == "invert")
    runner, bridge = window.runner, window.bridge
    held: list = []
    bridge.jobFinished.disconnect(runner._on_finished)
    bridge.jobFinished.connect(held.append)
    doc.active_index = 0
    for _ in range(n):
        assert window.run_tool(spec, {})
    qtbot.waitUntil(lambda: len(held) == n, timeout=60000)
    bridge.jobFinished.disconnect(held.append)
    bridge.jobFinished.connect(runner._on_finished)
    return held
