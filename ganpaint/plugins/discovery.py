"""Finding plugins: entry points, the user's packages folder, single-file plugins.

Discovery imports nothing of a plugin: it yields :class:`Candidate` objects whose
``load()`` the manager calls, each inside its own try/except.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ganpaint.plugins.errors import PluginLoadError
from ganpaint.plugins.markers import ENTRY_POINT_GROUP
from ganpaint.plugins.records import PluginSource

#: Distributions shipped with GANPaint. Safe mode loads these only.
BUILTIN_DISTRIBUTIONS: frozenset[str] = frozenset(
    {
        "ganpaint-classic",
        "ganpaint-translate",
        "ganpaint-sketch",
        "ganpaint-season",
        "ganpaint-inpaint",
        "ganpaint-stylemix",
        "ganpaint-faces",
        "ganpaint-upscale",
    }
)


def normalize_dist_name(name: str) -> str:
    """PEP 503 normalisation: ``GANPaint_Classic`` -> ``ganpaint-classic``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Candidate:
    """A plugin found but not yet imported."""

    name: str
    source: PluginSource
    load: Callable[[], object]
    version: str = ""
    dist: str = ""
    location: str = ""
    builtin: bool = False
    #: what a probe child imports: the entry point's "module:attr" (entry points), or
    #: the file's path (single-file plugins); '' for a candidate that cannot be probed
    target: str = ""


def add_packages_dir(path: Path) -> None:
    """Put a ``pip install --target`` folder on sys.path (at the end, so it never
    shadows GANPaint's own dependencies) and let the import system see it."""
    text = str(path)
    if text not in sys.path:
        sys.path.append(text)
    importlib.invalidate_caches()


def _dist_location(dist: md.Distribution) -> str:
    try:
        return str(Path(str(dist.locate_file(""))).resolve())
    except Exception:  # an odd Distribution subclass; the location is only informative
        return ""


def _iter_dists(search_path: Sequence[str] | None) -> Iterable[md.Distribution]:
    if search_path is None:
        return md.distributions()
    return md.distributions(path=list(search_path))


def entry_point_candidates(
    search_path: Sequence[str] | None = None, packages_dir: Path | None = None
) -> list[Candidate]:
    """Every entry point of group ``ganpaint.plugins``, one per (distribution, name).

    ``search_path`` None scans sys.path; ``packages_dir`` is scanned explicitly too
    (``importlib.metadata.distributions(path=[...])``) so plugins pip put there are
    found even if the folder was filled after start-up. A distribution seen twice
    counts once (the first on the path wins, as it would for import). Built-ins
    come first, then the rest by name, so "first wins" is deterministic.
    """
    pkg_root = str(packages_dir.resolve()) if packages_dir is not None else None
    dists: list[md.Distribution] = list(_iter_dists(search_path))
    if packages_dir is not None and packages_dir.is_dir():
        dists += list(md.distributions(path=[str(packages_dir)]))
    seen: set[str] = set()
    found: list[Candidate] = []
    for dist in dists:
        try:
            # entry_points.txt first: it is small, and most distributions have none of
            # ours, so their METADATA (the expensive read) is never parsed at start-up.
            eps = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
            if not eps:
                continue
            raw_name = dist.metadata["Name"]
            if not raw_name:
                continue  # a broken dist-info without a name cannot be a plugin we can name
            dist_name = normalize_dist_name(raw_name)
            if dist_name in seen:
                continue
            seen.add(dist_name)
            version = dist.version or ""
        except Exception:  # unreadable metadata of some unrelated package: not ours to report
            continue
        location = _dist_location(dist)
        source: PluginSource = "entry point"
        if pkg_root is not None and location.startswith(pkg_root):
            source = "packages"
        for ep in eps:
            found.append(
                Candidate(
                    name=ep.name,
                    source=source,
                    load=ep.load,
                    version=version,
                    dist=dist_name,
                    location=location,
                    builtin=dist_name in BUILTIN_DISTRIBUTIONS,
                    target=ep.value,
                )
            )
    found.sort(key=lambda c: (not c.builtin, c.name, c.dist))
    return found


def file_candidates(folder: Path) -> list[Candidate]:
    """Single-file plugins: every ``*.py`` in ``folder`` (names starting with "_" or
    "." are skipped). The plugin's name, and its module name, is the file's stem."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith(("_", ".")):
            continue
        out.append(
            Candidate(
                name=path.stem,
                source="file",
                load=_file_loader(path),
                location=str(path),
                target=str(path),
            )
        )
    return out


def _file_loader(path: Path) -> Callable[[], object]:
    def load() -> object:
        return load_module_from_file(path, path.stem)

    return load


def load_module_from_file(path: Path, module_name: str) -> object:
    """Import ``path`` as top-level module ``module_name`` (so a tool's lazy
    ``"<stem>:run"`` resolves). Refuses to replace a different module of that name."""
    existing = sys.modules.get(module_name)
    if existing is not None:
        if getattr(existing, "__file__", None) and Path(existing.__file__ or "").resolve() == path.resolve():
            return existing
        raise PluginLoadError(
            module_name,
            f"{path.name}: a module named {module_name!r} is already imported; rename the file",
        )
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginLoadError(module_name, f"{path}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
