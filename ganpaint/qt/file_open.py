"""Documents the system hands to the running editor: macOS's QFileOpenEvent.

On macOS a document double-clicked in Finder, dropped on the Dock icon or chosen with "Open With"
is not passed on the command line: Qt delivers it to the application object as a
``QEvent.FileOpen`` (``QFileOpenEvent``), at start-up too, once the event loop runs.
``GANPaintApplication`` (the QApplication ``ensure_app`` creates) catches it: until the window is
ready the paths are queued, then ``attach_file_open`` opens them and every later one at once, as
``ganpaint FILE`` would. Other platforms never send the event (Windows and Linux pass a FILE
argument), so it costs nothing there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


class GANPaintApplication(QApplication):
    """QApplication that opens the documents of QFileOpenEvents (queued until a target is set)."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self._open_target: Callable[[str], Any] | None = None
        self._pending_files: list[str] = []

    def event(self, e: QEvent) -> bool:  # noqa: D102 - Qt override
        if e.type() == QEvent.Type.FileOpen:
            path = e.file() or e.url().toLocalFile()  # type: ignore[attr-defined]
            if path:
                self._file_opened(path)
            return True
        return super().event(e)

    def _file_opened(self, path: str) -> None:
        if self._open_target is None:
            self._pending_files.append(path)
            return
        try:
            self._open_target(path)
        except Exception as exc:  # noqa: BLE001 - an event handler must not raise into Qt
            log.warning("cannot open %s: %s", path, exc)

    def set_open_target(self, target: Callable[[str], Any]) -> list[str]:
        """Open later documents with ``target``; the ones queued until now are opened too and returned."""
        self._open_target = target
        queued, self._pending_files = self._pending_files, []
        for path in queued:
            self._file_opened(path)
        return queued


def attach_file_open(app: Any, window: Any) -> list[str]:
    """Let ``window`` open the documents the system sends; returns those that were queued.

    A QApplication that is not ours (one a test or a host program created first) is left alone."""
    setter = getattr(app, "set_open_target", None)
    if setter is None:
        return []
    return list(setter(window.open_path))
