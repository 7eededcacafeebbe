"""Autosave timing: the first change is saved within seconds (debounced, with a maximum wait
so continuous painting is saved too), later ones at least once per interval while the
document changes; big documents are written by a worker thread; nothing is left behind
by a write still running when the window closes or the document is saved."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ganpaint.core.recovery import RecoveryStore


class CountingStore(RecoveryStore):
    def __init__(self, folder) -> None:
        super().__init__(folder)
        self.times: list[float] = []

    def save(self, doc, doc_key, *, title=None):
        entry = super().save(doc, doc_key, title=title)
        self.times.append(time.monotonic())
        return entry


@pytest.fixture
def make_window(qtbot, classic_pm, answers):
    made = []

    def make(store):
        from ganpaint.engine.jobs import JobQueue
        from ganpaint.qt.mainwindow import MainWindow

        queue = JobQueue()
        win = MainWindow(plugin_manager=classic_pm, queue=queue, recovery=store)
        qtbot.addWidget(win)
        made.append((win, queue))
        return win

    yield make
    for win, queue in made:
        win.controller.document.history.mark_clean()
        win.close()
        queue.shutdown()


def _change(win, k: int) -> None:
    doc = win.controller.document
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[k % doc.height, :] = 255
    doc.set_selection(mask, "Select a row")


def test_first_change_is_autosaved_within_a_few_seconds_with_the_shipped_timing(qtbot, make_window, tmp_path):
    from ganpaint.qt.mainwindow import AUTOSAVE_FIRST_MAX_MS, AUTOSAVE_MS, AUTOSAVE_QUIET_MS

    assert AUTOSAVE_QUIET_MS <= 3000 and AUTOSAVE_FIRST_MAX_MS <= 10_000 and AUTOSAVE_MS <= 60_000
    store = CountingStore(tmp_path / "rec")
    win = make_window(store)
    assert win._autosave_interval_ms == 60_000  # the default setting
    start = time.monotonic()
    _change(win, 1)
    qtbot.waitUntil(lambda: bool(store.times), timeout=AUTOSAVE_QUIET_MS + 3000)
    assert store.times[0] - start >= AUTOSAVE_QUIET_MS / 1000 * 0.9  # debounced: waited for a pause
    assert len(list((tmp_path / "rec").glob("*.ora"))) == 1


def test_continuous_changes_are_saved_after_the_maximum_wait_then_once_per_interval(qtbot, make_window, tmp_path):
    store = CountingStore(tmp_path / "rec")
    win = make_window(store)
    win._autosave_quiet_ms, win._autosave_first_max_ms, win._autosave_interval_ms = 300, 500, 900
    start = time.monotonic()
    k = 0
    while time.monotonic() - start < 3.2:  # a change every ~50 ms: never a 300 ms pause
        _change(win, k)
        k += 1
        qtbot.wait(50)
    qtbot.waitUntil(lambda: win._autosave_future is None, timeout=5000)
    t = [x - start for x in store.times]
    assert t, "continuous changes were never autosaved"
    assert t[0] < 0.5 + 0.6  # the first save did not wait for a pause
    gaps = np.diff([0.0, *t])
    assert max(gaps[1:], default=0) < 0.9 + 0.6  # then at least one per interval...
    assert min(gaps[1:], default=1) > 0.9 * 0.8  # ...and not more often
    assert len(t) >= 3


def test_a_pause_saves_the_first_change_and_a_later_change_waits_for_the_interval(qtbot, make_window, tmp_path):
    store = CountingStore(tmp_path / "rec")
    win = make_window(store)
    win._autosave_quiet_ms, win._autosave_first_max_ms, win._autosave_interval_ms = 200, 2000, 1500
    start = time.monotonic()
    _change(win, 1)
    qtbot.waitUntil(lambda: len(store.times) == 1 and win._autosave_future is None, timeout=3000)
    assert 0.15 < store.times[0] - start < 1.2  # after the pause, long before the 2 s maximum
    _change(win, 2)  # a second change right away: saved one interval after the first save
    qtbot.waitUntil(lambda: len(store.times) == 2, timeout=4000)
    assert store.times[1] - store.times[0] > 1.5 * 0.9
    qtbot.wait(400)
    assert len(store.times) == 2  # nothing changed since: no more saves


def test_opening_a_document_resets_the_first_change_and_saving_discards_the_autosave(
        qtbot, make_window, tmp_path):
    store = CountingStore(tmp_path / "rec")
    win = make_window(store)
    win._autosave_quiet_ms = 150
    _change(win, 1)
    qtbot.waitUntil(lambda: len(store.times) == 1 and win._autosave_future is None, timeout=3000)
    win.new_document_silent(64, 48)  # a new document: its first change is saved quickly again
    _change(win, 2)
    qtbot.waitUntil(lambda: len(store.times) == 2 and win._autosave_future is None, timeout=3000)
    assert store.times[1] - store.times[0] < 3
    assert len(list((tmp_path / "rec").glob("*.json"))) == 1  # the replaced document's slot is gone
    # a save while a write is still running: the write is waited for, then its slot removed
    _change(win, 3)
    win._autosave_due()
    win.controller.set_path(str(tmp_path / "saved.ora"))
    assert win.save()
    assert win._autosave_future is None and not list((tmp_path / "rec").glob("*.json"))
    _change(win, 4)  # after a save, the next change is a first change again
    qtbot.waitUntil(lambda: len(store.times) == 4, timeout=3000)


def test_a_big_autosave_is_written_in_the_background_and_the_window_waits_for_it_on_close(
        qtbot, make_window, tmp_path):
    from ganpaint.core.document import Document

    rng = np.random.default_rng(0)
    doc = Document(1024, 1024)
    for i in range(3):
        doc.add_layer(name=f"noise {i}", pixels=rng.integers(0, 256, (1024, 1024, 4), dtype=np.uint8))
    store = CountingStore(tmp_path / "rec")
    win = make_window(store)
    win.controller.set_document(doc, None, None)
    _change(win, 3)
    t0 = time.monotonic()
    win._autosave_due()  # what the timer calls
    call = time.monotonic() - t0
    assert win._autosave_future is not None  # still writing after the call returned
    _change(win, 4)  # painting goes on meanwhile
    qtbot.waitUntil(lambda: bool(store.times), timeout=30_000)
    write = store.times[0] - t0
    assert call < write / 4, (call, write)
    from ganpaint.core.ora import load_ora

    got = load_ora(next((tmp_path / "rec").glob("*.ora")))
    assert [la.name for la in got.layers] == [la.name for la in doc.layers]
    assert np.array_equal(got.layers[-1].pixels, doc.layers[-1].pixels)

    # a write still running when the window closes: the clean exit still leaves nothing behind
    _change(win, 5)
    win._autosave_last = None
    win._autosave_due()
    assert win._autosave_future is not None
    doc.history.mark_clean()
    win.close()
    assert not list((tmp_path / "rec").glob("*.ora")) and not list((tmp_path / "rec").glob("*.json"))
