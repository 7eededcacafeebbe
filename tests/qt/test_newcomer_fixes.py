"""Small things a newcomer hit in the first hour (issue 11): a new picture that claims to be
modified, "1 steps", layer names cut off without a tooltip, and the before/after key that
only worked while the canvas had the focus."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ganpaint.core.document import Document
from ganpaint.core.layers import LayerKind, ResultInfo
from ganpaint.qt.panels.history import HistoryPanel, steps_text
from ganpaint.qt.panels.layers import COL_NAME, LayersPanel

# ----------------------------------------------------------------------------- B: new is clean


def test_a_new_document_is_not_modified_until_edited(window):
    window.new_document_silent(320, 200)
    doc = window.controller.document
    assert (doc.width, doc.height) == (320, 200)
    assert len(doc.layers) == 1 and np.all(doc.layers[0].pixels == 255)
    assert not doc.modified and not window.controller.modified
    assert "*" not in window.windowTitle()
    assert not doc.history.can_undo()
    # the first edit makes it modified, and undoing it makes it clean again
    doc.add_layer(name="Sketch")
    assert window.controller.modified and "*" in window.windowTitle()
    doc.history.undo()
    assert not window.controller.modified and "*" not in window.windowTitle()


def test_the_window_starts_with_a_clean_document(window):
    assert not window.controller.modified
    assert window.windowTitle().startswith("Untitled - ")
    assert window.maybe_save()  # nothing to ask about


# ----------------------------------------------------------------------------- D: 1 step


def test_steps_text_is_singular_for_one():
    assert steps_text(0) == "0 steps"
    assert steps_text(1) == "1 step"
    assert steps_text(2) == "2 steps"


def test_history_footer_says_1_step(qtbot):
    doc = Document(16, 16)
    panel = HistoryPanel(doc)
    qtbot.addWidget(panel)
    doc.add_layer(name="One")
    assert panel.memory.text().startswith("1 step,")
    doc.add_layer(name="Two")
    assert panel.memory.text().startswith("2 steps,")


# ----------------------------------------------------------------------------- E: long names


def test_layer_rows_have_the_full_name_and_kind_as_tooltip(qtbot):
    doc = Document(16, 16)
    long_name = "Inpaint result of the left half of the sky above the harbour (copy 3)"
    doc.add_layer(name="Background")
    doc.add_layer(name=long_name, kind=LayerKind.SKETCH)
    panel = LayersPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(220, 300)
    top = panel.tree.topLevelItem(0)
    assert top.text(COL_NAME) == long_name
    tip = top.toolTip(COL_NAME)
    assert long_name in tip and "Sketch layer" in tip
    assert panel.tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    # a rename updates the tooltip
    doc.set_layer_props(1, name="Short")
    assert "Short" in panel.tree.topLevelItem(0).toolTip(COL_NAME)


# ----------------------------------------------------------------------------- F: \ anywhere


def _add_result(doc: Document) -> tuple[np.ndarray, np.ndarray]:
    before = doc.layers[0].pixels.copy()  # the new picture's white background
    inverted = before.copy()
    inverted[:, :, :3] = 255 - inverted[:, :, :3]
    info = ResultInfo(tool_id="invert", plugin="test", before=before)
    doc.add_layer(name="Result", pixels=inverted, kind=LayerKind.RESULT, result=info)
    return before, inverted


def test_compare_key_works_with_the_focus_on_the_layers_panel(window, qtbot):
    doc = window.controller.document
    before, inverted = _add_result(doc)
    cv = window.canvas
    QApplication.processEvents()
    wp = cv.doc_to_widget(QPointF(doc.width / 2, doc.height / 2)).toPoint()

    def colour():
        img = cv.grab().toImage()
        dpr = img.devicePixelRatio()
        c = img.pixelColor(int(wp.x() * dpr), int(wp.y() * dpr))
        return (c.red(), c.green(), c.blue())

    y, x = doc.height // 2, doc.width // 2
    assert colour() == tuple(int(v) for v in inverted[y, x, :3])
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    tree = window.docks["layers"].widget().tree
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus, timeout=3000)
    QTest.keyPress(tree, Qt.Key.Key_Backslash)
    assert cv.comparing
    assert colour() == tuple(int(v) for v in before[y, x, :3])
    assert tree.hasFocus()  # the focus stays where it was
    QTest.keyRelease(tree, Qt.Key.Key_Backslash)
    assert not cv.comparing
    assert colour() == tuple(int(v) for v in inverted[y, x, :3])


def test_compare_key_still_types_into_a_text_field(window, qtbot):
    from PySide6.QtWidgets import QLineEdit

    _add_result(window.controller.document)
    field = QLineEdit(window)
    field.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=3000)
    QTest.keyClick(field, Qt.Key.Key_Backslash, Qt.KeyboardModifier.NoModifier)
    assert field.text() == "\\"
    assert not window.canvas.comparing
