"""One parameter back to its default from the field's right-click menu (a face slider, say)."""

from __future__ import annotations

import pytest

from ganpaint.core.specs import ParamSpec
from ganpaint.qt.param_fields import make_field


def test_reset_one_field_from_its_menu(qtbot) -> None:  # type: ignore[no-untyped-def]
    spec = ParamSpec("smile", "float", default=0.0, minimum=-3.0, maximum=3.0, step=0.1, live=True)
    field = make_field(spec, "faces")
    qtbot.addWidget(field)
    field.set(2.5)
    assert field.get() == pytest.approx(2.5)
    menu = field.context_menu()
    (action,) = menu.actions()
    assert action.text() == "Reset to default (0)"
    with qtbot.waitSignal(field.changed, timeout=1000):
        action.trigger()
    assert field.get() == pytest.approx(0.0)


def test_reset_keeps_other_fields(qtbot) -> None:  # type: ignore[no-untyped-def]
    a = make_field(ParamSpec("a", "int", default=3, minimum=0, maximum=10), "t")
    b = make_field(ParamSpec("b", "int", default=5, minimum=0, maximum=10), "t")
    for f in (a, b):
        qtbot.addWidget(f)
        f.set(9)
    a.reset_to_default()
    assert (a.get(), b.get()) == (3, 9)
