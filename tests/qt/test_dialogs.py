"""Dialogs open, act and close: plugins, models, about, preferences, resize, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from ganpaint.core.specs import ModelSpec, ToolSpec
from ganpaint.plugins.manager import PluginManager
from ganpaint.plugins.markers import hookimpl
from ganpaint.qt.dialogs.about import AboutDialog, UserGuideDialog, user_guide_path
from ganpaint.qt.dialogs.errors import build_error_box, build_plugin_error_box, show_error
from ganpaint.qt.dialogs.models import ModelsDialog
from ganpaint.qt.dialogs.plugins import PluginsDialog
from ganpaint.qt.dialogs.preferences import PreferencesDialog
from ganpaint.qt.dialogs.resize import ResizeDialog


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GANPAINT_DISABLE_PLUGINS", raising=False)
    return tmp_path


class GoodPlugin:
    GANPAINT_API_VERSION = 1
    __version__ = "1.2.3"

    @hookimpl
    def ganpaint_register_tools(self):
        return [ToolSpec(id="smudge", title="Smudge", run="ganpaint_classic.tools:invert")]


class BadPlugin:
    GANPAINT_API_VERSION = 1

    @hookimpl
    def ganpaint_register_tools(self):
        raise RuntimeError("cannot find its weights")


def test_plugins_dialog_lists_and_toggles(qtbot):
    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(GoodPlugin(), name="good")
    pm.register(BadPlugin(), name="bad")
    dlg = PluginsDialog(pm)
    qtbot.addWidget(dlg)
    rows = {dlg.table.item(r, 1).text(): r for r in range(dlg.table.rowCount())}
    assert set(rows) == {"good", "bad"}
    good, bad = rows["good"], rows["bad"]
    assert dlg.table.item(good, 2).text() == "1.2.3" and dlg.table.item(good, 3).text() == "smudge"
    assert dlg.table.item(bad, 4).text() == "Failed" and "weights" in dlg.table.item(bad, 5).text()
    dlg.table.selectRow(bad)
    assert "cannot find its weights" in dlg.details.toPlainText()
    with qtbot.waitSignal(dlg.enabledChanged) as blocker:
        dlg.table.item(good, 0).setCheckState(Qt.CheckState.Unchecked)
    assert blocker.args == ["good", False]
    assert pm.record("good").status == "disabled" and "smudge" not in pm.tools()
    row = [r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 1).text() == "good"][0]
    assert dlg.table.item(row, 4).text() == "Disabled"
    dlg.table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    assert pm.record("good").status == "loaded" and "smudge" in pm.tools()
    dlg.close()


def write_model(path, name, tool="smudge", licence="CC0-1.0"):
    """A real GANPaint model file (safetensors with its card in the metadata), without torch."""
    from safetensors.numpy import save_file

    from ganpaint.engine.models.cards import METADATA_KEY, ModelCard

    card = ModelCard(architecture="toy", config={}, tool=tool, name=name, components=(), licence=licence,
                     source="made in a test")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"weight": np.zeros((2, 2), np.float32)}, str(path), metadata={METADATA_KEY: card.to_json(indent=None)})
    return path


@pytest.fixture
def tiny_model_file(tmp_path):
    return write_model(tmp_path / "shipped" / "toy.safetensors", "toy")


def test_models_dialog_lists_and_removes(qtbot, tmp_path, tiny_model_file):
    from ganpaint.engine.models.store import ModelStore

    root = tmp_path / "store"
    write_model(root / "mine.safetensors", "mine", licence="MIT")
    store = ModelStore(root, defaults=[ModelSpec("shipped", "smudge", str(tiny_model_file))],
                       include_resources=False)
    dlg = ModelsDialog(store, tools=[("smudge", "Smudge")])
    qtbot.addWidget(dlg)
    names = [dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())]
    assert names == ["mine", "shipped"]  # user models first, then read-only defaults
    row = {n: r for r, n in enumerate(names)}
    assert dlg.table.item(row["shipped"], 4).text() == "CC0-1.0"
    assert dlg.table.item(row["mine"], 1).text() == "smudge" and dlg.table.item(row["mine"], 2).text() == "toy"
    assert dlg.table.item(row["mine"], 3).text().endswith("B")
    dlg.table.selectRow(row["shipped"])
    assert not dlg.remove_button.isEnabled() and not dlg.remove_selected(confirm=False)
    dlg.table.selectRow(row["mine"])
    assert dlg.remove_button.isEnabled()
    with qtbot.waitSignal(dlg.storeChanged):
        assert dlg.remove_selected(confirm=False)
    assert [e.name for e in store.list()] == ["shipped"] and dlg.table.rowCount() == 1
    dlg.close()


def test_models_dialog_import_calls_the_store(qtbot, tmp_path, monkeypatch):
    calls: list = []

    class Store:
        def list(self):
            return [{"name": n, "tool": "smudge"} for _p, _b, n, _t in calls]

        def import_files(self, path, path_b=None, name=None, tool=None):
            if path.endswith("bad.pth"):
                raise ValueError(f"{path}: not a generator checkpoint")
            calls.append((path, path_b, name, tool))

    dlg = ModelsDialog(Store(), tools=[("smudge", "Smudge")])
    qtbot.addWidget(dlg)
    with qtbot.waitSignals([dlg.storeChanged, dlg.importFinished], timeout=5000):
        assert dlg.import_files(["/m/horse2zebra_A.pth", "/m/horse2zebra_B.pth"], "h2z", "smudge")
        assert not dlg.import_button.isEnabled()  # busy: one import at a time
    assert calls == [("/m/horse2zebra_A.pth", "/m/horse2zebra_B.pth", "h2z", "smudge")]
    assert dlg.selected_entry()["name"] == "h2z" and dlg.import_button.isEnabled()
    with qtbot.waitSignal(dlg.importFinished, timeout=5000):
        assert dlg.import_files(["/m/one.safetensors"], "one", "")  # "" = the tool of the card
    assert calls[-1] == ("/m/one.safetensors", None, "one", None)
    shown: list[str] = []
    monkeypatch.setattr("ganpaint.qt.dialogs.models.show_error", lambda parent, title, msg: shown.append(msg))
    with qtbot.waitSignal(dlg.importFinished, timeout=5000) as blocker:
        assert dlg.import_files(["/m/bad.pth"], "bad", "smudge")
    assert blocker.args[0] is False
    assert shown and "bad.pth" in shown[0] and len(calls) == 2


@pytest.mark.slow
def test_models_dialog_real_import(qtbot, tmp_path, tiny_model_file):
    pytest.importorskip("torch")
    from ganpaint.engine.models.store import ModelStore

    store = ModelStore(tmp_path / "store", include_resources=False)
    dlg = ModelsDialog(store)
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.importFinished, timeout=60_000) as blocker:
        assert dlg.import_files([str(tiny_model_file)], "imported", "")
    assert blocker.args[0] is True, blocker.args[1]
    assert [e.name for e in store.list()] == ["imported"] and dlg.table.item(0, 4).text() == "CC0-1.0"


def test_models_dialog_without_a_store(qtbot):
    dlg = ModelsDialog(None)
    qtbot.addWidget(dlg)
    assert dlg.table.rowCount() == 0 and "not available" in dlg.status.text()
    assert not dlg.import_button.isEnabled() and not dlg.remove_button.isEnabled()

    class Broken:
        def list(self):
            raise OSError("disk unplugged")

    dlg2 = ModelsDialog(Broken())
    qtbot.addWidget(dlg2)
    assert "disk unplugged" in dlg2.status.text()


def test_about_names_licences_and_model_cards(qtbot, tiny_model_file, tmp_path):
    missing = ModelSpec("ghost", "smudge", str(tmp_path / "ghost.safetensors"))
    dlg = AboutDialog([ModelSpec("toy", "smudge", str(tiny_model_file)), missing])
    qtbot.addWidget(dlg)
    text = dlg.text()
    assert "GPL" in text and "LGPL" in text and "PyTorch" in text and "BSD" in text
    assert "toy" in text and "CC0-1.0" in text
    assert "ghost" in text and "unreadable" in text
    dlg.close()


def test_user_guide_opens(qtbot):
    path = user_guide_path()
    assert path is not None and path.name == "user-guide.md"
    dlg = UserGuideDialog(path)
    qtbot.addWidget(dlg)
    assert "Layers" in dlg.browser.toPlainText()


def test_preferences_edit_a_copy_and_save(qtbot, tmp_path):
    from ganpaint.core.settings import Settings

    original = Settings()
    saved: list = []
    dlg = PreferencesDialog(original, save=saved.append)
    qtbot.addWidget(dlg)
    dlg.set_value("theme", "dark")
    dlg.set_value("device", "cpu")
    dlg.set_value("precision", "fast")
    dlg.widgets["history_limit_mb"].setValue(1024)
    dlg.widgets["max_pixels"].setValue(100.0)  # shown in megapixels
    dlg.widgets["autosave_interval_s"].setValue(2.5)  # shown in minutes
    with qtbot.waitSignal(dlg.settingsChanged) as blocker:
        dlg.accept()
    new = blocker.args[0]
    assert saved == [new]
    assert (new.theme, new.device, new.precision) == ("dark", "cpu", "fast")
    assert new.history_limit_mb == 1024 and new.max_pixels == 100_000_000 and new.autosave_interval_s == 150
    assert original.theme == "light"  # the dialog edits a copy
    # real persistence through Settings.save
    dlg2 = PreferencesDialog(new)
    qtbot.addWidget(dlg2)
    dlg2.restore_defaults()
    dlg2.accept()
    assert Settings.load().theme == "light" and Settings.load().max_pixels == 250_000_000


def test_resize_dialog_keeps_aspect_and_anchor(qtbot):
    dlg = ResizeDialog(400, 200, "image")
    qtbot.addWidget(dlg)
    dlg.w.setValue(800)
    assert dlg.new_size() == (800, 400)
    dlg.unit.setCurrentIndex(1)  # percent
    assert dlg.w.value() == pytest.approx(200.0)
    dlg.w.setValue(50)
    assert dlg.new_size() == (200, 100)
    canvas = ResizeDialog(400, 200, "canvas")
    qtbot.addWidget(canvas)
    assert canvas.anchor() == "center"
    canvas.set_anchor("bottom-right")
    canvas.w.setValue(500)
    assert canvas.anchor() == "bottom-right" and canvas.new_size() == (500, 200)


def test_resize_dialog_drives_the_document(qtbot, monkeypatch):
    from ganpaint.core.document import Document
    from ganpaint.qt.dialogs import resize

    doc = Document(40, 20)
    doc.add_layer(name="Paint", pixels=np.full((20, 40, 4), 255, np.uint8))

    class Win(QDialog):
        class controller:  # noqa: N801 - the attribute shape a main window has
            document = doc

    def answer(self):
        self.set_size(60, 30)
        if self.mode == "canvas":
            self.set_anchor("top-left")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ResizeDialog, "exec", answer)
    win = Win()
    qtbot.addWidget(win)
    assert resize.resize_canvas_dialog(win)
    assert (doc.width, doc.height) == (60, 30)
    assert doc.composite()[0, 0, 3] == 255 and doc.composite()[29, 59, 3] == 0
    assert resize.resize_image_dialog(win) is False  # same size: nothing to do
    doc.undo()
    assert (doc.width, doc.height) == (40, 20)


def test_error_boxes(qtbot):
    box = build_error_box(None, "Open", "Cannot read x.png: truncated", "Traceback ...")
    qtbot.addWidget(box)
    assert box.text().startswith("Cannot read") and box.detailedText() == "Traceback ..."
    pbox = build_plugin_error_box(None, "ganpaint-pix2pix", "CUDA out of memory")
    qtbot.addWidget(pbox)
    assert "ganpaint-pix2pix" in pbox.text() and "ganpaint-pix2pix" in pbox.windowTitle()
    # the modal helper really shows a box and returns when it is dismissed
    seen: list[str] = []

    def dismiss():
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox):
            seen.append(w.text())
            w.accept()

    QTimer.singleShot(50, dismiss)
    show_error(None, "Save", "The disk is full; the previous file is intact.")
    assert seen == ["The disk is full; the previous file is intact."]
