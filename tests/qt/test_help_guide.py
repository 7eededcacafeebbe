"""Help > User Guide (F1) opens the bundled guide in a window of GANPaint's own, offline,
whichever of the application's windows has the keyboard focus."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QVBoxLayout

from ganpaint.qt.dialogs.about import UserGuideDialog


def _guide_windows() -> list[UserGuideDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, UserGuideDialog) and w.isVisible()]


def test_user_guide_action_has_f1_for_the_whole_application(window):
    act = window.action_map["user_guide"]
    assert QKeySequence("F1") in act.shortcuts()
    assert act.shortcutContext() == Qt.ShortcutContext.ApplicationShortcut


def test_triggering_user_guide_shows_the_guide_text(window, qtbot):
    assert not _guide_windows()
    window.action_map["user_guide"].trigger()
    qtbot.waitUntil(lambda: bool(_guide_windows()), timeout=3000)
    (dlg,) = _guide_windows()
    text = dlg.browser.toPlainText()
    assert "GANPaint user guide" in text
    assert "Shortcuts" in text and "Layers" in text
    assert dlg.browser.document().toMarkdown().count("#") > 3  # rendered from the markdown, not shown raw
    assert "## Layers" not in text
    # a second F1 brings the same window forward instead of stacking copies
    window.action_map["user_guide"].trigger()
    assert _guide_windows() == [dlg]


def test_f1_from_the_layers_panel_opens_the_guide(window, qtbot):
    tree = window.docks["layers"].widget().tree
    tree.setFocus()
    QTest.keyClick(tree, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: bool(_guide_windows()), timeout=3000)
    assert "GANPaint user guide" in _guide_windows()[0].browser.toPlainText()


def test_f1_from_another_window_of_the_application_opens_the_guide(window, qtbot):
    # a non-modal dialog of the editor is a window of its own: F1 there must work too
    other = QDialog(window)
    field = QLineEdit(other)
    QVBoxLayout(other).addWidget(field)
    other.show()
    qtbot.waitExposed(other)
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=3000)
    field.setFocus()
    QTest.keyClick(field, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: bool(_guide_windows()), timeout=3000)
    assert "GANPaint user guide" in _guide_windows()[0].browser.toPlainText()
    other.close()
