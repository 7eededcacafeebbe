"""``ganpaint tools [TOOL]``: list the tools, or show one tool's inputs and parameters."""

from __future__ import annotations

import argparse
from typing import Any

from ganpaint.cli.common import EXIT_OK, UsageError, plugin_manager


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "tools",
        help="list tools, or show a tool's parameters",
        description="Without TOOL, list every available tool. With TOOL, show its inputs, "
        "where its result goes and its parameters (kind, range or choices, default).",
    )
    p.add_argument("tool", nargs="?", metavar="TOOL")


def _table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _fmt(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 3 and all(isinstance(c, float) for c in value):
        return "#" + "".join(f"{round(c * 255):02x}" for c in value)
    if isinstance(value, float):
        return f"{value:g}"
    if value == "":
        return '""'
    return str(value)


def _range(p: Any) -> str:
    if p.kind == "choice":
        return " | ".join(p.choices)
    if p.kind in ("float", "int"):
        lo = "" if p.minimum is None else _fmt(p.minimum)
        hi = "" if p.maximum is None else _fmt(p.maximum)
        text = f"{lo}..{hi}" if (lo or hi) else ""
        return f"{text} step {_fmt(p.step)}" if p.step is not None and text else text
    if p.kind == "seed":
        return ">= 0"
    if p.kind == "model":
        return f"models of '{p.model_tool}'" if p.model_tool else "a model-store name"
    if p.kind == "color":
        return "#rrggbb or r,g,b"
    return ""


def describe_tool(spec: Any) -> str:
    lines = [f"{spec.id}: {spec.title}"]
    if spec.description:
        lines.append(f"  {spec.description}")
    lines.append(f"  plugin: {spec.plugin or '-'}    category: {spec.category}    output: {spec.output.value}"
                 + ("    needs torch" if spec.uses_torch else ""))
    ins = ", ".join(f"{i.role.value}{'' if i.required else ' (optional)'}" for i in spec.inputs) or "none"
    lines.append(f"  inputs: {ins}")
    if not spec.params:
        lines.append("  parameters: none")
    else:
        lines.append("  parameters (set with --set NAME=VALUE):")
        rows = [["    NAME", "KIND", "DEFAULT", "RANGE", "HELP"]]
        for p in spec.params:
            rows.append([f"    {p.name}", p.kind, _fmt(p.default), _range(p), p.help or p.label])
        lines.append(_table(rows))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ganpaint.plugins.errors import UnknownToolError

    pm = plugin_manager(args)
    if args.tool:
        try:
            spec = pm.tool(args.tool)
        except UnknownToolError as exc:
            raise UsageError(str(exc)) from None
        print(describe_tool(spec))
        return EXIT_OK
    tools = pm.tools()
    if not tools:
        print("no tools available (see 'ganpaint plugins')")
        return EXIT_OK
    rows = [["TOOL", "TITLE", "CATEGORY", "PLUGIN"]]
    for spec in sorted(tools.values(), key=lambda s: (s.category, s.id)):
        rows.append([spec.id, spec.title, spec.category, spec.plugin])
    print(_table(rows))
    return EXIT_OK
