"""Running plugin tools from the window: copy inputs, queue a job, apply the result.

The document is read only here, on the GUI thread: ``gather_request`` copies the input
layers' pixels (uint8, one copy each). The rest runs in the job's thread of the engine's
interactive lane, off the GUI thread: the float32 request is built there (``RequestInputs.build``),
the tool runs (in its worker process), and the result is composited through the mask into
its RGBA pixels and result layer there too (``prepare_result``). Back on the GUI thread,
``apply_result`` only swaps the prepared pixels in as ONE undoable command.
A result whose document was replaced (File > Open meanwhile) is dropped.

Live sliders re-run a result layer (``rerun``). While a slider is held down the runs are
drafts (``preview=True``): at most one is in flight per layer, the newest values wait for
it (older waiting ones are dropped), and a draft's result only swaps the layer's pixels,
outside the history. The run on release (``preview=False``) replaces any draft in flight
and is recorded as ONE undoable step from the layer as it was before the drag; if it
fails or is cancelled, the layer goes back to that state (nothing is lost) and the
failure is reported.

Bursts: results that arrive in one event-loop turn (a queue of 200 finished jobs, say) are
applied together after it, inside ``Document.batch()``: each result is still its own undo
step, but the panels rebuild, the canvas re-composites and the history list redraws once
for the whole batch instead of once per result. A batch stops before it would pass
``batch_budget_s`` of work, counting what the next result and the batch's announcement (the
views' refresh, measured per result on the last batch) will cost; the rest follows in the next
turns, so the window keeps painting and taking input meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ganpaint.core.document import Document
from ganpaint.core.specs import Role, ToolError, ToolRequest, ToolSpec
from ganpaint.engine.jobs import FinishedMessage, JobState
from ganpaint.qt.bridge import JobBridge
from ganpaint.qt.document_controller import DocumentController

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    spec: ToolSpec
    #: set by the job's thread once it built the request (None if the job never started)
    request: ToolRequest | None
    source_layer_id: str | None
    doc: Document
    #: a live re-run: the result layer whose pixels and parameters the result replaces
    update_layer_id: str | None = None
    #: a draft while a live slider is dragged (no history step)
    preview: bool = False
    #: the result made ready for the document by the job's thread (None: do it on applying)
    prepared: Any = None


def _job(p: _Pending, inputs: Any, **kwargs: Any) -> Any:
    """A tool job whose thread builds the request from ``inputs`` (``RequestInputs``) and
    prepares the result for applying, so neither costs the GUI thread."""
    from ganpaint.core.toolio import prepare_result
    from ganpaint.engine.jobs.runner import make_tool_job

    job = make_tool_job(p.spec, inputs, **kwargs)
    run_tool = job.fn

    def work(gathered: Any, ctx: Any) -> Any:
        request = gathered.build()
        p.request = request
        result = run_tool(request, ctx)
        try:
            p.prepared = prepare_result(p.spec, request, result, p.source_layer_id)
        except Exception:  # noqa: BLE001 - applying it on the GUI thread reports the error
            p.prepared = None
        return result

    job.fn = work
    return job


@dataclass
class _Draft:
    """A live drag on one result layer."""

    doc: Document
    #: the layer before the drag: (ResultInfo, pixels, (x, y)); the final step undoes to it
    base: tuple[Any, Any, tuple[int, int]]
    #: the draft job in flight (at most one), and the newest values waiting for it
    running: str | None = None
    waiting: tuple[ToolSpec, dict[str, Any]] | None = None
    #: the run on release, once submitted
    final: str | None = None


def _pixels(p: _Pending, result: Any) -> Any:
    """``result_pixels(p.request, result)``: the job's prepared pixels when they are exactly that."""
    from ganpaint.core.toolio import result_pixels

    q = p.prepared
    if q is not None and q.clean and q.result is result and p.request is not None \
            and q.pixels.shape[:2] == p.request.size[::-1]:
        return q.pixels
    assert p.request is not None
    return result_pixels(p.request, result)


def _needs_image(spec: ToolSpec) -> bool:
    """The tool has a required IMAGE input (it cannot run without a layer to work on)."""
    return any(i.role is Role.IMAGE and i.required for i in spec.inputs)


class ToolRunner(QObject):
    """Submits tool jobs and applies their results.

    Signals: ``applied(str job_id, object command)``, ``failed(str job_id, str message,
    str traceback)``, ``toolFailed(ToolSpec, str message, str traceback)`` (the same
    failure with the tool's spec, so the window can name the plugin), ``cancelled(str job_id)``.
    Every job it submitted is forgotten by the queue once handled (results can be large).
    """

    applied = Signal(str, object)
    failed = Signal(str, str, str)
    toolFailed = Signal(object, str, str)  # noqa: N815 - Qt naming
    cancelled = Signal(str)

    def __init__(self, controller: DocumentController, bridge: JobBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.bridge = bridge
        self._pending: dict[str, _Pending] = {}
        #: live drags by result layer id
        self._drafts: dict[str, _Draft] = {}
        #: release runs overtaken by a newer drag (or a drag back to the start): never a history step
        self._superseded: set[str] = set()
        #: finished jobs of this event-loop turn, applied together after it (``_apply_arrived``)
        self._arrived: list[FinishedMessage] = []
        bridge.jobFinished.connect(self._on_finished)
        controller.document_replaced.connect(self._forget_drafts)

    def _forget_drafts(self, *_: Any) -> None:
        """Another document: the drags on the old one (and the pixels they keep) are over."""
        self._drafts = {k: d for k, d in self._drafts.items() if d.doc is self.controller.document}

    def run(
        self,
        spec: ToolSpec,
        params: Mapping[str, Any] | None = None,
        role_layers: Mapping[Role, str | None] | None = None,
        *,
        mode: str = "queue",
    ) -> str:
        """Queue ``spec`` on the current document; returns the job id.

        ``role_layers``: as ``build_request`` (a role mapped to None: no layer for that
        optional input, e.g. a generator's picture left on "(none)"). The result layer goes
        above the layer ``result_source`` names, or on top when it made it from nothing.
        Raises ToolError (missing input) or ValueError (bad parameter) before queuing.
        """
        from ganpaint.core.toolio import gather_request, result_source

        doc = self.controller.document
        inputs = gather_request(doc, spec, role_layers, params)
        source = result_source(doc, spec, role_layers)
        if source is None and _needs_image(spec):
            raise ToolError(f"{spec.title} needs a layer to work on")
        p = _Pending(spec, None, source, doc)
        job = _job(p, inputs, title=f"{spec.title} ({inputs.source_name or 'canvas'})")
        self._pending[job.id] = p
        self.bridge.submit(job, mode=mode)  # type: ignore[arg-type]
        self.controller.status_message.emit(f"{spec.title}: queued")
        return job.id

    def rerun(self, layer_id: str, spec: ToolSpec, params: Mapping[str, Any], *,
              preview: bool = False) -> str | None:
        """Re-run the tool that made result layer ``layer_id`` with new parameters (a live
        slider): latest wins, and the result replaces that layer's pixels and parameters
        as one undoable step. None when the layer is not a result of ``spec`` any more.

        ``preview=True`` (the slider is still held): a draft; its result replaces only the
        pixels, with no history step. While a draft of this layer runs, the values wait
        (the newest only) and the id of the running draft is returned. The next
        ``preview=False`` run ends the drag: one step, undone to the layer before the drag
        (None, and no step, when the drag ended on the parameters it started from).
        Raises ToolError / ValueError as ``build_request``."""
        doc = self.controller.document
        layer = doc.find_layer(layer_id)
        info = getattr(layer, "result", None)
        if layer is None or info is None or info.tool_id != spec.id:
            return None
        source = info.source_layer_id if info.source_layer_id and doc.find_layer(info.source_layer_id) else None
        if source is None and Role.IMAGE in spec.roles() and (info.source_layer_id or _needs_image(spec)):
            return None  # the picture it was made from is gone (a result made from nothing re-runs)
        d = self._drafts.get(layer_id)
        if d is not None and d.doc is not doc:  # a drag on a document that was replaced
            del self._drafts[layer_id]
            d = None
        if not preview:
            if d is not None:
                d.waiting = None
                if dict(d.base[0].params) == spec.resolve_params(params):
                    return self._back_to_base(layer_id, d)  # dragged back to where it started
            job_id = self._submit_rerun(layer_id, spec, params, source, preview=False)
            if d is not None:
                d.running, d.final = None, job_id
            return job_id
        if d is None:
            d = self._drafts[layer_id] = _Draft(doc, (layer.result, layer.pixels, (layer.x, layer.y)))
        if d.final is not None:  # a new drag before the last release's result came
            self._superseded.add(d.final)
            d.final = None
        if d.running is not None:
            spec.resolve_params(params)  # a bad value is refused now, not when it is its turn
            d.waiting = (spec, dict(params))
            return d.running
        d.running = self._submit_rerun(layer_id, spec, params, source, preview=True)
        return d.running

    def is_dragging(self, layer_id: str) -> bool:
        """A live drag's drafts are shown on ``layer_id`` (its final run has not been applied)."""
        return layer_id in self._drafts

    def _submit_rerun(self, layer_id: str, spec: ToolSpec, params: Mapping[str, Any], source: str | None, *,
                      preview: bool) -> str:
        from ganpaint.core.toolio import gather_request

        doc = self.controller.document
        # None: made from nothing, so no picture now either (never the active layer: that is
        # this result layer itself)
        roles: dict[Role, str | None] = {Role.IMAGE: source}
        inputs = gather_request(doc, spec, roles, params, preview=preview)
        layer = doc.find_layer(layer_id)
        info = getattr(layer, "result", None)
        if info is not None and info.attachments:  # what the tool stored with the result (in the .ora too)
            inputs.previous = dict(info.attachments)
        p = _Pending(spec, None, source, doc, update_layer_id=layer_id, preview=preview)
        job = _job(p, inputs, key=f"live:{layer_id}", title=f"{spec.title} ({'draft' if preview else 'preview'})")
        self._pending[job.id] = p
        self.bridge.submit(job, mode="replace")
        return job.id

    def _back_to_base(self, layer_id: str, d: _Draft) -> None:
        """End a drag without a history step: the layer as it was before it."""
        del self._drafts[layer_id]
        for job_id in (d.running, d.final):
            if job_id is not None:
                self._superseded.add(job_id)
                self.bridge.cancel(job_id)
        self._show(d.doc, layer_id, d.base)
        return None

    @staticmethod
    def _show(doc: Document, layer_id: str, state: tuple[Any, Any, tuple[int, int]]) -> bool:
        """Put ``state`` (info, pixels, xy) on the layer outside the history (drafts only)."""
        from ganpaint.core.commands import SetResultInfo

        layer = doc.find_layer(layer_id)
        if layer is None:
            return False
        SetResultInfo(layer, state[0], state[1], state[2]).do(doc)
        return True

    def pending(self) -> list[str]:
        return list(self._pending)

    def _update_result(self, p: _Pending, result: Any) -> object | None:

        layer = p.doc.find_layer(p.update_layer_id or "")
        if layer is None or layer.result is None:
            self.controller.status_message.emit(f"{p.spec.title}: the result layer is gone, preview dropped")
            return None
        d = self._drafts.pop(layer.id, None)
        if d is not None and d.doc is p.doc:
            # the drag's drafts are not history: go back to the layer before the drag, so the
            # one step recorded below undoes to it
            self._show(p.doc, layer.id, d.base)
            layer = p.doc.find_layer(layer.id)
            if layer is None or layer.result is None:
                return None
        info = layer.result.copy()
        info.params = dict(p.request.params)
        info.metadata = dict(result.metadata)
        info.attachments = dict(result.attachments)
        p.doc.set_result_info(layer.id, info, _pixels(p, result), xy=(0, 0),
                              title=f"{p.spec.title}: parameters")
        return p.doc.history.commands[-1] if p.doc.history.commands else None

    def _on_finished(self, msg: FinishedMessage) -> None:
        if msg.job_id not in self._pending:
            return  # not one of ours (training, previews ...)
        self._arrived.append(msg)
        if len(self._arrived) == 1:  # the first of this turn: apply them all after it
            QTimer.singleShot(0, self, self._apply_arrived)

    #: seconds of GUI-thread work per event-loop turn for a slice of a burst: applying its results
    #: and announcing them (the views' refresh when the batch ends); the canvas's paint of the
    #: change (at most ~30 ms a chunk) comes on top, so a turn stays well under 100 ms (20 ms: the
    #: 200-result bench stalled 119 ms at 30 ms on a loaded machine)
    batch_budget_s = 0.02
    #: seconds the end of the last batch (the views' refresh) took per result it announced (its
    #: part per batch is not counted: doing so left one result per turn, 200 results took 6 s)
    _announce_s = 0.0

    def _apply_arrived(self) -> None:
        """Apply the results that arrived in one turn, announcing the changes once."""
        batch = self._arrived
        end = time.perf_counter() + self.batch_budget_s
        done = 0
        with contextlib.ExitStack() as stack:
            batching = getattr(self.controller.document, "batch", None)
            if len(batch) > 1 and callable(batching):
                stack.enter_context(batching())
            while batch:
                msg = batch.pop(0)
                t0 = time.perf_counter()
                try:
                    self._finish(msg)
                except Exception:  # noqa: BLE001 - one bad result must not drop the others
                    log.exception("applying the result of job %s failed", msg.job_id)
                done += 1
                now = time.perf_counter()
                # stop before the next result would pass the budget: it costs about what this
                # one did, and announcing the batch about _announce_s per result
                if batch and now + (now - t0) + (done + 1) * self._announce_s > end:
                    QTimer.singleShot(0, self, self._apply_arrived)  # the rest in the next turn
                    break
            announce_from = time.perf_counter()
        if done > 1:  # the batch's single announcement ran as the ExitStack closed
            self._announce_s = (time.perf_counter() - announce_from) / done

    def _finish(self, msg: FinishedMessage) -> None:
        p = self._pending.pop(msg.job_id, None)
        if p is None:
            return
        try:
            d = self._drafts.get(p.update_layer_id or "")
            if d is not None and d.doc is not p.doc:
                d = None
            superseded = msg.job_id in self._superseded
            self._superseded.discard(msg.job_id)
            if p.preview or superseded or (d is not None and d.final != msg.job_id):
                # a draft, or the release run of a drag that a newer drag superseded
                self._handle_draft(p, msg, d)
            elif d is not None and msg.state is not JobState.DONE:
                self._end_drag_unapplied(p, msg, d)
            else:
                self._handle(p, msg)
        finally:
            # the queue keeps finished jobs (and their results) until told to forget them
            self.bridge.forget(msg.job_id)

    def _handle_draft(self, p: _Pending, msg: FinishedMessage, d: _Draft | None) -> None:

        layer_id = p.update_layer_id or ""
        if d is not None and d.running == msg.job_id:
            d.running = None
        if msg.state is JobState.DONE and d is not None and d.final is None and p.doc is self.controller.document:
            layer = p.doc.find_layer(layer_id)
            if layer is None or layer.result is None:
                self._drafts.pop(layer_id, None)
                return
            try:
                pixels = _pixels(p, msg.result)
            except (ToolError, ValueError) as exc:
                self.controller.status_message.emit(f"{p.spec.title}: draft not shown: {exc}")
            else:
                self._show(p.doc, layer_id, (layer.result, pixels, (0, 0)))
                note = (getattr(msg.result, "metadata", None) or {}).get("draft_note")
                if note:  # e.g. "the picture is not inverted yet ..."
                    self.controller.status_message.emit(f"{p.spec.title}: {note}")
        elif msg.state is JobState.FAILED:
            # the release run reports a lasting problem; a draft only says so in passing
            self.controller.status_message.emit(f"{p.spec.title}: draft failed: {msg.error}")
        if (d is not None and d.running is None and d.final is None and d.waiting is not None
                and d.doc is self.controller.document):
            spec, params = d.waiting
            d.waiting = None
            try:
                d.running = self._submit_rerun(layer_id, spec, params, p.source_layer_id, preview=True)
            except (ToolError, ValueError) as exc:
                self.controller.status_message.emit(f"{spec.title}: {exc}")

    def _end_drag_unapplied(self, p: _Pending, msg: FinishedMessage, d: _Draft) -> None:
        """The run on release failed or was cancelled: the layer goes back to before the drag."""
        del self._drafts[p.update_layer_id or ""]
        if p.doc is self.controller.document:
            self._show(p.doc, p.update_layer_id or "", d.base)
        if msg.state is JobState.CANCELLED:
            self.controller.status_message.emit(f"{p.spec.title}: cancelled, the layer is as it was before the drag")
            self.cancelled.emit(msg.job_id)
            return
        self._fail(p, msg.job_id, msg.error or f"{p.spec.title} failed", msg.traceback)
        self.controller.status_message.emit(f"{p.spec.title}: failed, the layer is as it was before the drag")

    def _fail(self, p: _Pending, job_id: str, message: str, traceback: str) -> None:
        self.failed.emit(job_id, message, traceback)
        self.toolFailed.emit(p.spec, message, traceback)

    def _handle(self, p: _Pending, msg: FinishedMessage) -> None:
        if msg.state is JobState.CANCELLED:
            self.controller.status_message.emit(f"{p.spec.title}: cancelled, nothing changed")
            self.cancelled.emit(msg.job_id)
            return
        if msg.state is not JobState.DONE:
            self._fail(p, msg.job_id, msg.error or f"{p.spec.title} failed", msg.traceback)
            return
        if p.doc is not self.controller.document:
            self.controller.status_message.emit(f"{p.spec.title}: the document was closed, result dropped")
            return
        from ganpaint.core.toolio import apply_result

        try:
            if p.update_layer_id is not None:
                cmd = self._update_result(p, msg.result)
                if cmd is None:
                    return
            else:
                assert p.request is not None  # built by the job, which is done
                cmd = apply_result(p.doc, p.spec, p.request, msg.result, p.source_layer_id,
                                   prepared=p.prepared)
        except (ToolError, ValueError) as exc:
            self._fail(p, msg.job_id, f"{p.spec.title}: cannot apply the result: {exc}", "")
            return
        # a tool's "note" (e.g. a missing optional library made the result plainer) follows "done"
        note = (getattr(msg.result, "metadata", None) or {}).get("note")
        self.controller.status_message.emit(f"{p.spec.title}: done" + (f" ({note})" if note else ""))
        self.applied.emit(msg.job_id, cmd)
