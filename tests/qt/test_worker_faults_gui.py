"""Injected faults through the real editor (issue 12, point 1): the window's queue runs tools in
worker processes; a segfault, an allocation beyond the limit, and a hung tool (cancelled) leave the
document as it was, the user sees one sentence naming the plugin, and the editor keeps working
(the next run of the same plugin, and another plugin's tool, apply)."""

from __future__ import annotations

import os
import textwrap
import time

import numpy as np
import pytest

from ganpaint.core.specs import ToolSpec

pytestmark = pytest.mark.gui

FAULTS = textwrap.dedent('''
    import ctypes, os, time
    import numpy as np
    from ganpaint import ToolResult, ToolSpec, hookimpl

    GANPAINT_API_VERSION = 1
    M = __name__

    @hookimpl
    def ganpaint_register_tools():
        return [ToolSpec(id=n, title=n.title(), run=f"{M}:{n}") for n in ("segv", "hog", "hang", "ok")]

    def segv(request, ctx):
        ctypes.string_at(0)

    def hog(request, ctx):
        block = np.ones(1 << 30, np.uint8)
        time.sleep(30)
        return ToolResult(request.image + block[:1])

    def hang(request, ctx):
        while True:
            time.sleep(0.05)

    def ok(request, ctx):
        return ToolResult(1.0 - request.image, metadata={"pid": os.getpid()})
''')


@pytest.fixture
def editor(qtbot, classic_pm, answers, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import importlib

    from ganpaint.engine.jobs import JobQueue
    from ganpaint.engine.jobs.workers import WorkerPool
    from ganpaint.qt.mainwindow import MainWindow

    (tmp_path / "gp_gui_faults.py").write_text(FAULTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    classic_pm.register(importlib.import_module("gp_gui_faults"), "faults")
    queue = JobQueue(pool=WorkerPool(memory_mb=512))
    win = MainWindow(plugin_manager=classic_pm, queue=queue, recovery=None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.new_document_silent(40, 30)
    doc = win.controller.document
    doc.layers[0].pixels[...] = np.random.default_rng(0).integers(0, 256, doc.layers[0].pixels.shape, np.uint8)
    yield win
    win.controller.document.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=10)


def snapshot(win):  # type: ignore[no-untyped-def]
    doc = win.controller.document
    return len(doc.layers), doc.history.index, [layer.pixels.copy() for layer in doc.layers]


def same(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a[:2] == b[:2] and all(np.array_equal(x, y) for x, y in zip(a[2], b[2], strict=True))


def tool(win, tool_id: str) -> ToolSpec:  # type: ignore[no-untyped-def]
    return win.plugin_manager.tool(tool_id)


def run_ok(win, qtbot, tool_id: str = "ok") -> float:  # type: ignore[no-untyped-def]
    applied: list[str] = []
    win.runner.applied.connect(lambda job_id, cmd: applied.append(job_id))
    n = len(win.controller.document.layers)
    t0 = time.monotonic()
    win.run_tool(tool(win, tool_id), {})
    qtbot.waitUntil(lambda: bool(applied), timeout=60_000)
    assert len(win.controller.document.layers) == n + 1
    return time.monotonic() - t0


@pytest.mark.parametrize(("tool_id", "words"), [("segv", "crashed (signal SIGSEGV)"),
                                                ("hog", "used more than 512 MB of memory")])
def test_a_crashing_or_hungry_tool_leaves_the_editor_and_document(editor, qtbot, answers,
                                                                    tool_id, words) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(editor)
    failed: list[tuple] = []
    editor.runner.toolFailed.connect(lambda *a: failed.append(a))
    t0 = time.monotonic()
    editor.run_tool(tool(editor, tool_id), {})
    qtbot.waitUntil(lambda: bool(failed), timeout=60_000)
    seen = time.monotonic() - t0
    assert same(before, snapshot(editor))
    _spec, message, _trace = failed[0]
    assert message.startswith(f"plugin 'faults', tool '{tool_id}' {words}") and "\n" not in message
    kind, _title, text = answers.calls[-1]
    assert kind == "open" and message in text and "'faults'" in text
    assert message in editor.statusBar().currentMessage()
    recover = run_ok(editor, qtbot)  # the same plugin again: a fresh worker
    run_ok(editor, qtbot, "invert")  # and the built-in plugin
    print(f"{tool_id}: the user saw '{message}' after {seen:.2f} s; the next run applied in {recover:.2f} s")


def test_a_hung_tool_is_cancelled_within_a_second_and_others_run(editor, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(editor)
    cancelled: list[str] = []
    editor.runner.cancelled.connect(cancelled.append)
    job_id = editor.run_tool(tool(editor, "hang"), {})
    qtbot.waitUntil(lambda: editor.queue.get(job_id) is not None and editor.queue.get(job_id).state.value == "running",
                    timeout=60_000)
    run_ok(editor, qtbot, "invert")  # another plugin is not held up by the hung one
    after_invert = snapshot(editor)
    t0 = time.monotonic()
    editor.bridge.cancel(job_id)
    qtbot.waitUntil(lambda: editor.queue.get(job_id) is None or editor.queue.get(job_id).state.finished,
                    timeout=10_000)
    took = time.monotonic() - t0
    assert took < 3.0, f"cancel took {took:.2f} s"
    qtbot.wait(100)
    assert same(after_invert, snapshot(editor)) and after_invert[0] == before[0] + 1
    recover = run_ok(editor, qtbot)
    print(f"hang: cancelled in {took:.2f} s; the next run applied in {recover:.2f} s")


def test_closing_the_editor_ends_its_workers(qtbot, classic_pm, answers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import psutil

    from ganpaint.engine.jobs.shm import PREFIX
    from ganpaint.qt.app import create_window

    app, win = create_window(None, plugin_manager=classic_pm, recovery=None)  # the app's own queue and pool
    qtbot.addWidget(win)
    pool = win.queue.pool
    assert pool is not None
    win.new_document_silent(20, 10)
    run_ok(win, qtbot, "invert")
    pids = list(pool.pids().values())
    assert pids and all(psutil.pid_exists(p) for p in pids) and os.getpid() not in pids
    win.controller.document.history.mark_clean()
    t0 = time.monotonic()
    win.close()
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
        assert time.monotonic() < deadline, "a worker outlived the editor's window"
        time.sleep(0.05)
    assert pool.pids() == {}
    assert not [n for n in os.listdir("/dev/shm") if n.startswith(f"{PREFIX}{os.getpid():x}_")]
    print(f"closing the window ended its {len(pids)} worker(s) in {time.monotonic() - t0:.2f} s")
