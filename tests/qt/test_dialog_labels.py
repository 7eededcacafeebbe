"""A label with a mnemonic ('&Background:') needs a buddy, or Qt shows the '&' itself."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

pytestmark = pytest.mark.gui


def test_every_mnemonic_label_of_the_new_image_dialog_has_a_buddy(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from ganpaint.qt.dialogs.new_image import NewImageDialog

    dlg = NewImageDialog(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dlg)
    labels = [lab for lab in dlg.findChildren(QLabel) if "&" in lab.text()]
    assert {lab.text() for lab in labels} >= {"&Width:", "&Height:", "&Background:"}
    assert all(lab.buddy() is not None for lab in labels), [lab.text() for lab in labels if lab.buddy() is None]
