"""A live, low-resolution preview of a fill tool (Inpaint) while its panel is open.

While the Tools panel shows a tool of ``PREVIEW_TOOLS`` and View > Preview Fill is on,
every change of the area to fill (the selection, the mask brush, the panel's mask
layer), of the picture or of the panel's values schedules one run (debounced,
``DEBOUNCE_MS``) on a copy of the inputs scaled down to at most ``PREVIEW_SIDE`` pixels.
It goes through the ordinary job path (``make_tool_job`` with the key ``PREVIEW_KEY``,
``submit(mode="replace")``: the latest wins, older ones are dropped), and only the newest
run's fill is kept. The canvas draws it, scaled up, over the area it would replace (the
area grown by the tool's "Grow area" at the preview's scale); nothing in the document
changes and nothing enters the history. Run makes the real, full-resolution result.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QRectF, QTimer
from PySide6.QtGui import QImage, QPainter

from ganpaint.core.selection import grow
from ganpaint.core.specs import Role, ToolError, ToolRequest, ToolSpec
from ganpaint.engine.jobs import FinishedMessage, JobState
from ganpaint.qt.qimage import rgba_to_qimage

if TYPE_CHECKING:
    from ganpaint.qt.mainwindow import MainWindow

log = logging.getLogger(__name__)

#: tools whose panel shows a live preview of their fill
PREVIEW_TOOLS = frozenset({"inpaint"})
#: the longest side the preview runs at (pixels)
PREVIEW_SIDE = 256
DEBOUNCE_MS = 400
PREVIEW_KEY = "fill-preview"


def _resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """Area-averaged resize of an (H, W) or (H, W, C) float32 array to (h, w)."""
    if a.ndim == 2:
        return np.asarray(Image.fromarray(np.ascontiguousarray(a, np.float32), "F").resize((w, h), Image.Resampling.BOX))
    return np.stack([_resize(a[..., c], w, h) for c in range(a.shape[2])], axis=2)


def scale_request(request: ToolRequest, side: int = PREVIEW_SIDE) -> tuple[ToolRequest, float]:
    """``request`` with its pictures, alpha and mask scaled down so the longer side is at
    most ``side`` (and pixel parameters "grow" / "work_size" scaled to match); returns it
    with the factor (1.0: already small enough, unchanged)."""
    w, h = request.size
    s = min(1.0, side / max(w, h))
    if s >= 1.0:
        return request, 1.0
    w2, h2 = max(1, round(w * s)), max(1, round(h * s))
    images = {r: _resize(np.asarray(a, np.float32), w2, h2) for r, a in request.images.items()}
    params = dict(request.params)
    if "grow" in params:
        params["grow"] = int(round(float(params["grow"]) * s))
    if "work_size" in params:
        params["work_size"] = max(64, min(int(params["work_size"]), max(w2, h2)))
    return replace(
        request,
        images=MappingProxyType(images),
        params=MappingProxyType(params),
        alpha=None if request.alpha is None else _resize(np.asarray(request.alpha, np.float32), w2, h2),
        mask=None if request.mask is None else _resize(np.asarray(request.mask, np.float32), w2, h2).clip(0, 1),
        canvas=(w2, h2),
        preview=True,
    ), s


class FillPreview(QObject):
    """The live preview of one window (see the module docstring). ``image`` is the last
    preview as a QImage at the preview's size (None when there is none), drawn over the
    whole canvas by ``paint`` (the canvas calls it in document coordinates)."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.image: QImage | None = None
        self.job_id: str | None = None
        self.runs = 0  # previews submitted (tests, the status line)
        self._doc: Any = None
        self._pending: tuple[Any, ToolRequest] | None = None
        self._watched_panels: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._submit)
        self.action = win.add_action("fill_preview", "Preview &Fill", self._toggled, checkable=True,
                                     tip="A quick low-resolution preview of Inpaint while its panel is open")
        self.action.setChecked(True)
        view = next((a.menu() for a in win.menuBar().actions() if a.menu() and a.text().replace("&", "") == "View"),
                    None)
        if view is not None:
            view.addSeparator()
            view.addAction(self.action)
        win.bridge.jobFinished.connect(self._on_finished)
        win.controller.document_replaced.connect(self._watch)
        win.canvas.overlay_painters.append(self.paint)
        panel = win.tools_panel
        if panel is not None:
            panel.pluginToolChanged.connect(lambda _t: self.schedule())
        self._watch(win.controller.document)

    # ------------------------------------------------------------------ what to preview
    def spec(self) -> ToolSpec | None:
        """The tool to preview now: the panel's, when it is one of PREVIEW_TOOLS, the
        panel is shown and the preview is on; else None."""
        panel = self.win.tools_panel
        if panel is None or not self.action.isChecked():
            return None
        dock = getattr(self.win, "docks", {}).get("tools")
        if dock is not None and dock.isHidden():
            return None
        tool_id = panel.plugin_tool()
        if tool_id not in PREVIEW_TOOLS:
            return None
        return next((s for s in self.win.tool_specs() if s.id == tool_id), None)

    def _watch(self, doc: Any) -> None:
        if self._doc is not None:
            for sig in (self._doc.events.selection_changed, self._doc.events.pixels_changed,
                        self._doc.events.layers_changed):
                sig.disconnect(self._on_doc_changed)
        self._doc = doc
        for sig in (doc.events.selection_changed, doc.events.pixels_changed, doc.events.layers_changed):
            sig.connect(self._on_doc_changed)
        self.clear()
        self.schedule()

    def _on_doc_changed(self, *_: Any) -> None:
        self.schedule()

    def _toggled(self) -> None:
        if self.action.isChecked():
            self.schedule()
        else:
            self._timer.stop()
            self.clear()

    def schedule(self) -> None:
        """Run a preview once nothing changed for DEBOUNCE_MS (or drop it, when there is
        nothing to preview)."""
        spec = self.spec()
        if spec is None:
            self._timer.stop()
            self.clear()
            return
        pp = self.win.tools_panel.param_panel(spec.id)
        if pp is not None and id(pp) not in self._watched_panels:
            self._watched_panels.add(id(pp))
            pp.valuesChanged.connect(lambda _v: self.schedule())
        self._timer.start()

    # ------------------------------------------------------------------ running
    def _submit(self) -> None:
        from ganpaint.core.toolio import build_request
        from ganpaint.engine.jobs.runner import make_tool_job

        spec = self.spec()
        if spec is None:
            return
        doc = self.win.controller.document
        pp = self.win.tools_panel.param_panel(spec.id)
        params = pp.values() if pp is not None else {}
        roles = pp.role_layers() if pp is not None else {}
        try:
            request = build_request(doc, spec, roles, params, preview=True)
        except (ToolError, ValueError, KeyError):
            self.clear()  # nothing to fill yet (no selection, no layer): no preview
            return
        if request.mask is None or Role.IMAGE not in request.images or not (np.asarray(request.mask) > 0).any():
            self.clear()
            return
        small, _s = scale_request(request)
        job = make_tool_job(spec, small, key=PREVIEW_KEY, title=f"{spec.title} (live preview)")
        self.job_id = job.id
        self._pending = (doc, small)
        self.runs += 1
        self.win.bridge.submit(job, mode="replace")

    def _on_finished(self, msg: FinishedMessage) -> None:
        if msg.job_id != self.job_id:
            return
        self.job_id = None
        self.win.bridge.forget(msg.job_id)
        if self._pending is None:
            return
        (doc, small), self._pending = self._pending, None
        if msg.state is not JobState.DONE or doc is not self.win.controller.document or self.spec() is None:
            if msg.state is JobState.FAILED:
                log.info("fill preview failed: %s", msg.error)
            return
        out = np.asarray(msg.result.image, np.float32)
        if out.shape[:2] != np.asarray(small.mask).shape:
            return
        area = np.asarray(small.mask, np.float32)
        g = int(small.params.get("grow") or 0)
        if g:
            area = grow((area * 255 + 0.5).astype(np.uint8), g).astype(np.float32) / 255.0
        rgba = np.empty(out.shape[:2] + (4,), np.uint8)
        rgba[..., :3] = (out.clip(0, 1) * 255 + 0.5).astype(np.uint8)
        rgba[..., 3] = (area.clip(0, 1) * 255 + 0.5).astype(np.uint8)
        self.image = rgba_to_qimage(rgba)
        self.win.canvas.update()

    def clear(self) -> None:
        if self.image is not None:
            self.image = None
            self.win.canvas.update()

    def paint(self, p: QPainter) -> None:
        """Draw the preview over the canvas (``p`` in document coordinates)."""
        if self.image is None or self._doc is None:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(QRectF(0, 0, self._doc.width, self._doc.height), self.image)
        p.restore()
