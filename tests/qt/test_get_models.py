"""Edit > Models... > Get models...: the catalogue by tool, the licence dialog, and a download
run through the job queue (offscreen, against a loopback server; never the internet)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

WAIT_MS = 30_000


def _helpers() -> Any:
    path = Path(__file__).resolve().parents[1] / "engine" / "test_downloads.py"
    spec = importlib.util.spec_from_file_location("_gp_download_helpers_qt", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


H = _helpers()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    s = H.LoopbackServer()
    yield s
    s.close()


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from ganpaint.engine.models.store import ModelStore

    return ModelStore(tmp_path / "models", include_resources=False)


def _test_catalogue(server: Any) -> Any:
    from ganpaint.engine.models.catalogue import parse_catalogue

    a, b = H.generator_bytes(1), H.generator_bytes(2)
    server.files.update({"/a.pth": a, "/b.pth": b})
    data = H.catalogue_dict(server, {"a.pth": a, "b.pth": b})
    nc = dict(data["models"][0], id="nc-model", title="NC model", non_commercial=True, licence="CC-BY-NC-4.0",
              licence_name="Creative Commons BY-NC 4.0", tools=["translate"])
    nc["files"] = [dict(data["models"][0]["files"][0])]
    data["models"].append(nc)
    return parse_catalogue(data, "test")


def _dialog(qtbot: Any, store: Any, bridge: Any, catalogue: Any = None) -> Any:
    from ganpaint.qt.dialogs.get_models import GetModelsDialog

    dlg = GetModelsDialog(store, bridge, catalogue)
    qtbot.addWidget(dlg)
    return dlg


def test_the_builtin_catalogue_is_listed_by_tool_with_size_licence_installed(qtbot, store, engine):
    from ganpaint.qt.dialogs.get_models import TOOL_TITLES

    _, bridge = engine
    dlg = _dialog(qtbot, store, bridge)
    groups = [dlg.tree.topLevelItem(i).text(0) for i in range(dlg.tree.topLevelItemCount())]
    assert groups[:2] == [TOOL_TITLES["season"], TOOL_TITLES["translate"]]
    assert TOOL_TITLES["upscale"] in groups and TOOL_TITLES["restore_faces"] in groups
    assert "cyclegan-summer2winter-yosemite" in dlg.listed_ids("season")
    assert "cyclegan-summer2winter-yosemite" in dlg.listed_ids("translate")  # an entry under each of its tools
    assert "stylegan3-r-ffhqu-256" in dlg.listed_ids("faces")
    assert dlg.select_id("realesrgan-x4plus-pytorch")
    row = dlg.tree.currentItem()
    assert [row.text(c) for c in range(4)] == ["Real-ESRGAN x4plus (authors' PyTorch weights)", "63.9 MB",
                                               "BSD-3-Clause", ""]
    assert dlg.select_id("stylegan2-ada-ffhq")
    assert "(non-commercial)" in dlg.tree.currentItem().text(2)
    assert "Non-commercial use only" in dlg.details.text()
    assert dlg.download_button.isEnabled() and not dlg.cancel_button.isEnabled()


def test_a_download_runs_through_the_job_queue_and_shows_installed(qtbot, store, engine, server):
    queue, bridge = engine
    dlg = _dialog(qtbot, store, bridge, _test_catalogue(server))
    changed: list[bool] = []
    dlg.storeChanged.connect(lambda: changed.append(True))
    seen: list[str] = []
    # the engine's own event (the worker thread): the Qt bridge drops progress still queued when
    # a job ends, so on a busy machine a quick download may show none of it in the dialog
    queue.events.job_progress.connect(lambda msg: seen.append(msg.message))
    assert dlg.select_id("test-pair")
    with qtbot.waitSignal(dlg.downloadFinished, timeout=WAIT_MS) as sig:
        assert dlg.download_selected()
        assert not dlg.download_button.isEnabled() and dlg.cancel_button.isEnabled()
    assert sig.args[0] is True, sig.args
    assert changed == [True]
    assert [e.name for e in store.list(tool="season")] == ["test-pair"]
    assert any(m.startswith("Downloading a.pth") for m in seen)
    assert dlg.select_id("test-pair") and dlg.tree.currentItem().text(3) == "yes"
    assert dlg.download_button.isEnabled() and not dlg.progress.isVisible()


def test_non_commercial_asks_for_the_licence_first(qtbot, store, engine, server, answers):
    from PySide6.QtWidgets import QMessageBox

    _, bridge = engine
    dlg = _dialog(qtbot, store, bridge, _test_catalogue(server))
    answers.question_answer = QMessageBox.StandardButton.No
    assert not dlg.download("nc-model")
    assert answers.calls[-1][1] == "Licence" and "Creative Commons BY-NC 4.0" in answers.calls[-1][2]
    assert "not accepted" in dlg.status.text() and server.requests == [] and dlg.job is None
    answers.question_answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(dlg.downloadFinished, timeout=WAIT_MS) as sig:
        assert dlg.download("nc-model")
    assert sig.args[0] is True, sig.args
    assert store.get("nc-model").card.extra["non_commercial"] is True
    assert dlg.imported == ["nc-model"]


def test_cancel_stops_the_job_and_imports_nothing(qtbot, store, engine, server):
    _, bridge = engine
    server.delay = 0.5
    dlg = _dialog(qtbot, store, bridge, _test_catalogue(server))
    with qtbot.waitSignal(dlg.downloadFinished, timeout=WAIT_MS) as sig:
        assert dlg.download("test-pair")
        dlg.cancel_download()
    assert sig.args[0] is False and "cancelled" in sig.args[1]
    assert store.list() == []


def test_a_failed_download_is_one_sentence(qtbot, store, engine, server):
    _, bridge = engine
    cat = _test_catalogue(server)
    del server.files["/b.pth"]
    dlg = _dialog(qtbot, store, bridge, cat)
    with qtbot.waitSignal(dlg.downloadFinished, timeout=WAIT_MS) as sig:
        assert dlg.download("test-pair")
    assert sig.args[0] is False and "404" in sig.args[1] and "\n" not in sig.args[1]
    assert "Traceback" not in dlg.status.text() and store.list() == []


def test_the_models_dialog_has_a_get_models_button(qtbot, store, monkeypatch):
    import ganpaint.qt.dialogs.get_models as get_models
    from ganpaint.qt.dialogs.models import ModelsDialog

    calls: list[Any] = []

    class Done:
        imported = ["x"]

    def fake(win: Any, store: Any = None) -> Any:
        calls.append(store)
        return Done()

    monkeypatch.setattr(get_models, "show_get_models", fake)
    dlg = ModelsDialog(store)
    qtbot.addWidget(dlg)
    changed: list[bool] = []
    dlg.storeChanged.connect(lambda: changed.append(True))
    dlg.get_button.click()
    assert calls == [store] and changed == [True]
