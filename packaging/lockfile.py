"""packaging/constraints-bundle.txt: the one lock of the bundle.

build.sh installs the build venv with ``pip install -c packaging/constraints-bundle.txt`` and then
checks it (``python packaging/lockfile.py check``): every distribution in the venv must be pinned
there at exactly the installed version, so the bundle and its test run (smoke_frozen.sh tests the
frozen bundle itself, and installs its test plugin with that venv's pip) use the same versions.

    bash packaging/lock_bundle.sh                 # regenerate the lock (resolves, installs nothing)
    python packaging/lockfile.py check            # in the build venv: does it match the lock?
    python packaging/lockfile.py from-report R    # the lock from `pip install --dry-run --report R`
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "constraints-bundle.txt"
#: distributions of this repository (installed from the clean source copy, never pinned)
LOCAL_PREFIX = "ganpaint"
#: the build venv's own tools, not in the lock (pip comes with the venv; build.sh never upgrades it)
UNPINNED = ("pip",)


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> dict[str, str]:
    """{normalised name: exact version} of a constraints file of ``name==version`` lines."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)", line)
        if not m:
            raise ValueError(f"not an exact pin: {raw!r}")
        pins[norm(m.group(1))] = m.group(2)
    return pins


def is_local(name: str) -> bool:
    n = norm(name)
    return n == LOCAL_PREFIX or n.startswith(LOCAL_PREFIX + "-")


def mismatches(installed: Mapping[str, str], pins: Mapping[str, str]) -> list[str]:
    """What in ``installed`` ({name: version}) the lock does not pin at exactly that version."""
    out = []
    for name, version in sorted(installed.items()):
        n = norm(name)
        if is_local(n) or n in UNPINNED:
            continue
        if n not in pins:
            out.append(f"{name} {version} is installed but not in the lock")
        elif pins[n] != version:
            out.append(f"{name} {version} is installed, the lock says {pins[n]}")
    return out


def from_report(report: Mapping[str, object], header: Iterable[str] = ()) -> str:
    """The lock text from a ``pip install --dry-run --report`` JSON report."""
    pins = {}
    for item in report.get("install", []):  # type: ignore[union-attr]
        meta = item["metadata"]  # type: ignore[index]
        if is_local(meta["name"]) or "dir_info" in item.get("download_info", {}):  # type: ignore[union-attr]
            continue
        pins[norm(meta["name"])] = meta["version"]
    lines = [f"# {h}" if h else "#" for h in header]
    lines += [f"{name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def _installed() -> dict[str, str]:
    import importlib.metadata as md

    return {d.metadata["Name"]: d.version for d in md.distributions() if d.metadata["Name"]}


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        bad = mismatches(_installed(), parse(LOCK.read_text(encoding="utf-8")))
        for line in bad:
            print(f"lockfile: {line}", file=sys.stderr)
        if bad:
            print("lockfile: the build venv does not match packaging/constraints-bundle.txt "
                  "(regenerate it with packaging/lock_bundle.sh, or rebuild the venv)", file=sys.stderr)
            return 1
        print(f"lockfile: the build venv matches {LOCK.name}")
        return 0
    if argv[:1] == ["from-report"] and len(argv) >= 2:
        report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        sys.stdout.write(from_report(report, argv[2:]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
