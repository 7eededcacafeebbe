"""The host's side of ``ToolSpec.hidden_params``: ask a plugin which parameters to hide,
without letting a plugin's fault reach the panel.

``host_hidden_params(plugin_manager, model_store)`` returns the ``hidden_params(spec, values)``
callable the parameter panels use. It resolves the tool's lazy ``"module:function"``, calls it
with the values and a ``model_path(name, tool)`` backed by the model store, and returns the
names as a frozenset. A hook that cannot be imported, raises, returns something that is not an
iterable of strings, or takes longer than ``timeout`` seconds hides nothing: every parameter
stays in view, and the problem is noted on the plugin's record (the Plugins dialog shows it)
and logged. The call runs in a helper thread, so a hook that hangs costs the window at most
``timeout`` seconds once; later calls to a hook that hung hide nothing at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ganpaint.core.specs import ToolError, ToolSpec

__all__ = ["HOOK_TIMEOUT_S", "host_hidden_params"]

log = logging.getLogger(__name__)

#: the longest the panel waits for a plugin's ``hidden_params`` hook
HOOK_TIMEOUT_S = 2.0


def _no_store(name: str, tool: str) -> str:
    raise ToolError(f"no model store: cannot find model {name!r} for {tool}")


def host_hidden_params(plugin_manager: Any, model_store: Any, *,
                       timeout: float = HOOK_TIMEOUT_S) -> Callable[[ToolSpec, dict[str, Any]], frozenset[str]]:
    """The ``hidden_params(spec, values)`` the panels call (see the module's docstring)."""
    # a store without path_for (a stand-in) resolves nothing: the hook then hides nothing
    model_path = getattr(model_store, "path_for", None) or _no_store
    hung: set[str] = set()  # hooks that overran once are not waited for again

    def note(spec: ToolSpec, message: str) -> None:
        text = f"{spec.hidden_params}: {message}; every parameter is shown"
        if plugin_manager is not None and hasattr(plugin_manager, "note_error"):
            plugin_manager.note_error(spec.plugin, text, key=spec.hidden_params)
        else:
            log.warning("tool %s: %s", spec.id, text)

    def call(spec: ToolSpec, values: dict[str, Any]) -> frozenset[str]:
        if not spec.hidden_params or plugin_manager is None or spec.hidden_params in hung:
            return frozenset()
        try:
            fn = plugin_manager.resolve(spec.hidden_params)
        except Exception:  # noqa: BLE001 - resolve noted it on the plugin's record
            return frozenset()
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                names = fn(dict(values), model_path)
                box["names"] = frozenset(_names(names))
            except BaseException as exc:  # noqa: BLE001 - a plugin's fault, contained
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"hidden-params-{spec.id}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            hung.add(spec.hidden_params)
            note(spec, f"gave no answer within {timeout:g} s")
            return frozenset()
        if "error" in box:
            exc = box["error"]
            note(spec, f"raised {type(exc).__name__}: {exc}")
            return frozenset()
        return box["names"]  # type: ignore[no-any-return]

    return call


def _names(names: Iterable[str] | None) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str | bytes):
        raise TypeError(f"expected an iterable of parameter names, got the string {names!r}")
    out = list(names)
    bad = [n for n in out if not isinstance(n, str)]
    if bad:
        raise TypeError(f"expected parameter names, got {bad[0]!r}")
    return out
