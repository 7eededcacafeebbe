"""GANPaint: a desktop image editor whose brushes are GANs.

The public API for plugin authors. Importing this package imports neither torch
nor PySide6 (a test keeps it so).
"""

from ganpaint._version import __version__
from ganpaint.core.specs import (
    PLUGIN_API_VERSION,
    InputSpec,
    JobCancelled,
    ModelSpec,
    OutputMode,
    ParamSpec,
    RecipeSpec,
    Role,
    RunContext,
    SpecError,
    ToolError,
    ToolRequest,
    ToolResult,
    ToolSpec,
)
from ganpaint.plugins.markers import hookimpl

__all__ = [
    "PLUGIN_API_VERSION",
    "InputSpec",
    "JobCancelled",
    "ModelSpec",
    "OutputMode",
    "ParamSpec",
    "RecipeSpec",
    "Role",
    "RunContext",
    "SpecError",
    "ToolError",
    "ToolRequest",
    "ToolResult",
    "ToolSpec",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> object:
    # Document is imported lazily so `import ganpaint` stays cheap.
    if name == "Document":
        from ganpaint.core.document import Document

        return Document
    raise AttributeError(name)
