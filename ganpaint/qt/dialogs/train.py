"""Edit > Train…: fine-tune a GAN tool's model on the user's own pictures.

``TrainDialog(store, bridge, ...)``: the form (train_form.TrainForm), "Check data" (runs
``engine.jobs.finetune.check_data`` in a thread; Start stays disabled until the check of the
current settings passed), then a job on the engine's TRAINING lane with a live loss plot,
the sample grid, steps/s and ETA, Pause / Resume / Cancel. Stopped runs in the runs
folder are listed and can be resumed (also after a restart). When a run is done its model
is stored as a new version (``modelStored(ref)``) and "Compare A/B" runs the tool with the
base and the new model on the current picture (two result layers, via ``compare``).
A StyleGAN2 run then recomputes the faces sliders' directions in the same job ("recomputing
slider directions…"; Pause is off, Cancel stops only that); the status says whether they
were, and a failure there is a warning: the model stays stored.
One training at a time: a second Start while one runs is refused with a message.
On a machine with several GPUs a "GPUs" box appears: more than 1 starts the run as
``torchrun --nproc_per_node=N -m ganpaint train ...`` (``engine.jobs.finetune.torchrun_command``)
in a QProcess; its progress bar and "stored as" line are read from its output, Pause and
Cancel send SIGTERM (every process writes the checkpoint and stops), and the stopped run
resumes from 'Stopped runs' on one GPU.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ganpaint.engine.jobs import FinishedMessage, JobState, ProgressMessage, StateMessage
from ganpaint.engine.jobs import finetune as ft
from ganpaint.qt.dialogs.train_form import TrainForm
from ganpaint.qt.dialogs.train_monitor import TrainMonitor

Compare = Callable[[str, str, str], None]  # (tool id, base model ref, new model ref)


_PROGRESS = re.compile(r"(\d+)/(\d+) \[")
_STORED = re.compile(r"stored as (\S+@\d+)")


def local_gpu_count() -> int:
    """CUDA devices for a multi-GPU run: 0 unless the NVIDIA driver lists at least two (Linux:
    NCCL needs it), so opening the dialog imports torch only on such machines."""
    try:
        if sum(1 for _ in Path("/proc/driver/nvidia/gpus").iterdir()) < 2:
            return 0
    except OSError:
        return 0
    from ganpaint.engine.inference.devices import cuda_device_count

    return cuda_device_count()


def _clean(error: str) -> str:
    for prefix in ("FinetuneError: ", "TrainError: "):
        if error.startswith(prefix):
            return error[len(prefix):]
    return error


class TrainDialog(QDialog):
    modelStored = Signal(str)  # "name@v"
    stateChanged = Signal(str)  # idle | checking | running | paused | done | cancelled | failed

    def __init__(self, store: Any, bridge: Any, *, recipe_resolver: ft.RecipeResolver | None = None,
                 available_recipes: Iterable[str] = (), compare: Compare | None = None,
                 runs_root: str | None = None, device: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model on your pictures")
        self.store, self.bridge = store, bridge
        self.resolver, self.available = recipe_resolver, tuple(available_recipes)
        self.compare, self.runs_root, self.device = compare, runs_root, device
        fams = ft.families()  # no torch import: the dialog opens fast
        self.form = TrainForm(store, fams, self)
        self.report_view = QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setPlaceholderText("Check the data to see what training will use.")
        self.report: ft.DataReport | None = None
        self._report_key: Any = None  # settings of the last check that passed
        self._shown_key: Any = None  # settings of the report on show
        self.check_button = QPushButton("Check data")
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel training")
        self.compare_button = QPushButton("Compare A/B")
        self.close_button = QPushButton("Close")
        self.runs = QComboBox()
        self.resume_run_button = QPushButton("Resume run")
        gpus = local_gpu_count()
        self.gpus = QSpinBox()
        self.gpus.setRange(1, max(1, gpus))
        self.gpus.setValue(max(1, gpus))
        self.gpus.setToolTip("More than 1: one training process per GPU (torchrun); the batch is shared")
        self._process: QProcess | None = None
        self._process_log = ""
        self._process_stop = False
        self._launch_info: ft.DistributedLaunch | None = None
        self.monitor = TrainMonitor()
        m = self.monitor
        self.plot, self.samples, self.progress, self.status = m.plot, m.samples, m.progress, m.status

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(self.check_button)
        self.gpus_label = QLabel("GPUs")
        row.addWidget(self.gpus_label)
        row.addWidget(self.gpus)
        row.addWidget(self.start_button)
        lv.addLayout(row)
        self.gpus_label.setVisible(gpus > 1)
        self.gpus.setVisible(gpus > 1)
        lv.addWidget(self.report_view, 1)
        runs_row = QHBoxLayout()
        runs_row.addWidget(QLabel("Stopped runs"))
        runs_row.addWidget(self.runs, 1)
        runs_row.addWidget(self.resume_run_button)
        lv.addLayout(runs_row)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(self.monitor, 1)
        ctl = QHBoxLayout()
        for b in (self.pause_button, self.resume_button, self.cancel_button, self.compare_button):
            ctl.addWidget(b)
        rv.addLayout(ctl)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        lay.addLayout(bottom)

        self.job: Any = None
        self.control: ft.TrainControl | None = None
        self.run_dir: str = ""
        self.outcome: ft.FinetuneOutcome | None = None
        self.state = "idle"
        self._checking = False
        self._preferred_for: Any = None  # (tool, model) show_train last started from
        self.form.changed.connect(self._invalidate_check)
        self.check_button.clicked.connect(self.check_data)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        self.compare_button.clicked.connect(self.compare_ab)
        self.resume_run_button.clicked.connect(self.resume_selected_run)
        self.close_button.clicked.connect(self.close)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(30)
        self._poll_timer.timeout.connect(self._poll_check)
        bridge.jobProgress.connect(self._on_progress)
        bridge.jobState.connect(self._on_state)
        bridge.jobFinished.connect(self._on_finished)
        self.refresh_runs()
        self._set_state("idle")
        self.resize(980, 640)

    # ------------------------------------------------------------------ data check
    def _key(self) -> Any:
        r = self.form.request()
        return (r.family, r.folders, r.preset, r.size)

    def _invalidate_check(self) -> None:
        if self._shown_key is not None and self._shown_key != self._key():
            self._report_key = self._shown_key = None
            self.report_view.setPlainText("The settings changed: check the data again.")
        self._update_buttons()

    def check_data(self) -> None:
        if self._checking:
            return
        req = self.form.request()
        key = self._key()
        self._checking = True
        self.report_view.setPlainText("Checking the pictures…")
        self._update_buttons()

        box: list[Any] = []

        def work() -> None:
            try:
                rep: Any = ft.check_data(req.folders, req.family, preset=req.preset, size=req.size)
            except Exception as exc:  # noqa: BLE001 - shown in the dialog
                rep = f"{type(exc).__name__}: {exc}"
            box.append(rep)

        # the thread touches no Qt object: a timer on the GUI thread collects its answer
        # (emitting Qt signals from a plain Python thread crashed at teardown in tests)
        thread = threading.Thread(target=work, name="ganpaint-check-data", daemon=True)
        self._check_poll = (thread, box, key)
        thread.start()
        self._poll_timer.start()

    def _poll_check(self) -> None:
        thread, box, key = self._check_poll
        if thread.is_alive() and not box:
            return
        self._poll_timer.stop()
        self._on_checked(key, box[0] if box else "the check stopped unexpectedly")

    def _on_checked(self, key: Any, rep: Any) -> None:
        self._checking = False
        if isinstance(rep, str):
            self.report, self._report_key = None, None
            self.report_view.setPlainText(f"The check failed: {_clean(rep)}")
        else:
            self.report = rep
            self._report_key = key if rep.ok else None
            self._shown_key = key
            self.report_view.setPlainText(rep.summary())
        self._update_buttons()

    # ------------------------------------------------------------------ training
    def _busy(self) -> bool:
        return self.state == "running"

    def start(self) -> None:
        if self._busy():
            QMessageBox.warning(self, "Training", "A training run is already going in this dialog.")
            return
        if self._report_key is None or self._report_key != self._key():
            QMessageBox.information(self, "Training", "Check the data first.")
            return
        if self.gpus.isVisible() and self.gpus.value() > 1:
            self._start_distributed(self.gpus.value())
            return
        try:
            job, control = ft.make_finetune_job(
                self.form.request(), store=self.store, queue=self.bridge.queue, resolver=self.resolver,
                available_recipes=self.available, device=self.device, runs_root=self.runs_root)
        except (ft.FinetuneError, Exception) as exc:  # noqa: BLE001 - bad model/options: say so
            QMessageBox.warning(self, "Training", _clean(str(exc)))
            return
        self.plot.set_history([])
        self._launch(job, control, str(job.inputs["run_dir"]))

    def _launch(self, job: Any, control: ft.TrainControl, run_dir: str) -> None:
        self.job, self.control, self.run_dir, self.outcome = job, control, run_dir, None
        self.plot.set_history(control.history)
        self.status.setText("Starting…")
        self._set_state("running")
        self.bridge.submit(job)

    # ------------------------------------------------------------------ several GPUs (torchrun)
    def _start_distributed(self, gpus: int) -> None:
        try:
            launch = ft.torchrun_command(self.form.request(), gpus=gpus, store=self.store, resolver=self.resolver,
                                         available_recipes=self.available, runs_root=self.runs_root)
        except (ft.FinetuneError, Exception) as exc:  # noqa: BLE001 - bad model/options: say so
            QMessageBox.warning(self, "Training", _clean(str(exc)))
            return
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.readyReadStandardOutput.connect(self._on_process_output)
        proc.finished.connect(self._on_process_finished)
        self._process, self._process_log, self._process_stop = proc, "", False
        self._launch_info, self.job, self.control, self.outcome = launch, None, None, None
        self.run_dir = launch.run_dir
        self.plot.set_history([])
        self.status.setText(f"Starting {gpus} training processes (one per GPU)…")
        self._set_state("running")
        proc.start(launch.command[0], list(launch.command[1:]))

    def _on_process_output(self) -> None:
        proc = self._process
        if proc is None:
            return
        text = bytes(proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        self._process_log = (self._process_log + text)[-20_000:]
        found = _PROGRESS.findall(text)
        if found and not self._process_stop:
            done, total = (int(v) for v in found[-1])
            self.progress.setValue(int(1000 * done / max(total, 1)))
            self.status.setText(f"Training on {self.gpus.value()} GPUs: step {done} of {total}")

    def _stop_process(self, what: str) -> None:
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            self._process_stop = True
            self.status.setText(f"{what}: every GPU stops after its current step and writes a checkpoint…")
            self._process.terminate()  # SIGTERM to torchrun, which passes it on to every process

    def _on_process_finished(self, code: int, status: Any = None) -> None:
        self._on_process_output()
        log, launch = self._process_log, self._launch_info
        self._process = None
        stored = _STORED.findall(log)
        if code == 0 and stored:
            self.status.setText(f"Done: stored as {stored[-1]} (trained on {self.gpus.value()} GPUs).")
            self.progress.setValue(1000)
            self._set_state("done")
            self.modelStored.emit(stored[-1])
        elif self._process_stop:
            where = launch.run_dir if launch is not None else self.run_dir
            self.status.setText(f"Stopped with a checkpoint in {where}; resume it from 'Stopped runs'.")
            self._set_state("cancelled")
        else:
            lines = [ln for ln in log.splitlines() if ln.startswith("ganpaint: error:")]
            error = lines[-1][len("ganpaint: error:"):].strip() if lines else f"the training processes ended with {code}"
            self.status.setText(f"Training stopped: {error}")
            self._set_state("failed")
        self.refresh_runs()

    def _directions_phase(self) -> bool:
        return self._busy() and self.control is not None and self.control.phase == "directions"

    def pause(self) -> None:
        if self._process is not None:
            self._stop_process("Pausing")
            return
        if self.control is not None and self._busy() and not self._directions_phase():
            self.control.pause()
            self.status.setText("Pausing after the current step (writing a checkpoint)…")
            self.pause_button.setEnabled(False)

    def resume(self) -> None:
        if self.run_dir:
            self._resume_run(self.run_dir)

    def resume_selected_run(self) -> None:
        run = self.runs.currentData()
        if run:
            self._resume_run(str(run))

    def _resume_run(self, run_dir: str) -> None:
        if self._busy():
            QMessageBox.warning(self, "Training", "A training run is already going; pause or cancel it first.")
            return
        try:
            job, control = ft.resume_job(run_dir, store=self.store, queue=self.bridge.queue, resolver=self.resolver,
                                         available_recipes=self.available, device=self.device)
        except ft.FinetuneError as exc:
            QMessageBox.warning(self, "Training", str(exc))
            return
        self._launch(job, control, run_dir)

    def cancel(self) -> None:
        if self._process is not None:
            self._stop_process("Cancelling")
            return
        if self.job is not None and self._directions_phase():
            self.status.setText("Stopping the slider directions; the trained model stays stored…")
            self.bridge.cancel(self.job.id)
        elif self.job is not None and self._busy():
            self.status.setText("Cancelling after the current step (the checkpoint is kept)…")
            self.bridge.cancel(self.job.id)
        elif self.state == "paused":
            self.status.setText(f"Cancelled. The run stays in {self.run_dir} and can be resumed from 'Stopped runs'.")
            self._set_state("cancelled")

    def compare_ab(self) -> None:
        o = self.outcome
        if o is None or not o.model_ref:
            return
        if self.compare is None:
            QMessageBox.information(self, "Compare", "Open a picture in the editor to compare the models.")
            return
        self.compare(o.tool, o.base_model, o.model_ref)

    # ------------------------------------------------------------------ job events
    def _mine(self, job_id: str) -> bool:
        return self.job is not None and job_id == self.job.id

    def _on_progress(self, msg: ProgressMessage) -> None:
        if not self._mine(msg.job_id) or self.control is None:
            return
        self.monitor.show_progress(*self.control.snapshot(), msg.fraction, msg.message)
        if self.control.phase == "directions":
            self._update_buttons()  # the model is stored: nothing left to pause

    def _on_state(self, msg: StateMessage) -> None:
        if not self._mine(msg.job_id):
            return
        if msg.state is JobState.PAUSED:
            self.status.setText("Waiting: an interactive tool job runs first; training continues after it.")
        elif msg.state is JobState.RUNNING and msg.reason:
            self.status.setText("Training continues.")

    def _on_finished(self, msg: FinishedMessage) -> None:
        if not self._mine(msg.job_id):
            return
        step = 0
        if self.control is not None:
            history, latest, _, _ = self.control.snapshot()
            self.plot.set_history(history)
            step = latest.get("step", 0)
        if hasattr(self.bridge, "forget"):
            self.bridge.forget(msg.job_id)
        if msg.state is JobState.DONE and isinstance(msg.result, ft.FinetuneOutcome):
            o = self.outcome = msg.result
            if o.kind == "paused":
                self.status.setText(f"Paused at step {o.step} of {o.total}. Resume continues from the checkpoint.")
                self._set_state("paused")
            else:
                self._stored(o)
        elif self.control is not None and self.control.stored is not None:
            # stopped after the model was stored, while its slider directions were recomputed
            why = "cancelled" if msg.state is JobState.CANCELLED else _clean(msg.error or "failed")
            stored = self.control.stored
            self.outcome = replace(stored, directions_error=stored.directions_error or why)
            self._stored(self.outcome, warn=msg.state is not JobState.CANCELLED)
        elif msg.state is JobState.CANCELLED:
            self.status.setText(f"Cancelled at step {step}; nothing was stored. The checkpoint stays in "
                                f"{self.run_dir} and can be resumed from 'Stopped runs'.")
            self._set_state("cancelled")
        else:
            error = _clean(msg.error or "training failed")
            self.status.setText(f"Training stopped: {error}")
            self._set_state("failed")
            QMessageBox.warning(self, "Training stopped", f"{error}\n\nThe last checkpoint, if any, is kept in "
                                f"{self.run_dir}.")
        self.job = None if self.state != "running" else self.job
        self.refresh_runs()

    def _stored(self, o: ft.FinetuneOutcome, *, warn: bool = True) -> None:
        metric = f"; {o.metric_name} {o.metric:.4g} on held-out pictures" if o.metric is not None else ""
        note = o.directions_note
        self.status.setText(f"Done: stored as {o.model_ref} for the {o.tool} tool ({o.step} steps{metric})."
                            + (f" {note}" if note else ""))
        self.progress.setValue(1000)
        self._set_state("done")
        self.modelStored.emit(o.model_ref)
        if o.directions_error and warn:
            QMessageBox.warning(self, "Slider directions", f"The model was trained and stored as {o.model_ref}.\n\n"
                                f"{note}")

    # ------------------------------------------------------------------ helpers
    def refresh_runs(self) -> None:
        current = self.runs.currentData()
        self.runs.clear()
        for run in ft.list_runs(self.runs_root):
            self.runs.addItem(run.label, run.run_dir)
        if current:
            i = self.runs.findData(current)
            if i >= 0:
                self.runs.setCurrentIndex(i)
        self._update_buttons()

    def run_labels(self) -> list[str]:
        return [self.runs.itemText(i) for i in range(self.runs.count())]

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_buttons()
        self.stateChanged.emit(state)

    def _update_buttons(self) -> None:
        running = self.state == "running"
        checked_ok = self._report_key is not None and self._report_key == self._key()
        self.form.setEnabled(not running)
        self.gpus.setEnabled(not running)
        self.check_button.setEnabled(not running and not self._checking)
        self.start_button.setEnabled(not running and checked_ok)
        self.pause_button.setEnabled(running and not (self.control is not None and self.control.phase == "directions"))
        self.resume_button.setEnabled(self.state == "paused" and bool(self.run_dir))
        self.cancel_button.setEnabled(running or self.state == "paused")
        self.compare_button.setEnabled(self.state == "done" and self.outcome is not None
                                       and bool(self.outcome.base_model))
        self.resume_run_button.setEnabled(not running and self.runs.count() > 0)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        # training keeps going on the training lane (the Jobs panel shows it); reopening the
        # dialog from the same window shows this one again
        super().closeEvent(event)


def _plugin_recipes(win: Any) -> tuple[tuple[str, ...], ft.RecipeResolver | None]:
    pm = getattr(win, "plugin_manager", None)
    if pm is None:
        return (), None
    try:
        specs = pm.recipes()
    except Exception:  # noqa: BLE001 - no plugin recipes then
        return (), None

    def resolve(recipe_id: str) -> Any:
        spec = specs[recipe_id]
        return pm.resolve(spec.factory)()

    return tuple(specs), resolve


def _compare_in_window(win: Any) -> Compare:
    """A/B: run the tool twice on the current picture, once per model: two result layers."""

    def compare(tool_id: str, base: str, new: str) -> None:
        try:
            spec = next(s for s in win.tool_specs() if s.id == tool_id)
        except StopIteration:
            QMessageBox.information(win, "Compare", f"The {tool_id} tool is not loaded.")
            return
        panel = getattr(win, "tools_panel", None)
        pp = panel.param_panel(tool_id) if panel is not None else None
        params = dict(pp.values()) if pp is not None else {}
        for ref in (base, new):
            win.run_tool(spec, params={**params, "model": ref})

    return compare


def _tool_models(win: Any) -> tuple[str, str, dict[str, str]]:
    """(active plugin tool, the model its panel has selected, {tool: its default model})."""
    defaults: dict[str, str] = {}
    try:
        specs = list(win.tool_specs())
    except Exception:  # noqa: BLE001 - no plugin tools then
        specs = []
    model_param: dict[str, str] = {}  # tool -> name of its model parameter
    for spec in specs:
        for p in getattr(spec, "params", ()):
            if p.kind == "model":
                model_param.setdefault(spec.id, p.name)
                if p.default:
                    defaults.setdefault(p.model_tool or spec.id, str(p.default))
                break
    panel = getattr(win, "tools_panel", None)
    tool = panel.plugin_tool() if panel is not None else ""
    selected = ""
    pp = panel.param_panel(tool) if panel is not None and tool else None
    if pp is not None and tool in model_param:
        try:
            selected = str(pp.values().get(model_param[tool]) or "")
        except Exception:  # noqa: BLE001 - an unreadable field: the default model then
            selected = ""
    return tool, selected, defaults


def _start_from_current_model(dlg: TrainDialog, win: Any) -> None:
    """Fine-tune the model of the editor's active tool by default (not "From scratch")."""
    tool, selected, defaults = _tool_models(win)
    dlg.form.default_models = defaults
    if dlg.state in ("running", "paused") or (tool, selected) == dlg._preferred_for:
        return  # leave a run's settings, and what the user chose since the last time, alone
    dlg._preferred_for = (tool, selected)
    if not (tool and dlg.form.prefer(tool, selected)):
        dlg.form.refresh_models(keep=False)


def show_train(win: Any) -> TrainDialog:
    """Edit > Train… for a main window (model_store, bridge, plugin_manager, tools_panel)."""
    dlg = getattr(win, "_train_dialog", None)
    if dlg is None:
        names, resolver = _plugin_recipes(win)
        store = win.model_store
        if store is None:  # a window built without a store still trains into the user's store
            from ganpaint.engine.models.store import ModelStore

            store = ModelStore()
        dlg = TrainDialog(store, win.bridge, recipe_resolver=resolver, available_recipes=names,
                          compare=_compare_in_window(win), parent=win)
        panel = getattr(win, "tools_panel", None)
        if panel is not None:
            dlg.modelStored.connect(lambda _ref: panel.refresh_models())
        win._train_dialog = dlg
    dlg.refresh_runs()
    dlg.form.refresh_models()
    _start_from_current_model(dlg, win)
    dlg.show()
    dlg.raise_()
    return dlg


__all__ = ["TrainDialog", "show_train"]
