"""The editor's state around one Document: the file, the active tool, the brush.

Views (canvas, panels) hold no document state of their own: they read it from here
and listen to ``controller.document.events`` (psygnal, emitted on the GUI thread)
plus the Qt signals below. When a new document replaces the old one,
``document_replaced`` fires and views reconnect.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from ganpaint.core.document import Document

#: Canvas tools, in the order the toolbar shows them: (id, title, shortcut key).
CANVAS_TOOLS: tuple[tuple[str, str, str], ...] = (
    ("brush", "Brush", "B"),
    ("eraser", "Eraser", "E"),
    ("picker", "Colour picker", "I"),
    ("rect_select", "Rectangle selection", "M"),
    ("ellipse_select", "Ellipse selection", "Shift+M"),
    ("lasso_select", "Lasso selection", "L"),
    ("mask_brush", "Mask brush", "Q"),
    ("mask_eraser", "Mask eraser", "Shift+Q"),
    ("move", "Move layer", "V"),
)

log = logging.getLogger(__name__)
#: where the brush, the canvas tool and the plugin tool are remembered (the window's QSettings)
EDITOR_STATE_KEY = "editor/state"

BRUSH_SIZES = (1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 25, 32, 40, 50, 64, 80, 100, 128, 160, 200, 256, 320, 400, 500)


@dataclass(frozen=True)
class BrushSettings:
    """What the brush, the eraser and the mask brush paint with."""

    size: float = 16.0  # diameter in canvas pixels
    hardness: float = 0.8  # 0 = soft edge, 1 = hard edge
    opacity: float = 1.0
    color: tuple[float, float, float] = (0.1, 0.1, 0.1)  # RGB in [0, 1]
    #: the mask brush adds to the selection (False: it subtracts)
    mask_add: bool = True


def blank_document(width: int, height: int, fill: tuple[int, int, int, int] = (255, 255, 255, 255),
                   name: str = "Background") -> Document:
    """A new picture: one layer of ``fill`` (RGBA 0..255; alpha 0 = transparent), with an
    empty history that is clean, so a document nobody has touched is not "modified"."""
    import numpy as np

    if width < 1 or height < 1:
        raise ValueError(f"a picture needs at least 1x1 pixels, not {width}x{height}")
    pixels = np.empty((int(height), int(width), 4), np.uint8)
    pixels[...] = np.asarray(fill, np.uint8)
    doc = Document.from_array(pixels, name=name)
    doc.history.mark_clean()
    return doc


class DocumentController(QObject):
    """Holds the Document, the current file, the active canvas tool and brush settings."""

    document_replaced = Signal(object)  # the new Document
    path_changed = Signal(str)  # "" for an untitled document
    tool_changed = Signal(str)  # a CANVAS_TOOLS id
    brush_changed = Signal(object)  # BrushSettings
    modified_changed = Signal(bool)
    status_message = Signal(str)

    def __init__(self, document: Document | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc: Document = document if document is not None else Document(1024, 768)
        self._path: str | None = None
        #: the file the document came from (a PNG, say) when that is not where Save writes
        self.source_path: str | None = None
        self._tool = "brush"
        self._brush = BrushSettings()
        self._modified_seen = False
        self._connect(self._doc)

    # ------------------------------------------------------------------ document
    @property
    def document(self) -> Document:
        return self._doc

    def set_document(self, document: Document, path: str | None = None, source: str | None = None) -> None:
        """Replace the document (after Open or New). The old one is dropped.

        ``path``: where Save writes (an .ora), None for "ask"; ``source``: the picture it
        was opened from, for the title and the default file name."""
        self._disconnect(self._doc)
        self.source_path = source or path
        self._doc = document
        self._path = path
        if path:
            document.path = path
        self._connect(document)
        self.document_replaced.emit(document)
        self.path_changed.emit(path or "")
        self._emit_modified(force=True)

    @property
    def path(self) -> str | None:
        return self._path

    def set_path(self, path: str | None) -> None:
        self._path = path
        self.path_changed.emit(path or "")

    @property
    def modified(self) -> bool:
        return bool(self._doc.modified)

    def display_name(self) -> str:
        shown = self._path or self.source_path
        return os.path.basename(shown) if shown else "Untitled"

    def mark_saved(self, path: str, token: Any = None) -> None:
        """Record a successful save: the history's clean point and the file name.

        ``token``: ``history.checkpoint()`` taken with the snapshot a background save wrote
        (the document may have changed since); None: the document as it is now."""
        if token is None:
            self._doc.mark_clean(path)
        else:
            self._doc.path = path
            self._doc.history.mark_clean_at(token)
        self.set_path(path)
        self._emit_modified(force=True)

    def undo(self) -> None:
        if self._doc.history.can_undo():
            self._doc.history.undo()

    def redo(self) -> None:
        if self._doc.history.can_redo():
            self._doc.history.redo()

    # ------------------------------------------------------------------ tools
    @property
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool_id: str) -> None:
        if tool_id not in {t[0] for t in CANVAS_TOOLS}:
            raise ValueError(f"unknown canvas tool {tool_id!r}")
        if tool_id != self._tool:
            self._tool = tool_id
            self.tool_changed.emit(tool_id)

    @property
    def brush(self) -> BrushSettings:
        return self._brush

    def set_brush(self, **changes: Any) -> None:
        """Change brush settings, e.g. ``set_brush(size=20, color=(1, 0, 0))`` (values clamped)."""
        if "size" in changes:
            changes["size"] = float(min(max(changes["size"], 1.0), 1000.0))
        for k in ("hardness", "opacity"):
            if k in changes:
                changes[k] = float(min(max(changes[k], 0.0), 1.0))
        if "color" in changes:
            changes["color"] = tuple(float(min(max(c, 0.0), 1.0)) for c in changes["color"])
        new = replace(self._brush, **changes)
        if new != self._brush:
            self._brush = new
            self.brush_changed.emit(new)

    def editor_state(self) -> dict[str, Any]:
        """The canvas tool and the brush, as plain values (remembered between sessions)."""
        b = asdict(self._brush)
        b["color"] = list(b["color"])
        return {"tool": self._tool, "brush": b}

    def restore_editor_state(self, state: Any) -> None:
        """Take back what ``editor_state`` gave; unknown or broken values are skipped."""
        if not isinstance(state, dict):
            return
        brush = state.get("brush")
        if isinstance(brush, dict):
            changes: dict[str, Any] = {}
            for k in ("size", "hardness", "opacity"):
                v = brush.get(k)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
                    changes[k] = float(v)
            c = brush.get("color")
            if (isinstance(c, (list, tuple)) and len(c) == 3
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v == v for v in c)):
                changes["color"] = tuple(float(v) for v in c)
            if isinstance(brush.get("mask_add"), bool):
                changes["mask_add"] = brush["mask_add"]
            self.set_brush(**changes)
        tool = state.get("tool")
        if isinstance(tool, str) and tool in {t[0] for t in CANVAS_TOOLS}:
            self.set_tool(tool)

    def step_brush_size(self, direction: int) -> None:
        """``[`` and ``]``: the next smaller or larger size from a musical-ish scale."""
        s = self._brush.size
        if direction > 0:
            bigger = [b for b in BRUSH_SIZES if b > s + 1e-6]
            self.set_brush(size=bigger[0] if bigger else s * 1.25)
        else:
            smaller = [b for b in BRUSH_SIZES if b < s - 1e-6]
            self.set_brush(size=smaller[-1] if smaller else 1)

    # ------------------------------------------------------------------ events
    def _connect(self, doc: Document) -> None:
        doc.events.history_changed.connect(self._on_history)

    def _disconnect(self, doc: Document) -> None:
        try:
            doc.events.history_changed.disconnect(self._on_history)
        except Exception:  # noqa: BLE001 - already disconnected is fine
            pass

    def _on_history(self, *args: object) -> None:
        self._emit_modified()

    def _emit_modified(self, force: bool = False) -> None:
        m = self.modified
        if force or m != self._modified_seen:
            self._modified_seen = m
            self.modified_changed.emit(m)


def load_editor_state(settings: QSettings | None) -> dict[str, Any]:
    """The editor state remembered in ``settings`` ({} when none or unreadable)."""
    if settings is None:
        return {}
    raw = settings.value(EDITOR_STATE_KEY)
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        log.info("remembered editor state ignored: %s", exc)
        return {}
    return data if isinstance(data, dict) else {}


def remember_editor_state(settings: QSettings | None, controller: DocumentController, tools_panel: Any = None) -> None:
    """Restore the brush, the canvas tool and the Tools panel's plugin tool from
    ``settings``, then keep them there as they change (so the next session starts with them).

    A remembered plugin tool that is not loaded now (its plugin disabled) is kept and
    chosen again once the panel offers it, unless the user picks another one first."""
    if settings is None:
        return
    state = load_editor_state(settings)
    controller.restore_editor_state(state)
    wanted = state.get("plugin_tool")
    pending: list[str] = [wanted] if isinstance(wanted, str) and wanted else []
    current = {"plugin_tool": pending[0] if pending else ""}

    def save(*_: Any) -> None:
        data = controller.editor_state()
        if current["plugin_tool"]:
            data["plugin_tool"] = current["plugin_tool"]
        try:
            settings.setValue(EDITOR_STATE_KEY, json.dumps(data))
        except (TypeError, ValueError) as exc:  # pragma: no cover - plain values only
            log.warning("editor state not remembered: %s", exc)

    controller.tool_changed.connect(save)
    controller.brush_changed.connect(save)
    if tools_panel is None or not hasattr(tools_panel, "pluginToolChanged"):
        return

    def try_pending() -> bool:
        if pending and tools_panel.plugin_combo.findData(pending[0]) >= 0:
            tool_id = pending.pop()
            if tools_panel.plugin_tool() != tool_id:
                tools_panel.set_plugin_tool(tool_id)
            return True
        return False

    def on_plugin_tool(tool_id: str) -> None:
        if pending:
            if tool_id != pending[0]:
                # the panel fell back to another tool: choose the remembered one when it is
                # offered again, else keep waiting for it (and keep it remembered)
                try_pending()
                return
            pending.clear()
        if tool_id:
            current["plugin_tool"] = tool_id
            save()

    def on_user_pick(_index: int) -> None:
        pending.clear()  # the user chose: that one is remembered from now on
        on_plugin_tool(tools_panel.plugin_tool())

    try_pending()
    tools_panel.pluginToolChanged.connect(on_plugin_tool)
    tools_panel.plugin_combo.activated.connect(on_user_pick)
