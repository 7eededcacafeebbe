"""The child process of :mod:`ganpaint.plugins.probe` (``python -m ganpaint.plugins.probe_child``).

Reads ``{"sys_path": [...], "targets": [...]}`` as JSON on stdin, then loads each target
in turn (import, then registration in a throw-away plugin manager, which calls its
contribution hooks) and writes ``start I``, then ``ok I`` or ``error I MESSAGE``, one line
each, flushed at once, and ``done`` at the end. Whatever a plugin prints goes to stderr: the protocol has stdout
(kept on a duplicate of its descriptor) to itself.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import sys
from typing import Any


def main() -> int:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # a plugin's print() must not look like a protocol line
    sys.path[:] = [str(p) for p in request.get("sys_path", sys.path)]

    from pathlib import Path

    from ganpaint.plugins.discovery import load_module_from_file
    from ganpaint.plugins.entries import describe
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.plugins.markers import ENTRY_POINT_GROUP

    host = PluginManager(discover=False, user_dirs=False)
    for index, target in enumerate(request.get("targets", [])):
        out.write(f"start {index}\n")
        name = str(target.get("name", ""))
        try:
            obj: Any
            if target.get("kind") == "file":
                path = Path(str(target["path"]))
                obj = load_module_from_file(path, str(target.get("module") or path.stem))
            else:
                obj = md.EntryPoint(name, str(target["value"]), ENTRY_POINT_GROUP).load()
        except (Exception, SystemExit) as exc:
            out.write(f"error {index} import failed: {_one_line(describe(exc))}\n")
            continue
        record = host.register(obj, name)
        if record.status == "loaded":
            out.write(f"ok {index}\n")
        else:
            out.write(f"error {index} {_one_line(record.error) or record.status}\n")
    out.write("done\n")
    out.close()
    # a plugin may have left a thread (or a process holding our pipe) running: do not wait for it
    os._exit(0)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


if __name__ == "__main__":
    sys.exit(main())
