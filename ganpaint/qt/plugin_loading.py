"""Loading plugins beside the window: the window shows first, plugins load in a thread.

``PluginLoader(pm).start()`` runs ``pm.load(notify=False)`` and ``pm.startup("gui")`` in a
daemon thread (a plugin whose in-process import still hangs then holds only that thread;
the probe of ganpaint.plugins.probe keeps the known hangs and crashes out of this process
altogether). ``finished`` is a Qt signal emitted from that thread, so slots connected to
it run on the GUI thread; the manager's own ``changed`` signal is emitted there too
(by MainWindow), never from the loading thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class PluginLoader(QObject):
    """Loads one plugin manager's plugins in a background thread."""

    #: emitted once, when loading ended (well or not); queued to the GUI thread
    finished = Signal()

    def __init__(self, manager: Any, parent: QObject | None = None, frontend: str = "gui") -> None:
        super().__init__(parent)
        self.manager = manager
        self.frontend = frontend
        self.error = ""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ganpaint-plugin-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.manager.load(notify=False)
            self.manager.startup(self.frontend)
        except Exception as exc:  # noqa: BLE001 - the editor runs without plugins
            log.exception("plugins could not be loaded: %s", exc)
            self.error = str(exc)
        finally:
            try:
                self.finished.emit()
            except RuntimeError:  # the window (and this object) went away meanwhile
                pass
