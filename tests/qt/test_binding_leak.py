"""The Qt binding must not leak references to None (issue 11: the editor aborted after minutes).

PySide6/shiboken6 6.12.0 drop one reference to None on every Qt call that returns nothing; on
Python 3.11 the count reaches zero after ~20,000 calls and the interpreter aborts. These tests
make 200,000 such calls in one process and fail (before the abort) on a leaking binding.
"""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui

CALLS = 200_000
CHUNK = 1_000


def _void_calls(qapp):
    from PySide6.QtCore import QObject, QPoint, QPointF, QRect
    from PySide6.QtGui import QColor, QImage, QPainter, QPen
    from PySide6.QtWidgets import QLabel, QWidget

    obj, point, rect, widget, label = QObject(), QPoint(), QRect(), QWidget(), QLabel()
    image = QImage(32, 32, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    pen = QPen(QColor(10, 20, 30))
    calls = [
        lambda: obj.setObjectName("x"),
        lambda: point.setX(3),
        lambda: rect.setWidth(5),
        lambda: widget.update(),
        lambda: widget.setToolTip("tip"),
        lambda: label.setText("text"),
        lambda: painter.setPen(pen),
        lambda: painter.drawLine(QPointF(1, 1), QPointF(9, 9)),
    ]
    return calls, painter, (obj, widget, label, image)


def test_200000_void_qt_calls_leak_no_reference_to_none(qapp):
    import PySide6

    from ganpaint.qt.binding_check import none_is_mortal

    if not none_is_mortal():
        pytest.skip("None is immortal on this Python: a leaked reference cannot crash it")
    calls, painter, _keep = _void_calls(qapp)
    made = 0
    try:
        while made < CALLS:
            fn = calls[(made // CHUNK) % len(calls)]
            before = sys.getrefcount(None)
            for _ in range(CHUNK):
                fn()
            lost = before - sys.getrefcount(None)
            made += CHUNK
            # a sound binding loses nothing; a leaking one loses one per call (stop long before zero)
            assert lost < CHUNK // 10, (
                f"PySide6 {PySide6.__version__} lost {lost} references to None in {CHUNK} void calls "
                f"(after {made} calls): on Python {sys.version_info[0]}.{sys.version_info[1]} this aborts "
                "the editor; see the PySide6 bound in pyproject.toml")
    finally:
        painter.end()
    assert made == CALLS


def test_probe_reports_no_leak_for_the_installed_binding(qapp):
    from ganpaint.qt.binding_check import guard_against_leaking_binding, none_leak_per_call

    assert none_leak_per_call(3000) < 0.5
    assert guard_against_leaking_binding() is False  # nothing to guard against


def test_probe_counts_a_leak_and_the_guard_gives_none_a_cushion(qapp, monkeypatch):
    """The probe and the guard themselves, against a simulated leaking call."""
    import ctypes

    from ganpaint.qt import binding_check

    if not binding_check.none_is_mortal():
        pytest.skip("None is immortal on this Python")
    count = ctypes.c_ssize_t.from_address(id(None))

    def leaking_call() -> None:
        count.value -= 1  # what shiboken6 6.12.0 does on each void call

    monkeypatch.setattr(binding_check, "void_calls", lambda: [leaking_call])
    before = sys.getrefcount(None)
    assert binding_check.none_leak_per_call(300) == pytest.approx(1.0)
    assert abs(sys.getrefcount(None) - before) < 50  # the probe gives back what it lost (300)
    assert binding_check.guard_against_leaking_binding() is True
    try:
        assert sys.getrefcount(None) > before + binding_check.CUSHION // 2
        assert sys.getrefcount(True) > binding_check.CUSHION // 2
    finally:
        for singleton in (None, True, False):
            ctypes.c_ssize_t.from_address(id(singleton)).value -= binding_check.CUSHION
