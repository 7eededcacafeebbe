"""Opening, saving, exporting and the clipboard, for the main window.

Pictures come through ``ganpaint.core.imageio``, layered documents through
``ganpaint.core.ora``. Every failure is shown as a dialog that names the file and
changes nothing: the document in the window stays as it was. A truncated picture is
refused first, then offered as "open the readable part".

Large documents never hold the GUI thread: from :data:`BACKGROUND_BYTES` of layer pixels,
Save, Save As and Export snapshot the document (``ora.snapshot``, copy-on-write) and write it on the
window's :class:`~ganpaint.qt.background_io.BackgroundIO` thread while the user goes on
painting (a Save's .ora is written by a separate process that thread waits for,
``engine.jobs.save_process``) (the saved file is the document as it was when Save was pressed; the history's
clean point is that state, ``History.checkpoint``); files from :data:`BACKGROUND_OPEN_BYTES`
are decoded there too and swapped in on the GUI thread when ready. A second Save while one
is still waiting replaces it; :meth:`FileActions.wait` finishes what runs (before closing).
Small documents are saved and opened at once (the thread hop would cost more than it saves).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ganpaint.core.document import Document
from ganpaint.core.errors import GanpaintError, ImageReadError
from ganpaint.qt.qimage import qimage_to_rgba, rgba_to_qimage

if TYPE_CHECKING:
    from ganpaint.qt.document_controller import DocumentController

log = logging.getLogger(__name__)

ORA_EXT = ".ora"
#: documents with at least this many bytes of layer pixels are saved and exported in the background
BACKGROUND_BYTES = 32 * 1024**2
#: files of at least this many bytes are opened (decoded) in the background
BACKGROUND_OPEN_BYTES = 4 * 1024**2
#: where the folder of the last open, save or export is remembered (the window's QSettings)
LAST_DIR_KEY = "files/last_dir"


def pictures_dir() -> str:
    """The user's Pictures folder, or the home folder where there is none."""
    pics = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    if pics and Path(pics).is_dir():
        return pics
    return str(Path.home())


def start_dir(settings: QSettings | None) -> str:
    """The folder a file dialog opens in: the last one used (remembered in ``settings``
    across sessions) while it still exists, else the Pictures folder, else home."""
    if settings is not None:
        last = settings.value(LAST_DIR_KEY)
        if isinstance(last, str) and last and Path(last).is_dir():
            return last
    return pictures_dir()


def remember_dir(settings: QSettings | None, folder: str) -> None:
    if settings is not None and folder:
        settings.setValue(LAST_DIR_KEY, str(folder))
        settings.sync()


def _filter(kind: str) -> str:
    from ganpaint.core import imageio

    return imageio.file_filter(kind)  # type: ignore[arg-type]


def _max_pixels(settings: Any = None) -> int | None:
    """The pixel limit (Settings.max_pixels) of ``settings`` or of the saved settings."""
    try:
        if settings is None:
            from ganpaint.core.settings import Settings

            settings = Settings.load()
        return int(settings.max_pixels)
    except Exception:  # noqa: BLE001 - settings are optional here; imageio has a default
        return None


def _max_document_pixels(settings: Any = None) -> int | None:
    """The document budget (Settings.max_document_pixels) of ``settings`` or of the saved settings."""
    try:
        if settings is None:
            from ganpaint.core.settings import Settings

            settings = Settings.load()
        return int(settings.max_document_pixels)
    except Exception:  # noqa: BLE001 - settings are optional here; ora has a default
        return None


def load_document(path: str, *, allow_truncated: bool = False,
                  max_pixels: int | None = None,
                  max_document_pixels: int | None = None) -> tuple[Document, list[str]]:
    """A Document for ``path`` (.ora or a picture) and notes for the user.

    ``max_pixels`` / ``max_document_pixels`` None: the saved Settings' limits. Raises
    ImageReadError (LimitExceededError for a file beyond a limit, or another GanpaintError)
    naming the file.
    """
    limit = max_pixels if max_pixels is not None else _max_pixels()
    if path.lower().endswith(ORA_EXT):
        from ganpaint.core import ora

        budget = max_document_pixels if max_document_pixels is not None else _max_document_pixels()
        doc = ora.load_ora(path, max_pixels=limit, max_document_pixels=budget)
        return doc, list(getattr(doc, "notes", []) or [])
    from ganpaint.core.imageio import read_image

    loaded = read_image(path, max_pixels=limit, allow_truncated=allow_truncated)
    h, w = loaded.pixels.shape[:2]
    doc = Document(w, h)
    doc.add_layer(name=Path(path).stem or "Background", pixels=loaded.pixels)
    _forget_history(doc)
    if loaded.icc_profile is not None:
        try:
            doc.icc_profile = loaded.icc_profile  # kept for export
        except AttributeError:
            pass
    return doc, list(loaded.notes)


def _load(path: str, allow_truncated: bool, max_pixels: int | None,
          max_document_pixels: int | None) -> tuple[Document, list[str]]:
    # (any thread: the Document is built here and handed to the GUI thread when ready)
    return load_document(path, allow_truncated=allow_truncated, max_pixels=max_pixels,
                         max_document_pixels=max_document_pixels)


def _forget_history(doc: Document) -> None:
    """Opening a file is not an undoable step: the new document starts clean."""
    clear = getattr(doc.history, "clear", None)
    if callable(clear):
        clear()
    mark = getattr(doc.history, "mark_clean", None)
    if callable(mark):
        mark()


def save_document(doc: Document, path: str) -> None:
    """Write ``doc`` as OpenRaster (atomic). Raises ImageWriteError naming the file."""
    from ganpaint.core import ora

    ora.save_ora(doc, path)


def export_picture(doc: Any, path: str) -> list[str]:
    """Flatten and write a picture by extension (atomic). Returns notes.

    ``doc``: a Document, or an ``ora.snapshot`` of one (flattened here, on the caller's thread)."""
    from ganpaint.core.imageio import write_image

    if isinstance(doc, Document):
        rgba = doc.composite()
    else:
        from ganpaint.core.blend import composite_layers
        from ganpaint.core.geometry import Rect
        from ganpaint.core.layers import LayerKind

        content = [la for la in doc.layers if la.kind is not LayerKind.MASK]
        rgba = composite_layers(content, Rect(0, 0, doc.width, doc.height))
    return write_image(path, rgba, icc_profile=getattr(doc, "icc_profile", None))


def document_bytes(doc: Document) -> int:
    """Bytes of pixels in the document's layers."""
    return sum(int(layer.pixels.nbytes) for layer in doc.layers)


class FileActions:
    """The window's file and clipboard commands (dialogs parented to ``window``)."""

    def __init__(self, window: QWidget, controller: DocumentController, settings: QSettings | None = None) -> None:
        self.window = window
        self.controller = controller
        self._settings = settings
        self._last_dir: str | None = None  # this session's, when there are no settings
        from ganpaint.qt.background_io import BackgroundIO

        #: the thread large saves, exports and opens run on (its indicator goes in the status bar)
        self.io = BackgroundIO(window)
        #: called with the path after every successful save (at once, or when a background save ends)
        self.on_saved: Any = None
        #: called with the path after every successful open (at once, or when a background open ends)
        self.on_opened: Any = None
        #: asked before a background open replaces a document changed while it was read (True: go on)
        self.confirm_replace: Any = None
        self._save_failed = False

    @property
    def settings(self) -> QSettings | None:
        """Where the last folder is remembered: the given QSettings, else the window's."""
        if self._settings is not None:
            return self._settings
        s = getattr(self.window, "settings", None)
        return s if isinstance(s, QSettings) else None

    @property
    def last_dir(self) -> str:
        """The folder the next Open, Save As or Export dialog starts in (see ``start_dir``)."""
        if self.settings is None and self._last_dir and Path(self._last_dir).is_dir():
            return self._last_dir
        return start_dir(self.settings)

    @last_dir.setter
    def last_dir(self, folder: str) -> None:
        self._last_dir = str(folder)
        remember_dir(self.settings, str(folder))

    # ------------------------------------------------------------------ open
    def ask_open(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open", self.last_dir, _filter("open"))
        return path or None

    def max_pixels(self) -> int | None:
        return _max_pixels(getattr(self.window, "app_settings", None))

    def _ask_readable_part(self, exc: Exception) -> bool:
        answer = QMessageBox.question(
            self.window, "Damaged file",
            f"{exc}\n\nOpen the readable part of the picture? The missing part stays empty.",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Open

    def open_path(self, path: str, *, background: bool | None = None) -> bool:
        """Open ``path`` into the window; on failure show why and keep the current document.

        A file of :data:`BACKGROUND_OPEN_BYTES` or more (or ``background=True``) is decoded on
        the background thread: True then means "being opened" and the document is swapped in
        when it is ready (``on_opened`` is called then)."""
        path = os.fspath(path)
        if background is None:
            try:
                background = os.path.getsize(path) >= BACKGROUND_OPEN_BYTES
            except OSError:
                background = False  # the sync path says why it cannot be read
        return self._open(path, allow_truncated=False, background=background)

    def _open(self, path: str, *, allow_truncated: bool, background: bool) -> bool:
        limit = self.max_pixels()
        budget = _max_document_pixels(getattr(self.window, "app_settings", None))
        args = (path, allow_truncated, limit, budget)
        if not background:
            try:
                loaded = _load(*args)
            except BaseException as exc:  # noqa: BLE001 - every failure is reported below
                return self._opened(path, None, exc, allow_truncated=allow_truncated, background=False)
            return self._opened(path, loaded, None, allow_truncated=allow_truncated, background=False)
        hist = self.controller.document.history
        before = (self.controller.document, hist.index, len(hist.entries))
        self.io.submit(f"Opening {Path(path).name}…", _load, *args, key=None,
                       on_done=lambda res, err: self._opened(path, res, err, allow_truncated=allow_truncated,
                                                             background=True, before=before))
        self.controller.status_message.emit(f"Opening {path}…")
        return True

    def _opened(self, path: str, loaded: Any, exc: BaseException | None, *, allow_truncated: bool,
                background: bool, before: Any = None) -> bool:
        if exc is not None:
            if isinstance(exc, ImageReadError) and getattr(exc, "truncated", False) and not allow_truncated:
                if not self._ask_readable_part(exc):
                    return False
                return self._open(path, allow_truncated=True, background=background)
            if isinstance(exc, GanpaintError):
                text = str(exc)
            elif isinstance(exc, MemoryError):
                text = f"Cannot open '{path}': there is not enough memory to open it."
            elif isinstance(exc, Exception):  # nothing a file holds may take the editor down
                log.warning("opening %s failed", path, exc_info=exc)
                text = f"Cannot open '{path}': {type(exc).__name__}: {exc}"
            else:
                raise exc
            self.error("Cannot open", text)
            return False
        doc, notes = loaded
        if before is not None and self.confirm_replace is not None:
            cur = self.controller.document
            hist = cur.history
            if (cur, hist.index, len(hist.entries)) != before and not self.confirm_replace():
                self.controller.status_message.emit(f"Not opened: {path}")
                return False
        if allow_truncated:
            self._install(doc, None, notes)  # not the same file any more: Save asks a name
        else:
            is_ora = path.lower().endswith(ORA_EXT)
            self._install(doc, path if is_ora else None, notes, source=path)
        if self.on_opened is not None:
            self.on_opened(path)
        return True

    def ask_open_as_layer(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open as Layer", self.last_dir, _filter("open"))
        return self.open_as_layer(path) if path else False

    def open_as_layer(self, path: str) -> bool:
        """Add the picture at ``path`` as a new layer at the canvas origin (one history step)."""
        from ganpaint.core.imageio import read_image
        from ganpaint.core.layers import Layer

        path = os.fspath(path)
        limit = self.max_pixels()
        try:
            try:
                loaded = read_image(path, max_pixels=limit)
            except ImageReadError as exc:
                if not getattr(exc, "truncated", False) or not self._ask_readable_part(exc):
                    raise
                loaded = read_image(path, max_pixels=limit, allow_truncated=True)
        except GanpaintError as exc:
            self.error("Cannot open", str(exc))
            return False
        except (OSError, ValueError, MemoryError) as exc:
            self.error("Cannot open", f"Cannot open '{path}': {exc}")
            return False
        doc = self.controller.document
        name = Path(path).stem or "Layer"
        doc.insert_layer(Layer(loaded.pixels, name=name), title=f"Open {name} as layer")
        self.last_dir = str(Path(path).parent)
        notes = list(loaded.notes)
        self.controller.status_message.emit(" ".join([f"Opened {name} as a layer."] + notes))
        return True

    def _install(self, doc: Document, path: str | None, notes: list[str], source: str | None = None) -> None:
        self.controller.set_document(doc, path, source)
        if source or path:
            self.last_dir = str(Path(source or path or "").parent)
        if notes:
            self.controller.status_message.emit(" ".join(notes))

    # ------------------------------------------------------------------ save
    def save(self) -> bool:
        path = self.controller.path
        if not path:
            return self.save_as()
        return self._save_to(path)

    def save_as(self) -> bool:
        start = self.controller.path or str(Path(self.last_dir) / (self._stem() + ORA_EXT))
        path, _ = QFileDialog.getSaveFileName(self.window, "Save As", start, _filter("save"))
        if not path:
            return False
        if not path.lower().endswith(ORA_EXT):
            path += ORA_EXT
        return self._save_to(path)

    def _stem(self) -> str:
        src = self.controller.source_path or self.controller.path
        return Path(src).stem if src else "Untitled"

    def _background(self, doc: Document) -> bool:
        return document_bytes(doc) >= BACKGROUND_BYTES

    def _save_to(self, path: str) -> bool:
        """Save to ``path``: at once for a small document, else from a snapshot in the
        background (True: saved, or the save has started; failures are shown either way)."""
        doc = self.controller.document
        if not self._background(doc):
            try:
                save_document(doc, path)
            except (GanpaintError, OSError) as exc:
                self._save_failed = True
                self.error("Cannot save", str(exc))
                return False
            self._saved(doc, path, None)
            return True
        from ganpaint.core.ora import snapshot
        from ganpaint.engine.jobs.save_process import write_snapshot

        try:
            snap = snapshot(doc)
        except MemoryError:
            self.error("Cannot save", f"Cannot save '{path}': there is not enough memory to copy the document.")
            return False
        token = doc.history.checkpoint()

        def done(_result: Any, exc: BaseException | None) -> None:
            if exc is None:
                self._saved(doc, path, token)
                return
            self._save_failed = True
            text = str(exc) if isinstance(exc, GanpaintError) else f"Cannot save '{path}': {exc}"
            self.error("Cannot save", text)

        # written by a separate process (no GIL shared with this thread); this file thread waits for it
        self.io.submit(f"Saving {Path(path).name}…", write_snapshot, snap, path, key="save", on_done=done)
        self.controller.status_message.emit(f"Saving {path}…")
        return True

    def _saved(self, doc: Document, path: str, token: Any) -> None:
        if doc is self.controller.document:
            self.controller.mark_saved(path, token)
        elif token is not None:  # the window shows another document by now
            doc.history.mark_clean_at(token)
        self.last_dir = str(Path(path).parent)
        self.controller.status_message.emit(f"Saved {path}")
        if self.on_saved is not None and doc is self.controller.document:
            self.on_saved(path)

    def wait(self) -> bool:
        """Finish the saves, exports and opens still running; False if a save failed since the last
        wait (one that failed before this call counts too: its report may already have arrived)."""
        self.io.wait()
        failed, self._save_failed = self._save_failed, False
        return not failed

    def export_as(self) -> bool:
        start = str(Path(self.last_dir) / (self._stem() + ".png"))
        path, _ = QFileDialog.getSaveFileName(self.window, "Export As", start, _filter("export"))
        if not path:
            return False
        from ganpaint.core.imageio import format_for_path

        if format_for_path(path) is None:
            path += ".png"
        return self.export_to(path)

    def export_to(self, path: str) -> bool:
        """Flatten and write ``path`` (in the background for a large document)."""
        doc = self.controller.document

        def done(notes: Any, exc: BaseException | None) -> None:
            if exc is not None:
                text = str(exc) if isinstance(exc, GanpaintError) else f"Cannot export '{path}': {exc}"
                self.error("Cannot export", text)
                return
            self.last_dir = str(Path(path).parent)
            self.controller.status_message.emit(f"Exported {path}" + (f" ({' '.join(notes)})" if notes else ""))

        if self._background(doc):
            from ganpaint.core.ora import snapshot

            self.io.submit(f"Exporting {Path(path).name}…", export_picture, snapshot(doc), path,
                           key=f"export:{path}", on_done=done)
            return True
        try:
            notes = export_picture(doc, path)
        except (GanpaintError, OSError) as exc:
            done(None, exc)
            return False
        done(notes, None)
        return True

    # ------------------------------------------------------------------ clipboard
    def copy(self, merged: bool = False) -> bool:
        """Copy the selection's bounding box of the active layer (or of the composite)."""
        doc = self.controller.document
        from ganpaint.core.geometry import Rect

        sel = doc.selection
        rect = Rect(0, 0, doc.width, doc.height) if sel.is_empty() else sel.bbox()
        if merged or doc.active_layer is None:
            rgba = doc.composite(rect).copy()
        else:
            from ganpaint.core.toolio import layer_on_canvas

            layer = doc.active_layer
            rgba = layer_on_canvas(layer.pixels, layer.x, layer.y, doc.width, doc.height)[rect.slices()].copy()
        if not sel.is_empty():
            m = sel.region(rect).astype(np.uint16)
            rgba[:, :, 3] = (rgba[:, :, 3].astype(np.uint16) * m // 255).astype(np.uint8)
        QGuiApplication.clipboard().setImage(rgba_to_qimage(rgba))
        self.controller.status_message.emit(f"Copied {rect.w}x{rect.h}")
        return True

    def paste(self) -> bool:
        """Paste the clipboard's picture as a new layer at the selection (or top left)."""
        img: QImage = QGuiApplication.clipboard().image()
        if img.isNull():
            self.controller.status_message.emit("The clipboard holds no picture")
            return False
        rgba = qimage_to_rgba(img)
        doc = self.controller.document
        at = doc.selection.bbox() if not doc.selection.is_empty() else None
        from ganpaint.core.layers import Layer

        # one history step: the layer is placed before it is inserted
        layer = Layer(rgba, name="Pasted", x=at.x if at else 0, y=at.y if at else 0)
        doc.insert_layer(layer, title="Paste as new layer")
        self.controller.status_message.emit(f"Pasted {rgba.shape[1]}x{rgba.shape[0]} as a new layer")
        return True

    # ------------------------------------------------------------------ messages
    def error(self, title: str, text: str) -> None:
        self.controller.status_message.emit(text)
        QMessageBox.warning(self.window, title, text)
