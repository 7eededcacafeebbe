"""The Jobs panel: queued, running, paused and finished jobs with progress and a cancel button.

``JobsPanel(bridge, parent=None)``: ``bridge`` is a :class:`ganpaint.qt.bridge.JobBridge`.
Rows appear on ``jobAdded`` and follow ``jobState`` / ``jobProgress`` / ``jobFinished``.
A training job paused for an interactive one says so in its row. "Clear finished"
removes ended rows (and tells the queue to forget them).
Signal ``cancelRequested(str)`` (job id) after a row's cancel button was pressed.
A job's preview pictures (``ProgressMessage.preview``) show as the row's icon and, larger,
under the list (the selected row's, else the latest one).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ganpaint.engine.jobs import FinishedMessage, Job, JobState, ProgressMessage, StateMessage
from ganpaint.qt.icons import icon

COL_TITLE, COL_STATE, COL_PROGRESS, COL_MESSAGE, COL_CANCEL = range(5)
PREVIEW_SIZE = 160  # longest side of the preview under the list, in pixels
PAUSED_TEXT = "Training paused for an interactive job"
_STATE_TEXT = {
    JobState.QUEUED: "Queued",
    JobState.RUNNING: "Running",
    JobState.PAUSED: "Paused",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}


class _Row:
    def __init__(self, job_id: str, item: QTreeWidgetItem, bar: QProgressBar, cancel: QToolButton) -> None:
        self.job_id = job_id
        self.item = item
        self.bar = bar
        self.cancel = cancel
        self.state = JobState.QUEUED
        self.preview: QPixmap | None = None


class JobsPanel(QWidget):
    cancelRequested = Signal(str)

    def __init__(self, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.rows: dict[str, _Row] = {}
        self.tree = QTreeWidget()
        self.tree.setColumnCount(5)
        self.tree.setHeaderLabels(["Job", "", "Progress", "Message", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        # the dock is narrow: title and message share the width (elided, full text in the
        # tooltip); state, progress and cancel keep theirs, so cancel is always reachable
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_STATE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_PROGRESS, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_MESSAGE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_CANCEL, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.setColumnWidth(COL_PROGRESS, 72)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.summary = QLabel()
        self.summary.setProperty("role", "hint")
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setToolTip("Preview of the job's work so far")
        self.preview.hide()
        self._preview_job = ""
        self.tree.currentItemChanged.connect(lambda *_: self._show_preview())
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.preview)
        lay.addLayout(bottom)
        bridge.jobAdded.connect(self.add_job)
        bridge.jobState.connect(self.on_state)
        bridge.jobProgress.connect(self.on_progress)
        bridge.jobFinished.connect(self.on_finished)
        for job in self._known_jobs():
            self.add_job(job)
        self._update_summary()

    def _known_jobs(self) -> list[Job]:
        queue = getattr(self.bridge, "queue", None)
        try:
            return list(queue.jobs()) if queue is not None else []
        except Exception:
            return []

    # ------------------------------------------------------------------ rows

    def add_job(self, job: Job) -> None:
        if job.id in self.rows:
            return
        item = QTreeWidgetItem([job.title or job.kind, "", "", ""])
        item.setToolTip(COL_TITLE, f"{job.title or job.kind}: {job.kind} on the {job.lane} lane")
        self.tree.addTopLevelItem(item)
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(0)
        bar.setTextVisible(True)
        bar.setFormat("%p%")
        self.tree.setItemWidget(item, COL_PROGRESS, bar)
        cancel = QToolButton()
        cancel.setIcon(icon("cancel"))
        cancel.setToolTip("Cancel this job")
        cancel.setAutoRaise(True)
        cancel.clicked.connect(lambda _=False, jid=job.id: self.cancel(jid))
        self.tree.setItemWidget(item, COL_CANCEL, cancel)
        row = _Row(job.id, item, bar, cancel)
        self.rows[job.id] = row
        self._set_state(row, job.state)
        self._update_summary()

    def _set_state(self, row: _Row, state: JobState, reason: str = "") -> None:
        row.state = state
        # the state is an icon (its name in the tooltip): the dock is narrow, the title needs room
        row.item.setToolTip(COL_STATE, _STATE_TEXT.get(state, str(state)))
        if state is JobState.PAUSED:
            row.item.setText(COL_MESSAGE, PAUSED_TEXT)
            row.item.setToolTip(COL_MESSAGE, reason or PAUSED_TEXT)
        if state is JobState.RUNNING and row.item.text(COL_MESSAGE) == PAUSED_TEXT:
            row.item.setText(COL_MESSAGE, "Resumed")
        finished = state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
        row.cancel.setEnabled(not finished)
        row.item.setIcon(
            COL_STATE,
            icon("error") if state is JobState.FAILED else icon("cancel") if state is JobState.CANCELLED
            else icon("run") if state is JobState.RUNNING else icon("info") if state is JobState.PAUSED
            else icon("done") if state is JobState.DONE else icon("queued"),
        )

    def on_state(self, msg: StateMessage) -> None:
        row = self.rows.get(msg.job_id)
        if row is not None and not row.state.finished:
            self._set_state(row, msg.state, msg.reason)
            self._update_summary()

    def on_progress(self, msg: ProgressMessage) -> None:
        row = self.rows.get(msg.job_id)
        if row is None or row.state.finished:
            return
        row.bar.setValue(int(round(msg.fraction * 1000)))
        if msg.message and row.state is not JobState.PAUSED:
            row.item.setText(COL_MESSAGE, msg.message)
            row.item.setToolTip(COL_MESSAGE, msg.message)
        if msg.preview is not None:
            self._set_preview(row, msg.preview)
        if row.state is JobState.QUEUED:
            self._set_state(row, JobState.RUNNING)
            self._update_summary()

    def on_finished(self, msg: FinishedMessage) -> None:
        row = self.rows.get(msg.job_id)
        if row is None:
            return
        self._set_state(row, msg.state)
        if msg.state is JobState.DONE:
            row.bar.setValue(1000)
            if row.item.text(COL_MESSAGE) in ("", PAUSED_TEXT, "Resumed"):
                row.item.setText(COL_MESSAGE, "Finished")
        else:
            row.item.setText(COL_MESSAGE, msg.error or _STATE_TEXT[msg.state])
            row.item.setToolTip(COL_MESSAGE, msg.traceback or msg.error or _STATE_TEXT[msg.state])
        self._update_summary()

    # ------------------------------------------------------------------ previews

    def _set_preview(self, row: _Row, picture: Any) -> None:
        from ganpaint.qt.qimage import rgba_to_qimage

        try:
            img = rgba_to_qimage(picture)
        except (ValueError, TypeError):
            return  # a malformed preview is the plugin's problem; the row still shows progress
        pm = QPixmap.fromImage(img)
        if max(pm.width(), pm.height()) > PREVIEW_SIZE:
            pm = pm.scaled(PREVIEW_SIZE, PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
        row.preview = pm
        row.item.setIcon(COL_TITLE, QIcon(pm))
        self._preview_job = row.job_id
        self._show_preview()

    def preview_of(self, job_id: str) -> QPixmap | None:
        row = self.rows.get(job_id)
        return row.preview if row is not None else None

    def _show_preview(self) -> None:
        current = self.tree.currentItem()
        row = next((r for r in self.rows.values() if r.item is current and r.preview is not None), None)
        if row is None:
            row = self.rows.get(self._preview_job)
        if row is None or row.preview is None:
            self.preview.clear()
            self.preview.hide()
            return
        self.preview.setPixmap(row.preview)
        self.preview.show()

    def cancel(self, job_id: str) -> None:
        row = self.rows.get(job_id)
        if row is not None:
            row.cancel.setEnabled(False)
            row.item.setText(COL_MESSAGE, "Cancelling…")
        self.bridge.cancel(job_id)
        self.cancelRequested.emit(job_id)

    def clear_finished(self) -> None:
        for job_id, row in list(self.rows.items()):
            if row.state.finished:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(row.item))
                del self.rows[job_id]
                if job_id == self._preview_job:
                    self._preview_job = ""
                forget = getattr(self.bridge, "forget", None)
                if forget is not None:
                    forget(job_id)
        self._show_preview()
        self._update_summary()

    def state_of(self, job_id: str) -> JobState | None:
        row = self.rows.get(job_id)
        return row.state if row is not None else None

    def message_of(self, job_id: str) -> str:
        row = self.rows.get(job_id)
        return row.item.text(COL_MESSAGE) if row is not None else ""

    def _update_summary(self) -> None:
        active = sum(1 for r in self.rows.values() if not r.state.finished)
        self.summary.setText(f"{active} active job(s)" if active else "No active jobs")
        self.clear_button.setEnabled(any(r.state.finished for r in self.rows.values()))
