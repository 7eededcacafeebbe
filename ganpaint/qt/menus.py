"""The main window's menus and shortcuts (File, Edit, Select, Image, Layer, Filters, View, Help).

Every entry is a named QAction in ``window.action_map`` so tests and the toolbar find it.
Document operations call the Document directly: each is one undoable command there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QMessageBox

from ganpaint.qt.document_controller import CANVAS_TOOLS

if TYPE_CHECKING:
    from ganpaint.qt.mainwindow import MainWindow

log = logging.getLogger(__name__)
SK = QKeySequence.StandardKey


def _doc_op(win: MainWindow, name: str, *args: Any, title: str = "", **kw: Any) -> Callable[[], None]:
    """A slot calling ``doc.<name>(*args)``; errors (locked layer, nothing selected) become a message."""

    def run() -> None:
        doc = win.controller.document
        try:
            getattr(doc, name)(*args, **kw)
        except (ValueError, RuntimeError, IndexError) as exc:
            QMessageBox.information(win, title or name.replace("_", " ").capitalize(), str(exc))

    return run


def _active_op(win: MainWindow, name: str, **kw: Any) -> Callable[[], None]:
    def run() -> None:
        doc = win.controller.document
        if doc.active_layer is None:
            win.statusBar().showMessage("No active layer", 4000)
            return
        _doc_op(win, name, doc.active_index, **kw)()

    return run


def _dialog(win: MainWindow, module: str, func: str, fallback: Callable[[], None] | None = None) -> Callable[[], None]:
    """Call E2's dialog ``ganpaint.qt.dialogs.<module>.<func>(window)`` when it exists."""

    def run() -> None:
        try:
            mod = __import__(f"ganpaint.qt.dialogs.{module}", fromlist=[func])
            fn = getattr(mod, func)
        except (ImportError, AttributeError) as exc:
            if fallback is not None:
                fallback()
                return
            QMessageBox.information(win, "Not available", f"This dialog is not available: {exc}")
            return
        fn(win)

    return run


def _ask_grow(win: MainWindow, *, grow: bool) -> None:
    """Select > Grow / Shrink selection: ask for N pixels, then one undoable step."""
    from ganpaint.core.selection import MAX_GROW

    doc = win.controller.document
    title = "Grow Selection" if grow else "Shrink Selection"
    if doc.selection.is_empty():
        QMessageBox.information(win, title, "Nothing is selected.")
        return
    label = "Grow the selection by (pixels):" if grow else "Shrink the selection by (pixels):"
    n, ok = QInputDialog.getInt(win, title, label, int(win.settings.value("select/grow_px", 4) or 4), 1, MAX_GROW)
    if not ok:
        return
    win.settings.setValue("select/grow_px", int(n))
    _doc_op(win, "grow_selection" if grow else "shrink_selection", int(n), title=title)()


def build_menus(win: MainWindow) -> None:
    mb = win.menuBar()
    a = win.add_action
    c = win.controller
    cv = win.canvas

    # File ---------------------------------------------------------------------------------
    m = mb.addMenu("&File")
    m.addAction(a("new", "&New...", lambda: _new_image(win), SK.New))
    m.addAction(a("open", "&Open...", win.open_dialog, SK.Open))
    recent = m.addMenu("Open &Recent")
    recent.setObjectName("menu_recent")

    def rebuild_recent() -> None:
        recent.clear()
        items = win.recent_files()
        for p in items:
            act = recent.addAction(Path(p).name)
            act.setToolTip(p)
            act.triggered.connect(lambda _c=False, path=p: win.maybe_save() and win.open_path(path))
        recent.setEnabled(bool(items))

    win._rebuild_recent_menu = rebuild_recent  # type: ignore[attr-defined]
    rebuild_recent()
    m.addSeparator()
    m.addAction(a("save", "&Save", win.save, SK.Save))
    m.addAction(a("save_as", "Save &As...", win.save_as, ["Ctrl+Shift+S"]))
    m.addAction(a("export", "&Export As...", win.files.export_as, "Ctrl+Shift+E"))
    m.addSeparator()
    m.addAction(a("quit", "&Quit", win.close, "Ctrl+Q"))

    # Edit ---------------------------------------------------------------------------------
    m = edit_menu = mb.addMenu("&Edit")
    m.addAction(a("undo", "&Undo", c.undo, SK.Undo))
    m.addAction(a("redo", "&Redo", c.redo, ["Ctrl+Shift+Z", "Ctrl+Y"]))
    m.addSeparator()
    m.addAction(a("copy", "&Copy", lambda: win.files.copy(False), SK.Copy))
    m.addAction(a("copy_merged", "Copy &Merged", lambda: win.files.copy(True), "Ctrl+Shift+C"))
    m.addAction(a("paste", "&Paste as New Layer", win.files.paste, SK.Paste))
    m.addSeparator()
    m.addAction(a("brush_smaller", "Brush Smaller", lambda: c.step_brush_size(-1), "["))
    m.addAction(a("brush_bigger", "Brush Bigger", lambda: c.step_brush_size(+1), "]"))
    m.addSeparator()
    m.addAction(a("preferences", "Pr&eferences...", _dialog(win, "preferences", "show_preferences"),
                  SK.Preferences))
    m.addAction(a("plugins", "P&lugins...", _dialog(win, "plugins", "show_plugins")))
    m.addAction(a("models", "&Models...", _dialog(win, "models", "show_models")))
    m.addAction(a("train", "&Train...", _dialog(win, "train", "show_train")))  # engineer Q: fine-tuning

    def refresh_undo() -> None:
        h = c.document.history
        win.action_map["undo"].setEnabled(h.can_undo())
        win.action_map["redo"].setEnabled(h.can_redo())
        ut = getattr(h, "undo_title", None)
        rt = getattr(h, "redo_title", None)
        win.action_map["undo"].setText(f"&Undo {ut() or ''}".strip() if callable(ut) else "&Undo")
        win.action_map["redo"].setText(f"&Redo {rt() or ''}".strip() if callable(rt) else "&Redo")

    def watch_history(doc: Any) -> None:
        doc.events.history_changed.connect(refresh_undo)
        refresh_undo()

    c.document_replaced.connect(watch_history)
    watch_history(c.document)

    # Select -------------------------------------------------------------------------------
    m = mb.addMenu("&Select")
    m.addAction(a("select_all", "&All", _doc_op(win, "select_all"), SK.SelectAll))
    m.addAction(a("select_none", "&None", _doc_op(win, "select_none"), "Ctrl+Shift+A"))
    m.addAction(a("select_invert", "&Invert", _doc_op(win, "select_invert"), "Ctrl+I"))
    m.addSeparator()
    group = QActionGroup(win)
    group.setExclusive(True)
    all_tools = edit_menu.addMenu("Canvas &Tool")
    for tool_id, title, key in CANVAS_TOOLS:
        act = a(f"tool_{tool_id}", title, lambda t=tool_id: c.set_tool(t), key, checkable=True)
        group.addAction(act)
        win.tool_actions[tool_id] = act
        all_tools.addAction(act)
        if tool_id in ("rect_select", "ellipse_select", "lasso_select", "mask_brush", "mask_eraser"):
            m.addAction(act)
    win.tool_actions[c.tool].setChecked(True)
    m.addSeparator()
    m.addAction(a("select_grow", "&Grow Selection...", lambda: _ask_grow(win, grow=True)))
    m.addAction(a("select_shrink", "S&hrink Selection...", lambda: _ask_grow(win, grow=False)))

    # Image --------------------------------------------------------------------------------
    m = mb.addMenu("&Image")
    m.addAction(a("crop", "&Crop to Selection", _doc_op(win, "crop_to_selection", title="Crop")))
    m.addAction(a("resize_image", "&Resize Image...",
                  _dialog(win, "resize", "resize_image_dialog", lambda: _ask_resize(win, "image"))))
    m.addAction(a("resize_canvas", "Canvas &Size...",
                  _dialog(win, "resize", "resize_canvas_dialog", lambda: _ask_resize(win, "canvas"))))
    m.addSeparator()
    m.addAction(a("rotate_cw", "Rotate 90° &Clockwise", _doc_op(win, "rotate", 90)))
    m.addAction(a("rotate_ccw", "Rotate 90° C&ounter-clockwise", _doc_op(win, "rotate", 270)))
    m.addAction(a("rotate_180", "Rotate &180°", _doc_op(win, "rotate", 180)))
    m.addAction(a("flip_h", "Flip &Horizontally", _doc_op(win, "flip", "h")))
    m.addAction(a("flip_v", "Flip &Vertically", _doc_op(win, "flip", "v")))

    # Layer --------------------------------------------------------------------------------
    m = mb.addMenu("&Layer")
    m.addAction(a("layer_new", "&New Layer", lambda: c.document.add_layer(name=_next_name(c.document)),
                  "Ctrl+Shift+N"))
    m.addAction(a("layer_duplicate", "&Duplicate", _active_op(win, "duplicate_layer"), "Ctrl+J"))
    m.addAction(a("layer_delete", "De&lete", _active_op(win, "delete_layer")))
    m.addAction(a("layer_open", "&Open as Layer...", win.files.ask_open_as_layer, "Ctrl+Alt+O"))
    m.addSeparator()
    m.addAction(a("layer_up", "Raise", lambda: _move_active(win, +1), "Ctrl+]"))
    m.addAction(a("layer_down", "Lower", lambda: _move_active(win, -1), "Ctrl+["))
    m.addAction(a("merge_down", "&Merge Down", _active_op(win, "merge_down"), "Ctrl+E"))
    m.addAction(a("flatten", "&Flatten Image", _doc_op(win, "flatten")))

    # Filters (plugin tools by category) ---------------------------------------------------
    win.filters_menu = mb.addMenu("Fil&ters")  # type: ignore[attr-defined]
    rebuild_filters_menu(win)

    # View ---------------------------------------------------------------------------------
    m = mb.addMenu("&View")
    m.addAction(a("zoom_in", "Zoom &In", cv.zoom_in, [QKeySequence(SK.ZoomIn), QKeySequence("Ctrl+=")]))
    m.addAction(a("zoom_out", "Zoom &Out", cv.zoom_out, SK.ZoomOut))
    m.addAction(a("zoom_fit", "&Fit in Window", cv.fit, "Ctrl+0"))
    m.addAction(a("zoom_100", "&Actual Size (100 %)", cv.actual_size, "Ctrl+1"))
    m.addSeparator()
    theme_menu = m.addMenu("&Theme")
    tgroup = QActionGroup(win)
    for name in ("light", "dark"):
        act = a(f"theme_{name}", name.capitalize(), lambda n=name: set_theme(win, n), checkable=True)
        tgroup.addAction(act)
        theme_menu.addAction(act)
    try:
        from ganpaint.qt.theme import current_theme

        cur = current_theme(QApplication.instance())  # type: ignore[arg-type]
        if f"theme_{cur}" in win.action_map:
            win.action_map[f"theme_{cur}"].setChecked(True)
    except Exception:  # noqa: BLE001 - no theme applied yet
        pass
    m.addSeparator()
    panels = m.addMenu("&Panels")
    for dock in win.docks.values():
        panels.addAction(dock.toggleViewAction())

    # Help ---------------------------------------------------------------------------------
    m = mb.addMenu("&Help")
    m.addAction(a("welcome", "&Welcome", _dialog(win, "welcome", "show_welcome")))
    guide = a("user_guide", "&User Guide", lambda: _open_guide(win), _help_keys())
    # F1 anywhere in the application: a floating panel or an open dialog has focus too
    guide.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    m.addAction(guide)
    m.addAction(a("about", "&About GANPaint", _dialog(win, "about", "show_about", lambda: _about(win))))


def rebuild_filters_menu(win: MainWindow) -> None:
    """One entry per plugin tool, by category. A tool with something to choose (parameters,
    or a layer input besides the picture it works on) is titled "Title..." and opens its
    panel in the Tools dock without running; a tool with nothing to choose runs at once."""
    menu: QMenu = win.filters_menu  # type: ignore[attr-defined]
    menu.clear()
    for name in [n for n in win.action_map if n.startswith("run_")]:  # the previous entries
        old = win.action_map.pop(name)
        win.removeAction(old)  # no stale shortcut of a tool that went away
        old.deleteLater()
    specs = win.tool_specs()
    if not specs:
        loading = getattr(win, "plugins_loading", lambda: False)()
        act = menu.addAction("Loading plugins…" if loading else "(no plugin tools)")
        act.setEnabled(False)
        return
    by_cat: dict[str, list[Any]] = {}
    for spec in specs:
        by_cat.setdefault(spec.category or "Filters", []).append(spec)
    for cat in sorted(by_cat):
        sub = menu if len(by_cat) == 1 else menu.addMenu(cat)
        for spec in sorted(by_cat[cat], key=lambda s: s.title.lower()):
            if tool_needs_panel(spec):
                act = win.add_action(f"run_{spec.id}", spec.title + "...",
                                     lambda s=spec: show_tool_panel(win, s), tip=spec.description)
            else:
                act = win.add_action(f"run_{spec.id}", spec.title, lambda s=spec: win.run_tool(s),
                                     tip=spec.description)
            sub.addAction(act)


def tool_needs_panel(spec: Any) -> bool:
    """The tool has something to choose before it runs: parameters, or a layer input other
    than a required picture (which is the active layer): a sketch, hints, a mask, an
    optional picture ("(none)" generates)."""
    from ganpaint.core.specs import Role

    return bool(spec.params) or any(not (i.role is Role.IMAGE and i.required) for i in spec.inputs)


def show_tool_panel(win: MainWindow, spec: Any) -> None:
    """Show ``spec``'s panel in the Tools dock (the dock shown and raised, its first control
    focused) without running it: the user sets it up and presses Run."""
    panel = getattr(win, "tools_panel", None)
    dock = win.docks.get("tools")
    try:
        pp = panel.set_plugin_tool(spec.id) if panel is not None and dock is not None else None
    except KeyError:  # not offered by the panel (should not happen): nothing to set up there
        pp = None
    if pp is None or dock is None:  # the Tools panel failed to build: the defaults are all there is
        win.run_tool(spec)
        return
    dock.show()
    dock.raise_()
    win.activateWindow()
    target = _first_focusable(pp) or pp.run_button
    target.setFocus(Qt.FocusReason.ShortcutFocusReason)
    from PySide6.QtWidgets import QScrollArea

    area = pp.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is not None:
        area.ensureWidgetVisible(target)
    win.statusBar().showMessage(f"{spec.title}: set it up in the Tools panel, then press Run", 8000)


def _first_focusable(root: Any) -> Any:
    """The first widget inside ``root``, in tab order, that takes keyboard focus."""
    w = root.nextInFocusChain()
    for _ in range(1000):  # the chain is a ring; never loop for ever
        if w is None or w is root:
            return None
        if (root.isAncestorOf(w) and w.isVisibleTo(root) and w.isEnabled()
                and w.focusPolicy() & Qt.FocusPolicy.TabFocus):
            return w
        w = w.nextInFocusChain()
    return None


def set_theme(win: MainWindow, name: str) -> None:
    from ganpaint.qt.theme import apply_theme

    apply_theme(QApplication.instance(), name)  # type: ignore[arg-type]
    s = win.app_settings
    if s is not None:
        s.theme = name
        win.save_app_settings()  # a failure is logged; the theme still applies for this run
    win.canvas.update()


def _next_name(doc: Any) -> str:
    names = {layer.name for layer in doc.layers}
    i = 1
    while f"Layer {i}" in names:
        i += 1
    return f"Layer {i}"


def _move_active(win: MainWindow, step: int) -> None:
    doc = win.controller.document
    i = doc.active_index
    if doc.active_layer is None:
        return
    j = i + step
    if 0 <= j < len(doc.layers):
        doc.move_layer(i, j)


def _ask_resize(win: MainWindow, what: str) -> None:
    doc = win.controller.document
    text, ok = QInputDialog.getText(win, f"Resize {what}", "New size (width x height):",
                                    text=f"{doc.width}x{doc.height}")
    if not ok:
        return
    try:
        w, h = (int(v) for v in text.lower().replace(" ", "").split("x"))
        if what == "image":
            doc.resize_image(w, h)
        else:
            doc.resize_canvas(w, h)
    except (ValueError, TypeError) as exc:
        QMessageBox.warning(win, "Resize", f"Cannot resize to {text!r}: {exc}")


def _new_image(win: MainWindow) -> None:
    """File → New: size and background from a dialog (the last choice remembered)."""
    from ganpaint.qt.dialogs.new_image import show_new_image

    show_new_image(win)


def _help_keys() -> list[QKeySequence]:
    """The platform's Help key(s) plus F1, each once."""
    keys: list[QKeySequence] = []
    for k in [*QKeySequence.keyBindings(SK.HelpContents), QKeySequence(Qt.Key.Key_F1)]:
        if not k.isEmpty() and all(k != have for have in keys):
            keys.append(k)
    return keys


def _open_guide(win: MainWindow) -> None:
    """Help → User Guide: the bundled guide in a window of GANPaint's own (offline)."""
    from ganpaint.qt.dialogs.about import show_user_guide

    try:
        show_user_guide(win)
    except Exception as exc:  # noqa: BLE001 - a missing guide must not take the editor down
        log.exception("the user guide failed to open")
        QMessageBox.warning(win, "User Guide", f"The user guide cannot be shown: {exc}")


def _about(win: MainWindow) -> None:
    from ganpaint import __version__

    QMessageBox.about(win, "About GANPaint", f"GANPaint {__version__}\nGPL-3.0-or-later. Qt (LGPL-3.0) via PySide6.")
