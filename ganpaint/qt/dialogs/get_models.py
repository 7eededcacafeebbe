"""Get models: the model catalogue by tool, with size, licence and "installed", and downloads.

``GetModelsDialog(store, bridge, catalogue=None, parent=None)``: ``store`` is the model store,
``bridge`` the window's :class:`ganpaint.qt.bridge.JobBridge` (its queue runs the download as
a background job with progress and cancel; see ``ganpaint.engine.models.downloads``), ``catalogue``
a :class:`ganpaint.engine.models.catalogue.Catalogue` (default: the built-in one, or
``$GANPAINT_CATALOGUE``). A model under non-commercial terms is downloaded only after the
licence dialog was accepted.

The download runs on the training lane (so it does not hold up tool runs), or on the
interactive lane when a training run is busy (so it does not wait for hours).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.qt.icons import icon

COLUMNS = ("Model", "Size", "Licence", "Installed")
TOOL_TITLES = {
    "season": "Season transfer",
    "translate": "Translate (pix2pix / CycleGAN)",
    "sketch": "Sketch to image",
    "stylemix": "Style mixing",
    "faces": "Faces",
    "inpaint": "Inpaint",
    "upscale": "Upscale",
    "restore_faces": "Restore faces",
    "restore": "Restore",
}
ID_ROLE = Qt.ItemDataRole.UserRole


class GetModelsDialog(QDialog):
    """Signals: ``storeChanged()`` after a model was imported; ``downloadFinished(ok, message)``."""

    storeChanged = Signal()
    downloadFinished = Signal(bool, str)

    def __init__(self, store: Any, bridge: Any, catalogue: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self.setWindowTitle("Get Models")
        self.setWindowIcon(icon("model"))
        self.resize(900, 520)
        self.job: Any = None
        self._job_entry: Any = None
        #: ids of the models imported while the dialog was open
        self.imported: list[str] = []
        self._problem = ""
        self.catalogue = catalogue
        if self.catalogue is None:
            try:
                from ganpaint.engine.models.catalogue import load_catalogue

                self.catalogue = load_catalogue()
            except Exception as exc:  # a broken GANPAINT_CATALOGUE must not break the dialog
                self._problem = f"The model catalogue could not be read: {exc}"

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            self.tree.header().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.download_selected())

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setOpenExternalLinks(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setProperty("role", "hint")
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("get_models_download")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_download)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        row.addWidget(close)
        lay = QVBoxLayout(self)
        intro = QLabel(
            "Published models, by tool. They are downloaded from their authors' servers, checked against "
            "their published hash where one exists, and imported like Models… > Import. Read each licence: "
            "some allow only non-commercial use."
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.details)
        lay.addWidget(self.status)
        lay.addLayout(row)

        if bridge is not None:
            bridge.jobProgress.connect(self._on_progress)
            bridge.jobFinished.connect(self._on_finished)
        self.refresh()

    # ------------------------------------------------------------------ list

    def installed(self) -> set[str]:
        from ganpaint.engine.models.catalogue import installed_ids

        if self.store is None:
            return set()
        try:
            return installed_ids(self.store.list())
        except Exception:
            return set()

    def refresh(self) -> None:
        current = self.selected_id()
        self.tree.clear()
        entries = list(self.catalogue.entries) if self.catalogue is not None else []
        have = self.installed()
        tools: list[str] = []
        for e in entries:
            for t in e.tools:
                if t not in tools:
                    tools.append(t)
        tools.sort(key=lambda t: list(TOOL_TITLES).index(t) if t in TOOL_TITLES else len(TOOL_TITLES))
        for tool in tools:
            group = QTreeWidgetItem([TOOL_TITLES.get(tool, tool)])
            group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            group.setData(0, ID_ROLE, None)
            self.tree.addTopLevelItem(group)
            for e in entries:
                if tool not in e.tools:
                    continue
                item = QTreeWidgetItem([e.title, e.size_text(), e.licence_text(), "yes" if e.id in have else ""])
                item.setData(0, ID_ROLE, e.id)
                tip = f"{e.description}\nTrained on: {e.training_data}\nSource: {e.source}"
                for c in range(len(COLUMNS)):
                    item.setToolTip(c, tip)
                group.addChild(item)
            group.setExpanded(True)
        if self._problem:
            self.status.setText(self._problem)
        elif self.job is None:
            self.status.setText(f"{len(entries)} published model(s); {len(have & {e.id for e in entries})} installed.")
        if current:
            self.select_id(current)
        self._selection_changed()

    def entry(self, entry_id: str) -> Any:
        for e in self.catalogue.entries if self.catalogue is not None else ():
            if e.id == entry_id:
                return e
        return None

    def selected_id(self) -> str:
        item = self.tree.currentItem()
        value = item.data(0, ID_ROLE) if item is not None else None
        return str(value) if value else ""

    def select_id(self, entry_id: str) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                child = group.child(j)
                if child.data(0, ID_ROLE) == entry_id:
                    self.tree.setCurrentItem(child)
                    return True
        return False

    def listed_ids(self, tool: str | None = None) -> list[str]:
        """The ids shown (under ``tool``'s group when given), in order."""
        out: list[str] = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if tool is not None and group.text(0) != TOOL_TITLES.get(tool, tool):
                continue
            out += [str(group.child(j).data(0, ID_ROLE)) for j in range(group.childCount())]
        return out

    def _selection_changed(self) -> None:
        e = self.entry(self.selected_id())
        if e is None:
            self.details.setText("Choose a model to see where it comes from and its licence.")
        else:
            lic = e.licence_name or e.licence
            link = f' (<a href="{e.licence_url}">licence text</a>)' if e.licence_url else ""
            nc = " <b>Non-commercial use only.</b>" if e.non_commercial else ""
            self.details.setText(
                f"<b>{_esc(e.title)}</b>: {_esc(e.description)}<br>Trained on {_esc(e.training_data)}"
                f"{' (' + _esc(e.data_licence) + ')' if e.data_licence else ''}.<br>Licence: {_esc(lic)}{link}.{nc}"
                f"<br>Source: {_esc(e.source)}"
            )
        busy = self.job is not None
        self.download_button.setEnabled(e is not None and not busy and self.store is not None and self.bridge is not None)
        self.cancel_button.setEnabled(busy)

    # ------------------------------------------------------------------ download

    def confirm_licence(self, entry: Any) -> bool:
        """Ask before a non-commercial download; True when the person accepts the terms."""
        answer = QMessageBox.question(
            self,
            "Licence",
            f"“{entry.title}” is under {entry.licence_name or entry.licence}"
            f"{' (' + entry.licence_url + ')' if entry.licence_url else ''}.\n\n"
            "It may be used only for non-commercial purposes (research, personal work), and pictures made "
            "with it carry the same restriction. Do you accept these terms and download it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def download_selected(self) -> bool:
        entry_id = self.selected_id()
        return self.download(entry_id) if entry_id else False

    def download(self, entry_id: str) -> bool:
        """Start downloading ``entry_id`` as a background job; False when nothing started."""
        entry = self.entry(entry_id)
        if entry is None or self.job is not None or self.store is None or self.bridge is None:
            return False
        if entry.non_commercial and not self.confirm_licence(entry):
            self.status.setText(f"{entry.title} was not downloaded: its licence was not accepted.")
            return False
        from ganpaint.engine.jobs import INTERACTIVE, TRAINING, Job

        store = self.store

        def work(inputs: Any, ctx: Any) -> str:
            from ganpaint.core.errors import GanpaintError
            from ganpaint.core.specs import JobCancelled, ToolError
            from ganpaint.engine.models import downloads

            def progress(done: int, total: int | None, message: str) -> None:
                amount = f"{done / total:.0%}" if total else f"{done / 1048576:.1f} MB"
                ctx.progress(done / total if total else 0.0, f"{message}: {amount}")

            try:
                result = downloads.install(entry, store, accept_licence=True, progress=progress, cancel=ctx.cancelled)
            except downloads.DownloadCancelled:
                raise JobCancelled() from None
            except GanpaintError as exc:
                raise ToolError(str(exc)) from None
            return str(result.report)

        queue = getattr(self.bridge, "queue", None)
        lanes = getattr(queue, "lanes", (TRAINING,))
        lane = TRAINING if TRAINING in lanes else INTERACTIVE
        if lane == TRAINING and queue is not None and hasattr(queue, "busy") and queue.busy(TRAINING):
            lane = INTERACTIVE
        job = Job(kind="download-model", lane=lane, fn=work, inputs={"id": entry.id}, key=f"download:{entry.id}",
                  title=f"Download {entry.title}")
        self.job, self._job_entry = job, entry
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText(f"Downloading {entry.title}…")
        self._selection_changed()
        self.bridge.submit(job)
        return True

    def cancel_download(self) -> None:
        if self.job is not None and self.bridge is not None:
            self.status.setText("Cancelling… (the part already received is kept for next time)")
            self.bridge.cancel(self.job.id)

    def _on_progress(self, msg: Any) -> None:
        if not isValid(self) or self.job is None or msg.job_id != self.job.id:
            return
        self.progress.setValue(int(msg.fraction * 1000))
        if msg.message:
            self.status.setText(msg.message)

    def _on_finished(self, msg: Any) -> None:
        if not isValid(self) or self.job is None or msg.job_id != self.job.id:
            return
        from ganpaint.engine.jobs import JobState

        entry, self.job, self._job_entry = self._job_entry, None, None
        self.progress.setVisible(False)
        if hasattr(self.bridge, "forget"):
            self.bridge.forget(msg.job_id)
        if msg.state == JobState.DONE:
            text = f"{entry.title} is installed; choose it in the {', '.join(entry.tools)} tool's model list."
            ok = True
        elif msg.state == JobState.CANCELLED:
            text = f"Download of {entry.title} cancelled; nothing was imported (a later download resumes it)."
            ok = False
        else:
            text = msg.error or f"Download of {entry.title} failed."
            ok = False
        self.refresh()
        self.status.setText(text)
        if ok:
            self.imported.append(entry.id)
            self.select_id(entry.id)
            self.storeChanged.emit()
        self.downloadFinished.emit(ok, text)

    def done(self, result: int) -> None:  # closing while downloading: the job goes on in the queue
        if self.bridge is not None:
            for sig, slot in ((self.bridge.jobProgress, self._on_progress), (self.bridge.jobFinished, self._on_finished)):
                try:
                    sig.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        super().done(result)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def show_get_models(win: QWidget, store: Any = None) -> GetModelsDialog:
    """Edit > Models… > Get models… (and the Welcome window's button) for a main window with
    ``model_store`` and ``bridge``; returns the dialog after it closed."""
    store = store if store is not None else getattr(win, "model_store", None)
    bridge = getattr(win, "bridge", None)
    dlg = GetModelsDialog(store, bridge, parent=win)
    panel = getattr(win, "tools_panel", None)
    if panel is not None and hasattr(panel, "refresh_models"):
        dlg.storeChanged.connect(panel.refresh_models)
    dlg.exec()
    return dlg
