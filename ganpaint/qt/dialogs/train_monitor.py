"""The live half of the Train dialog: loss plot, sample grid, progress bar and a status
line with steps/s and ETA. ``TrainMonitor.show_progress(history, latest, grid, grid_step,
fraction, message)`` takes ``TrainControl.snapshot()`` plus the job's progress message."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from ganpaint.qt.loss_plot import LossPlot

SAMPLE_HEIGHT = 160


def fmt_time(s: float) -> str:
    s = int(max(0, s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class TrainMonitor(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = LossPlot()
        self.samples = QLabel("Samples appear every few steps")
        self.samples.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.samples.setMinimumHeight(SAMPLE_HEIGHT)
        self.samples.setToolTip("Samples from the model being trained, on a held-out picture")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._shown_grid = -1
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.samples)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

    def show_progress(self, history: list[tuple[int, dict[str, float]]], latest: dict[str, Any],
                      grid: np.ndarray | None, grid_step: int, fraction: float, message: str) -> None:
        self.plot.set_history(history)
        self.progress.setValue(int(fraction * 1000))
        if latest.get("kind") == "step":
            rate = float(latest.get("steps_per_s", 0.0))
            self.status.setText(
                f"Step {latest['step']} of {latest['total']} · {rate:.2f} steps/s · "
                f"ETA {fmt_time(float(latest.get('eta_s', 0.0)))} · "
                + " ".join(f"{k} {v:.3g}" for k, v in latest.get("losses", {}).items()))
        elif message:
            self.status.setText(message)
        if grid is not None and grid_step != self._shown_grid:
            self._shown_grid = grid_step
            self.show_grid(grid)

    def show_grid(self, grid: np.ndarray) -> None:
        from ganpaint.qt.qimage import rgba_to_qimage

        h, w = grid.shape[:2]
        rgba = np.concatenate([(np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8),
                               np.full((h, w, 1), 255, np.uint8)], axis=2)
        pix = QPixmap.fromImage(rgba_to_qimage(rgba))
        self.samples.setPixmap(pix.scaledToHeight(min(SAMPLE_HEIGHT, max(h, 64)),
                                                  Qt.TransformationMode.SmoothTransformation))
