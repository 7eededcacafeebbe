"""Plain-text plugin table for ``ganpaint plugins`` (and logs)."""

from __future__ import annotations

from collections.abc import Iterable

from ganpaint.plugins.records import PluginRecord

_HEADERS = ("PLUGIN", "VERSION", "STATUS", "SOURCE", "TOOLS")


def format_plugin_table(records: Iterable[PluginRecord], *, tracebacks: bool = False) -> str:
    """A table of plugins (name, version, status, source, tools), then one indented
    line per problem under the plugin it belongs to. ``tracebacks`` adds them
    (for ``--debug``). Built-ins are marked with ``*`` after the name.
    """
    recs = list(records)
    if not recs:
        return "no plugins found\n"
    rows = [
        (
            r.name + (" *" if r.builtin else ""),
            r.version or "-",
            r.status,
            r.source,
            ", ".join(r.tools) or "-",
        )
        for r in recs
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(_HEADERS[:-1])]

    def line(cells: tuple[str, ...]) -> str:
        head = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True))
        return f"{head}  {cells[-1]}".rstrip()

    out = [line(_HEADERS)]
    for rec, row in zip(recs, rows, strict=True):
        out.append(line(row))
        if rec.error:
            for part in rec.error.split("; "):
                out.append(f"    ! {part}")
        if tracebacks and rec.traceback:
            out.extend("      " + t for t in rec.traceback.rstrip().splitlines())
    if any(r.builtin for r in recs):
        out.append("(* built-in)")
    return "\n".join(out) + "\n"


#: Statuses of a plugin that was found and meant to load, but did not.
PROBLEM_STATUSES = ("failed", "not responding", "incompatible")


def startup_problems(records: Iterable[PluginRecord], *, safe_mode: bool = False, frontend: str = "gui") -> str:
    """One or two sentences naming the plugins that did not load (failed, not responding,
    incompatible) and how to leave them off; in safe mode, which plugins hung or crashed
    when last tried. '' when there is nothing to say. ``frontend`` "gui" or "cli" picks
    where the details are."""
    recs = list(records)
    gui = frontend == "gui"
    details = "Edit > Plugins... says why" if gui else "'ganpaint plugins' says why"
    parts: list[str] = []
    if safe_mode:
        last = [r.name for r in recs if r.status == "disabled" and "when last tried: " in r.error]
        text = "Safe mode: only built-in plugins are loaded."
        if last:
            off = "untick them in Edit > Plugins..." if gui else "list them in GANPAINT_DISABLE_PLUGINS"
            text += (f" When last tried, {_names(last)} hung or crashed while loading: "
                     f"{off} before starting without --safe-mode.")
        parts.append(text)
    bad = [r for r in recs if r.status in PROBLEM_STATUSES]
    if bad:
        listed = ", ".join(f"{r.name} ({r.status})" for r in bad)
        off = "untick them in Edit > Plugins..., " if gui else ""
        parts.append(f"Plugins not loaded: {listed}; {details}. To leave them off: {off}"
                     f"GANPAINT_DISABLE_PLUGINS={','.join(r.name for r in bad)}, or --safe-mode "
                     "(built-in plugins only).")
    return " ".join(parts)


def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
