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
