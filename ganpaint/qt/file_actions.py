"""Opening, saving, exporting and the clipboard, for the main window.

Pictures come through ``ganpaint.core.imageio``, layered documents through
``ganpaint.core.ora``. Every failure is shown as a dialog that names the file and
changes nothing: the document in the window stays as it was. A truncated picture is
refused first, then offered as "open the readable part".
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


def export_picture(doc: Document, path: str) -> list[str]:
    """Flatten and write a picture by extension (atomic). Returns notes."""
    from ganpaint.core.imageio import write_image

    return write_image(path, doc.composite(), icc_profile=getattr(doc, "icc_profile", None))


class FileActions:
    """The window's file and clipboard commands (dialogs parented to ``window``)."""

    def __init__(self, window: QWidget, controller: DocumentController, settings: QSettings | None = None) -> None:
        self.window = window
        self.controller = controller
        self._settings = settings
        self._last_dir: str | None = None  # this session's, when there are no settings

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

    def open_path(self, path: str) -> bool:
        """Open ``path`` into the window; on failure show why and keep the current document."""
        path = os.fspath(path)
        limit = self.max_pixels()
        budget = _max_document_pixels(getattr(self.window, "app_settings", None))
        try:
            doc, notes = load_document(path, max_pixels=limit, max_document_pixels=budget)
        except ImageReadError as exc:
            if getattr(exc, "truncated", False):
                if not self._ask_readable_part(exc):
                    return False
                try:
                    doc, notes = load_document(path, allow_truncated=True, max_pixels=limit)
                except GanpaintError as exc2:
                    self.error("Cannot open", str(exc2))
                    return False
                self._install(doc, None, notes)  # not the same file any more: Save asks a name
                return True
            self.error("Cannot open", str(exc))
            return False
        except GanpaintError as exc:
            self.error("Cannot open", str(exc))
            return False
        except MemoryError:
            self.error("Cannot open", f"Cannot open '{path}': there is not enough memory to open it.")
            return False
        except Exception as exc:  # noqa: BLE001 - nothing a file holds may take the editor down
            log.warning("opening %s failed", path, exc_info=True)
            self.error("Cannot open", f"Cannot open '{path}': {type(exc).__name__}: {exc}")
            return False
        is_ora = path.lower().endswith(ORA_EXT)
        self._install(doc, path if is_ora else None, notes, source=path)
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

    def _save_to(self, path: str) -> bool:
        try:
            save_document(self.controller.document, path)
        except (GanpaintError, OSError) as exc:
            self.error("Cannot save", str(exc))
            return False
        self.controller.mark_saved(path)
        self.last_dir = str(Path(path).parent)
        self.controller.status_message.emit(f"Saved {path}")
        return True

    def export_as(self) -> bool:
        start = str(Path(self.last_dir) / (self._stem() + ".png"))
        path, _ = QFileDialog.getSaveFileName(self.window, "Export As", start, _filter("export"))
        if not path:
            return False
        from ganpaint.core.imageio import format_for_path

        if format_for_path(path) is None:
            path += ".png"
        try:
            notes = export_picture(self.controller.document, path)
        except (GanpaintError, OSError) as exc:
            self.error("Cannot export", str(exc))
            return False
        self.last_dir = str(Path(path).parent)
        self.controller.status_message.emit(f"Exported {path}" + (f" ({' '.join(notes)})" if notes else ""))
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
