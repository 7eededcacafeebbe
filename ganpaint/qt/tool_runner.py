"""Running plugin tools from the window: copy inputs, queue a job, apply the result.

The document is read only here, on the GUI thread (``build_request`` copies what the
tool needs); the tool runs in the engine's interactive lane; its result comes back
through the Qt bridge and is applied with ``apply_result`` as ONE undoable command.
A result whose document was replaced (File > Open meanwhile) is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from ganpaint.core.document import Document
from ganpaint.core.specs import Role, ToolError, ToolRequest, ToolSpec
from ganpaint.engine.jobs import FinishedMessage, JobState
from ganpaint.qt.bridge import JobBridge
from ganpaint.qt.document_controller import DocumentController


@dataclass
class _Pending:
    spec: ToolSpec
    request: ToolRequest
    source_layer_id: str | None
    doc: Document
    #: a live re-run: the result layer whose pixels and parameters the result replaces
    update_layer_id: str | None = None


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
        bridge.jobFinished.connect(self._on_finished)

    def run(
        self,
        spec: ToolSpec,
        params: Mapping[str, Any] | None = None,
        role_layers: Mapping[Role, str] | None = None,
        *,
        mode: str = "queue",
    ) -> str:
        """Queue ``spec`` on the current document; returns the job id.

        Raises ToolError (missing input) or ValueError (bad parameter) before queuing.
        """
        from ganpaint.core.toolio import build_request
        from ganpaint.engine.runner import make_tool_job

        doc = self.controller.document
        request = build_request(doc, spec, role_layers, params)
        source = (role_layers or {}).get(Role.IMAGE)
        if source is None and doc.active_layer is not None:
            source = doc.active_layer.id
        if Role.IMAGE in spec.roles() and source is None:
            raise ToolError(f"{spec.title} needs a layer to work on")
        job = make_tool_job(spec, request, title=f"{spec.title} ({request.source_name or 'canvas'})")
        self._pending[job.id] = _Pending(spec, request, source, doc)
        self.bridge.submit(job, mode=mode)  # type: ignore[arg-type]
        self.controller.status_message.emit(f"{spec.title}: queued")
        return job.id

    def rerun(self, layer_id: str, spec: ToolSpec, params: Mapping[str, Any]) -> str | None:
        """Re-run the tool that made result layer ``layer_id`` with new parameters (a live
        slider): latest wins, and the result replaces that layer's pixels and parameters
        as one undoable step. None when the layer is not a result of ``spec`` any more."""
        from ganpaint.core.toolio import build_request
        from ganpaint.engine.runner import make_tool_job

        doc = self.controller.document
        layer = doc.find_layer(layer_id)
        info = getattr(layer, "result", None)
        if layer is None or info is None or info.tool_id != spec.id:
            return None
        source = info.source_layer_id if info.source_layer_id and doc.find_layer(info.source_layer_id) else None
        if source is None and Role.IMAGE in spec.roles():
            return None
        roles = {Role.IMAGE: source} if source is not None else {}
        request = build_request(doc, spec, roles, params)
        job = make_tool_job(spec, request, key=f"live:{layer_id}", title=f"{spec.title} (preview)")
        self._pending[job.id] = _Pending(spec, request, source, doc, update_layer_id=layer_id)
        self.bridge.submit(job, mode="replace")
        return job.id

    def pending(self) -> list[str]:
        return list(self._pending)

    def _update_result(self, p: _Pending, result: Any) -> object | None:
        from ganpaint.core.toolio import result_pixels

        layer = p.doc.find_layer(p.update_layer_id or "")
        if layer is None or layer.result is None:
            self.controller.status_message.emit(f"{p.spec.title}: the result layer is gone, preview dropped")
            return None
        info = layer.result.copy()
        info.params = dict(p.request.params)
        info.metadata = dict(result.metadata)
        info.attachments = dict(result.attachments)
        p.doc.set_result_info(layer.id, info, result_pixels(p.request, result), xy=(0, 0),
                              title=f"{p.spec.title}: parameters")
        return p.doc.history.commands[-1] if p.doc.history.commands else None

    def _on_finished(self, msg: FinishedMessage) -> None:
        p = self._pending.pop(msg.job_id, None)
        if p is None:
            return  # not one of ours (training, previews ...)
        try:
            self._handle(p, msg)
        finally:
            # the queue keeps finished jobs (and their results) until told to forget them
            self.bridge.forget(msg.job_id)

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
                cmd = apply_result(p.doc, p.spec, p.request, msg.result, p.source_layer_id)
        except (ToolError, ValueError) as exc:
            self._fail(p, msg.job_id, f"{p.spec.title}: cannot apply the result: {exc}", "")
            return
        self.controller.status_message.emit(f"{p.spec.title}: done")
        self.applied.emit(msg.job_id, cmd)
