"""The About box: GANPaint's version and licence, the libraries it stands on and their
licences, and the licence of every shipped model as its model card states it.

``AboutDialog(models=(), parent=None)``: ``models`` are the shipped ModelSpecs (the plugin
manager's ``models()``); each one's card (embedded in the safetensors file or beside it)
gives the licence. Versions come from package metadata, so torch is not imported.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget
from shiboken6 import isValid

from ganpaint._version import __version__

#: (name, distribution, licence, url) of what GANPaint is built on
LIBRARIES: tuple[tuple[str, str, str, str], ...] = (
    ("Qt / PySide6", "PySide6-Essentials", "LGPL-3.0", "https://www.qt.io/qt-for-python"),
    ("PyTorch", "torch", "BSD-3-Clause", "https://pytorch.org"),
    ("NumPy", "numpy", "BSD-3-Clause", "https://numpy.org"),
    ("Pillow", "pillow", "MIT-CMU (HPND)", "https://python-pillow.org"),
    ("pluggy", "pluggy", "MIT", "https://pluggy.readthedocs.io"),
    ("psygnal", "psygnal", "BSD-3-Clause", "https://psygnal.readthedocs.io"),
    ("safetensors", "safetensors", "Apache-2.0", "https://github.com/huggingface/safetensors"),
    ("platformdirs", "platformdirs", "MIT", "https://github.com/tox-dev/platformdirs"),
)


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def model_licences(models: Iterable[Any]) -> list[tuple[str, str, str]]:
    """(name, licence, source or problem) of each model, read from its card."""
    from ganpaint.engine.models.cards import card_of_file

    out = []
    for spec in models:
        name = getattr(spec, "name", str(spec))
        path = getattr(spec, "path", "")
        try:
            card = card_of_file(path)
        except Exception as exc:  # a broken card must not stop the About box
            out.append((name, "unknown", f"card unreadable: {exc}"))
            continue
        out.append((name, card.licence or "not stated in its card", card.source or getattr(spec, "plugin", "")))
    return out


def about_html(models: Iterable[Any] = ()) -> str:
    e = html.escape
    parts = [
        f"<h2>GANPaint {e(__version__)}</h2>",
        "<p>A desktop image editor whose brushes are generative adversarial networks.</p>",
        "<p>GANPaint is free software under the <b>GNU General Public License, version 3 or "
        "later</b> (GPL-3.0-or-later). It comes with no warranty.</p>",
        f"<h3>Built with</h3><p>Qt {e(qVersion())}</p><table cellspacing='4'>",
    ]
    for name, dist, licence, url in LIBRARIES:
        parts.append(
            f"<tr><td><a href='{e(url)}'>{e(name)}</a></td><td>{e(_dist_version(dist))}</td>"
            f"<td>{e(licence)}</td></tr>"
        )
    parts.append("</table><h3>Shipped models</h3>")
    rows = model_licences(models)
    if rows:
        parts.append("<table cellspacing='4'><tr><th align='left'>Model</th><th align='left'>Licence</th>"
                     "<th align='left'>Source</th></tr>")
        for name, licence, source in rows:
            parts.append(f"<tr><td>{e(name)}</td><td>{e(licence)}</td><td>{e(source)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No shipped models are installed.</p>")
    parts.append("<p>Models you import or train keep the licence of their training data and "
                 "source; see Models… for each one's card.</p>")
    return "".join(parts)


class AboutDialog(QDialog):
    def __init__(self, models: Iterable[Any] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About GANPaint")
        self.resize(560, 560)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(about_html(list(models)))
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser, 1)
        footer = QLabel("© The GANPaint developers")
        footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(footer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def text(self) -> str:
        return self.browser.toPlainText()


def show_about(win: QWidget) -> None:
    """Help → About GANPaint; shipped models come from ``win.plugin_manager.models()``."""
    manager = getattr(win, "plugin_manager", None)
    try:
        models = list(manager.models()) if manager is not None else []
    except Exception:
        models = []
    AboutDialog(models, win).exec()


#: the guide's copy inside the package, so a wheel (non-editable install) ships it;
#: tests/qt keep it identical to docs/user-guide.md
PACKAGED_GUIDE = Path(__file__).resolve().parent.parent / "resources" / "user-guide.md"


def user_guide_path() -> Path | None:
    """The user guide: docs/user-guide.md of a source checkout (the original, freshest
    while editing), else the copy shipped in the package; None when neither exists."""
    repo = Path(__file__).resolve().parents[3]
    candidate = repo / "docs" / "user-guide.md"
    if candidate.is_file() and (repo / "pyproject.toml").is_file() and (repo / "ganpaint").is_dir():
        return candidate
    return PACKAGED_GUIDE if PACKAGED_GUIDE.is_file() else None


class UserGuideDialog(QDialog):
    """The user guide (Markdown) in a browser window, non-modal."""

    def __init__(self, path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("GANPaint User Guide")
        self.resize(760, 720)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setObjectName("user_guide_browser")
        path = path if path is not None else user_guide_path()
        self.path = path
        if path is None:
            self.browser.setPlainText("The user guide (docs/user-guide.md) is not installed.")
        else:
            # pictures the guide links to (relative paths) are found beside it, offline
            self.browser.setSearchPaths([str(path.parent), str(path.parent / "images")])
            try:
                self.browser.setMarkdown(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                self.browser.setPlainText(f"The user guide '{path}' cannot be read: {exc}")
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)

    def text(self) -> str:
        return self.browser.toPlainText()


def show_user_guide(win: QWidget) -> UserGuideDialog:
    """Help → User Guide (F1): the guide in a window of its own, non-modal, beside the
    canvas. A second F1 brings the open window to the front instead of opening another."""
    dlg = getattr(win, "_user_guide_window", None)
    if dlg is None or not isValid(dlg):
        dlg = UserGuideDialog(parent=win)
        dlg.setObjectName("user_guide")
        dlg.setModal(False)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        win._user_guide_window = dlg  # type: ignore[attr-defined]
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    return dlg
