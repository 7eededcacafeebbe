"""The Welcome window: what each GAN tool does, shown once at the first start (Help > Welcome later).

One row per GAN tool of the built-in plugins (and any other loaded tool of the GAN category):
a line on what it does, a picture of what the shipped default model did on the sample photo
(made by tools/make_welcome_thumbs.py, shipped in ganpaint/qt/resources/welcome/), a short
honest note on how good that default is, and a "Try it" button that picks the tool in the
Tools panel and says in the status bar what to do next. At the bottom, "Get better models..."
opens the model catalogue (Edit > Models... > Get models...) to download published models.

``first_start(window, path)`` is the start-up hook (ganpaint.qt.app.run_gui): on the very first
start (no ``welcome_shown`` in the settings' extra values) it opens the sample photo when no
file was given, shows this window and remembers that it did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

log = logging.getLogger(__name__)

#: the picture GANPaint opens on its first start (resources/samples; credit in CREDITS.md there)
SAMPLE_NAME = "dragonfly.jpg"
#: key in Settings.extra that records that the Welcome window was shown once
SETTINGS_KEY = "welcome_shown"
THUMBS_DIR = Path(__file__).resolve().parent.parent / "resources" / "welcome"


@dataclass(frozen=True)
class ToolIntro:
    tool_id: str
    title: str
    does: str  #: one line: what the tool does
    note: str  #: how good the shipped default is (honest, short)
    how: str  #: what to do after "Try it" (status bar)


INTROS: tuple[ToolIntro, ...] = (
    ToolIntro("season", "Season transfer", "Turns a summer picture into winter, or back.",
              "The default learned its winter from synthetic renders: it frosts and greys a photo, "
              "it does not paint real snow.",
              "Season transfer: press Run in the Tools panel (Strength blends with the original)."),
    ToolIntro("inpaint", "Inpaint", "Fills the selection with something that fits around it: removes objects.",
              "The default is tiny (2 MB): it fills with a soft blur of the surroundings, no new detail.",
              "Inpaint: select the area to fill (Lasso or Ellipse select), then press Run in the Tools panel."),
    ToolIntro("sketch", "Sketch to image",
              "Colours a line drawing; a few dots of colour on a hints layer steer the colours.",
              "The default learned from clip-art at 128 px: blotchy colours, best on simple drawings "
              "about 150 px across. The drawing here was made for the demo.",
              "Sketch to image: add a layer, set its Kind to Sketch (Layers panel), draw dark lines on it, "
              "then press Run in the Tools panel."),
    ToolIntro("stylemix", "Style mixing",
              "Mixes two GAN pictures: coarse styles move the layout, fine ones the colours. "
              "It can also rebuild (invert) your picture first.",
              "The default draws 64 px procedural landscapes: blurry, and a photo comes back only roughly.",
              "Style mixing: press Run for a mix of two seeds, or pick your photo as the picture to invert."),
    ToolIntro("faces", "Face attribute sliders",
              "Makes a face (or rebuilds yours) and moves it along sliders: smile, age, glasses, background...",
              "The sample is no face, so this one is generated. The default draws 64 px cartoon faces; "
              "several sliders change little, background and lightness show best.",
              "Face attribute sliders: press Run for a face, then move the sliders in the Tools panel."),
    ToolIntro("translate", "Translate",
              "Runs an image-to-image GAN on the picture (horse to zebra, photo to Monet, labels to facade...).",
              "No model ships for it: import a pix2pix or CycleGAN generator first (Get better models...).",
              "Translate: import a model with Edit > Models..., choose it in the Tools panel, then press Run."),
)

HEADER = (
    "<h2>Welcome to GANPaint</h2>"
    "<p>GANPaint is a layer-based image editor whose special tools are small GANs (neural networks "
    "that make pictures). Each tool below puts its result on a new layer, so the original stays "
    "and you can compare, blend or undo. The pictures show what each tool's default model did "
    "to the sample photo.</p>"
)
FOOTER = (
    "<p><b>The models that come with GANPaint are small</b> and were trained on a few thousand "
    "pictures on an ordinary computer: expect rough, soft results. Better models: "
    "<b>Get better models...</b> below downloads the published CycleGAN, pix2pix, StyleGAN, LaMa, "
    "Real-ESRGAN and GFPGAN models (Edit &gt; Models... &gt; Get models...).</p>"
    "<p><small>Sample photo: <i>Dragonfly</i> by Bolly, CC BY-SA 4.0, from Debian's "
    "lomiri-wallpapers (resources/samples/CREDITS.md).</small></p>"
)


def sample_path() -> Path:
    """The sample photo (opened on the first start and by ``make run``)."""
    from ganpaint.core.paths import resources_dir

    return resources_dir() / "samples" / SAMPLE_NAME


def thumbnail_path(tool_id: str) -> Path:
    return THUMBS_DIR / f"{tool_id}.png"


def _intros_for(specs: list[Any]) -> list[tuple[ToolIntro, Any]]:
    """(intro, spec or None) for the built-in GAN tools in INTROS order, then any other
    loaded tool of the GAN category (its title and description)."""
    by_id = {s.id: s for s in specs}
    out = [(intro, by_id.get(intro.tool_id)) for intro in INTROS]
    known = {i.tool_id for i in INTROS}
    for spec in specs:
        if spec.id not in known and (spec.category or "").upper() == "GAN":
            desc = (spec.description or spec.title).split(". ")[0].rstrip(".") + "."
            out.append((ToolIntro(spec.id, spec.title, desc, f"From the plugin '{spec.plugin or '?'}'.",
                                  f"{spec.title}: set it up in the Tools panel, then press Run."), spec))
    return out


class WelcomeDialog(QDialog):
    """Non-modal. ``try_buttons[tool_id]`` and ``models_button`` are the clickable parts."""

    tryRequested = Signal(str)
    modelsRequested = Signal()

    def __init__(self, specs: list[Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setWindowTitle("Welcome to GANPaint")
        self.setModal(False)
        self.resize(780, 700)
        self.try_buttons: dict[str, QPushButton] = {}
        self.thumbnails: dict[str, QLabel] = {}

        header = QLabel(HEADER)
        header.setWordWrap(True)
        header.setTextFormat(Qt.TextFormat.RichText)

        rows = QWidget()
        grid = QGridLayout(rows)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(0, 1)
        for n, (intro, spec) in enumerate(_intros_for(list(specs or []))):
            block = QVBoxLayout()
            block.setSpacing(4)
            text = QLabel(f"<b>{intro.title}</b>: {intro.does}<br><small><i>{intro.note}</i></small>")
            text.setWordWrap(True)
            text.setTextFormat(Qt.TextFormat.RichText)
            text.setObjectName(f"welcome_text_{intro.tool_id}")
            block.addWidget(text)
            block.addWidget(self._thumbnail(intro), 0, Qt.AlignmentFlag.AlignLeft)
            grid.addLayout(block, 2 * n, 0)
            button = QPushButton("Try it")
            button.setObjectName(f"welcome_try_{intro.tool_id}")
            if spec is None:
                button.setEnabled(False)
                button.setToolTip("Its plugin is not loaded (Edit > Plugins... says why).")
            else:
                button.setToolTip(f"Pick {intro.title} in the Tools panel")
                button.clicked.connect(lambda _=False, t=intro.tool_id: self.tryRequested.emit(t))
            self.try_buttons[intro.tool_id] = button
            grid.addWidget(button, 2 * n, 1, Qt.AlignmentFlag.AlignTop)
            line = QFrame()
            line.setFrameShape(QFrame.Shape.HLine)
            line.setFrameShadow(QFrame.Shadow.Sunken)
            grid.addWidget(line, 2 * n + 1, 0, 1, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(rows)

        footer = QLabel(FOOTER)
        footer.setWordWrap(True)
        footer.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.models_button = buttons.addButton("Get better models...", QDialogButtonBox.ButtonRole.ActionRole)
        self.models_button.setObjectName("welcome_models")
        self.models_button.setToolTip("Edit > Models... > Get models...: download published CycleGAN, pix2pix, "
                                      "StyleGAN, inpainting and upscaling models")
        self.models_button.clicked.connect(self.modelsRequested)
        buttons.rejected.connect(self.close)

        lay = QVBoxLayout(self)
        lay.addWidget(header)
        lay.addWidget(scroll, 1)
        lay.addWidget(footer)
        lay.addWidget(buttons)

    def _thumbnail(self, intro: ToolIntro) -> QLabel:
        label = QLabel()
        label.setObjectName(f"welcome_thumb_{intro.tool_id}")
        path = thumbnail_path(intro.tool_id)
        pix = QPixmap(str(path)) if path.is_file() else QPixmap()
        if pix.isNull():
            label.setText("(no picture: needs a model)" if intro.tool_id == "translate" else "(no picture)")
            label.setProperty("role", "hint")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        else:
            label.setPixmap(pix)
            label.setToolTip(f"{intro.title} on the sample photo, with the default model")
        self.thumbnails[intro.tool_id] = label
        return label


def try_tool(win: Any, tool_id: str) -> bool:
    """Pick ``tool_id`` in the window's Tools panel, bring the panel forward and say what to do."""
    panel = getattr(win, "tools_panel", None)
    if panel is None:
        return False
    try:
        panel.set_plugin_tool(tool_id)
    except KeyError:
        win.statusBar().showMessage(f"The tool {tool_id!r} is not loaded (Edit > Plugins...).", 8000)
        return False
    dock = getattr(win, "docks", {}).get("tools")
    if dock is not None:
        dock.show()
        dock.raise_()
    intro = next((i for i in INTROS if i.tool_id == tool_id), None)
    if intro is not None:
        win.statusBar().showMessage(intro.how, 20000)
    return True


def _open_models(win: Any) -> None:
    """"Get better models...": the catalogue view (Edit > Models... > Get models...)."""
    from ganpaint.qt.dialogs.get_models import show_get_models

    show_get_models(win)


def show_welcome(win: Any) -> WelcomeDialog:
    """Help > Welcome: one non-modal window per main window, brought to the front."""
    dlg = getattr(win, "_welcome_window", None)
    if dlg is None or not isValid(dlg):
        specs = win.tool_specs() if hasattr(win, "tool_specs") else []
        dlg = WelcomeDialog(specs, win)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.tryRequested.connect(lambda tool_id: try_tool(win, tool_id))
        dlg.modelsRequested.connect(lambda: _open_models(win))
        win._welcome_window = dlg
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    return dlg


def is_first_start(settings: Any) -> bool:
    """True until the Welcome window was shown once (False without settings: nothing to remember it in)."""
    if settings is None:
        return False
    extra = getattr(settings, "extra", None)
    return isinstance(extra, dict) and not extra.get(SETTINGS_KEY)


def first_start(win: Any, path: str | None = None) -> bool:
    """The start-up hook: on the first start open the sample photo (when no file was given and
    nothing else is open) and show the Welcome window. True when it did."""
    settings = getattr(win, "app_settings", None)
    if not is_first_start(settings):
        return False
    settings.extra[SETTINGS_KEY] = True
    save = getattr(win, "save_app_settings", None)
    if callable(save):
        save()  # logged, not raised, on failure: the window then shows again next time
    controller = getattr(win, "controller", None)
    untouched = controller is not None and controller.path is None and not controller.modified
    sample = sample_path()
    if not path and untouched and sample.is_file():
        try:
            win.open_path(str(sample))
        except Exception as exc:  # noqa: BLE001 - the welcome must never stop the start
            log.warning("the sample photo did not open: %s", exc)
    show_welcome(win)
    return True


__all__ = ["INTROS", "SAMPLE_NAME", "SETTINGS_KEY", "ToolIntro", "WelcomeDialog", "first_start",
           "is_first_start", "sample_path", "show_welcome", "try_tool"]
