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


class ToolRunner(QObject):
    """Submits tool jobs and applies their results.

    Signals: ``applied(str job_id, object command)``, ``failed(str job_id, str message,
    str traceback)``, ``cancelled(str job_id)``.
    """

    applied = Signal(str, object)
    failed = Signal(str, str, str)
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

    def pending(self) -> list[str]:
        return list(self._pending)

    def _on_finished(self, msg: FinishedMessage) -> None:
        p = self._pending.pop(msg.job_id, None)
        if p is None:
            return  # not one of ours (training, previews ...)
        if msg.state is JobState.CANCELLED:
            self.controller.status_message.emit(f"{p.spec.title}: cancelled, nothing changed")
            self.cancelled.emit(msg.job_id)
            return
        if msg.state is not JobState.DONE:
            self.failed.emit(msg.job_id, msg.error or f"{p.spec.title} failed", msg.traceback)
            return
        if p.doc is not self.controller.document:
            self.controller.status_message.emit(f"{p.spec.title}: the document was closed, result dropped")
            return
        from ganpaint.core.toolio import apply_result

        try:
            cmd = apply_result(p.doc, p.spec, p.request, msg.result, p.source_layer_id)
        except (ToolError, ValueError) as exc:
            self.failed.emit(msg.job_id, f"{p.spec.title}: cannot apply the result: {exc}", "")
            return
        self.controller.status_message.emit(f"{p.spec.title}: done")
        self.applied.emit(msg.job_id, cmd)
