"""Installing plugins from a file, without pip or a system Python (a packaged GANPaint has neither).

* A single ``.py`` is copied into the user data folder's ``plugins/`` (``paths.plugins_dir()``),
  where the plugin manager loads every ``*.py`` at start.
* A wheel is a zip: its top-level packages/modules, its ``*.data/purelib`` (and ``platlib``) and its
  ``.dist-info`` (METADATA, entry_points.txt, a rewritten RECORD) are extracted into
  ``plugin-packages/`` (``paths.plugin_packages_dir()``), which the manager puts on ``sys.path`` and
  scans for ``ganpaint.plugins`` entry points at start.

Nothing is installed that could not run: a wheel built for another Python or platform, or one whose
``Requires-Dist`` names a distribution this GANPaint does not have (or has in a version the wheel
does not accept), is refused with one sentence (:class:`InstallError`). Installing a plugin that is
already there replaces it (an update); :func:`uninstall` removes exactly what was installed (the
wheel's RECORD, or the ``.py`` file).

No Qt here: the Plugins dialog (``ganpaint.qt.dialogs.plugins``) and ``ganpaint plugins install``
both call these functions.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import importlib
import importlib.metadata as md
import importlib.util
import io
import re
import shutil
import sys
import sysconfig
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import Parser
from pathlib import Path, PurePosixPath
from typing import Any

from ganpaint.core import paths
from ganpaint.plugins.discovery import BUILTIN_DISTRIBUTIONS, normalize_dist_name
from ganpaint.plugins.markers import ENTRY_POINT_GROUP

#: what an installed wheel's dist-info INSTALLER file says
INSTALLER = "ganpaint"
#: distribution names (normalised) whose importable module has another name
_MODULE_OF = {
    "pillow": "PIL",
    "pyside6": "PySide6",
    "pyyaml": "yaml",
    "opencv-python": "cv2",
    "opencv-python-headless": "cv2",
    "opencv-contrib-python": "cv2",
    "opencv-contrib-python-headless": "cv2",
    "scikit-image": "skimage",
    "scikit-learn": "sklearn",
}
_WHEEL_NAME = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


class InstallError(Exception):
    """The file cannot be installed (or the plugin removed); the message is one sentence for the user."""


@dataclass
class InstalledPlugin:
    """A plugin installed into the user data folder (by this module, or by ``pip --target``)."""

    #: distribution name (normalised) for a wheel, the file's stem for a ``.py``
    name: str
    kind: str  # "wheel" | "file"
    version: str = ""
    licence: str = ""
    #: the plugin names the manager knows it by (entry-point names; the stem for a .py)
    plugins: list[str] = field(default_factory=list)
    #: the .dist-info folder or the .py file
    path: Path = Path()


@dataclass
class InstallResult:
    plugin: InstalledPlugin
    #: the version it replaced ("" for a new install; "?" for a replaced one without a version)
    replaced: str | None = None

    def summary(self) -> str:
        p = self.plugin
        what = f"{p.name} {p.version}".strip()
        if self.replaced is None:
            return f"Installed {what}."
        old = f" (was {self.replaced})" if self.replaced and self.replaced != p.version else ""
        return f"Updated {what}{old}."


# ---------------------------------------------------------------------------------- metadata


def _parse_metadata(text: str) -> Message:
    return Parser().parsestr(text)


def licence_from_metadata(meta: Any) -> str:
    """The licence a distribution's METADATA declares: License-Expression (PEP 639), else a short
    License field, else the ``License ::`` classifiers; "" when it says nothing."""
    expr = (meta.get("License-Expression") or "").strip()
    if expr:
        return expr
    text = (meta.get("License") or "").strip()
    if text and text.upper() != "UNKNOWN":
        first = text.splitlines()[0].strip()
        return first if len(first) <= 80 else first[:77] + "..."
    classifiers = [c for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")]
    names = [c.split("::")[-1].strip() for c in classifiers if c.split("::")[-1].strip() != "OSI Approved"]
    return ", ".join(names)


def licence_of_file(path: Path) -> str:
    """A single-file plugin's licence: an ``SPDX-License-Identifier:`` comment or ``__license__``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    m = re.search(r"SPDX-License-Identifier:\s*([^\s*#]+(?:\s+(?:OR|AND|WITH)\s+[^\s*#]+)*)", text)
    if m:
        return m.group(1).strip()
    m = re.search(r"^__license__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return m.group(1).strip() if m else ""


def licence_of(dist: str = "", location: str = "") -> str:
    """The licence of a plugin the manager loaded: from its distribution's metadata (the app's own
    environment or ``plugin-packages/``), else from its single file; "" when unknown."""
    if dist:
        for search in (None, [str(paths.plugin_packages_dir())]):
            try:
                found = md.distributions(name=dist) if search is None else md.distributions(name=dist, path=search)
                for d in found:
                    return licence_from_metadata(d.metadata)
            except Exception:  # noqa: BLE001 - unreadable metadata: the licence is only shown
                continue
    if location.endswith(".py"):
        return licence_of_file(Path(location))
    return ""


# ---------------------------------------------------------------------------------- requirements


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:  # the frozen app may not carry 'packaging': the checks fall back
        return None


def _split_requirement(text: str) -> tuple[str, str, str]:
    """(name, specifier, marker) of a Requires-Dist line, without the 'packaging' library."""
    req, _, marker = text.partition(";")
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?([^)]*)\)?\s*$", req)
    if not m:
        return req.strip(), "", marker.strip()
    return m.group(1), m.group(3).strip(), marker.strip()


def _marker_applies(marker: str) -> bool:
    if not marker:
        return True
    markers = _optional("packaging.markers")
    if markers is not None:
        try:
            return bool(markers.Marker(marker).evaluate({"extra": ""}))
        except Exception:  # noqa: BLE001 - an unreadable marker: count the requirement
            return True
    return "extra" not in marker  # without 'packaging': an extra's requirement is optional


def _installed_version(name: str) -> str | None:
    """The version of distribution ``name`` this GANPaint can import ("" when it can be imported
    but carries no metadata, as in a frozen bundle); None when it does not have it."""
    key = normalize_dist_name(name)
    if key == "ganpaint":
        from ganpaint import __version__

        return str(__version__)
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        pass
    module = _MODULE_OF.get(key, key.replace("-", "_"))
    try:
        return "" if importlib.util.find_spec(module) is not None else None
    except (ImportError, ValueError):
        return None


def _version_ok(version: str, spec: str) -> bool:
    if not spec or not version:
        return True
    specifiers = _optional("packaging.specifiers")
    if specifiers is None:
        return True  # cannot tell without 'packaging': let the import decide
    try:
        return bool(specifiers.SpecifierSet(spec).contains(version, prereleases=True))
    except Exception:  # noqa: BLE001 - an odd version string: do not refuse for it
        return True


def missing_requirements(requires: Iterable[str]) -> list[str]:
    """Each ``Requires-Dist`` this GANPaint does not satisfy, as "name (what it has)"."""
    out = []
    for line in requires:
        name, spec, marker = _split_requirement(line)
        if not _marker_applies(marker):
            continue
        have = _installed_version(name)
        if have is None:
            out.append(f"{name}{spec}")
        elif not _version_ok(have, spec):
            out.append(f"{name}{spec} (GANPaint has {have})")
    return out


# ---------------------------------------------------------------------------------- platform tags


def _supported_tags() -> set[str] | None:
    tags = _optional("packaging.tags")
    if tags is None:
        return None
    return {str(t) for t in tags.sys_tags()}


def _tag_ok(tag: str, supported: set[str] | None) -> bool:
    if supported is not None:
        return tag in supported
    py, abi, plat = tag.split("-") if tag.count("-") == 2 else ("", "", "")
    major, minor = sys.version_info[:2]
    pure = abi == "none" and plat == "any"
    py_ok = py in {f"py{major}", f"py{major}{minor}", f"cp{major}{minor}"} or any(
        py == f"py{major}{m}" for m in range(minor + 1)
    )
    return pure and py_ok


def _wheel_tags(filename: str, wheel_meta: Message) -> list[str]:
    tags = [t.strip() for t in wheel_meta.get_all("Tag") or [] if t.strip()]
    if tags:
        return tags
    m = _WHEEL_NAME.match(filename)
    if not m:
        return []
    return [f"{py}-{abi}-{plat}" for py in m["py"].split(".") for abi in m["abi"].split(".")
            for plat in m["plat"].split(".")]


# ---------------------------------------------------------------------------------- wheels


@dataclass
class _Wheel:
    name: str  # normalised
    version: str
    meta: Message
    dist_info: str  # "name-1.0.dist-info"
    data_dir: str  # "name-1.0.data"
    entry_points: str
    #: archive member -> path relative to the target folder (None: not installed)
    targets: dict[str, str | None]


def _safe_member(name: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise InstallError(f"the wheel holds a file outside its own folder ({name}); it was not installed")
    return p


def _read_wheel(path: Path) -> tuple[zipfile.ZipFile, _Wheel]:
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InstallError(f"'{path.name}' is not a readable wheel (a .whl is a zip file): {exc}") from None
    names = [n for n in zf.namelist() if not n.endswith("/")]
    infos = sorted({_safe_member(n).parts[0] for n in names if _safe_member(n).parts[0].endswith(".dist-info")})
    if len(infos) != 1:
        zf.close()
        raise InstallError(f"'{path.name}' is not a wheel: it has {len(infos)} .dist-info folders instead of one")
    dist_info = infos[0]
    try:
        meta = _parse_metadata(zf.read(f"{dist_info}/METADATA").decode("utf-8"))
        wheel_meta = _parse_metadata(zf.read(f"{dist_info}/WHEEL").decode("utf-8"))
    except KeyError as exc:
        zf.close()
        raise InstallError(f"'{path.name}' is not a complete wheel: {exc.args[0]} is missing") from None
    try:
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    except KeyError:
        entry_points = ""
    name = normalize_dist_name(meta.get("Name") or "")
    version = (meta.get("Version") or "").strip()
    if not name:
        zf.close()
        raise InstallError(f"'{path.name}' has no distribution name in its METADATA")
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    targets: dict[str, str | None] = {}
    for n in names:
        parts = _safe_member(n).parts
        if parts[0] == data_dir:
            kind = parts[1] if len(parts) > 2 else ""
            targets[n] = "/".join(parts[2:]) if kind in ("purelib", "platlib") else None
        else:
            targets[n] = n
    wheel = _Wheel(name, version, meta, dist_info, data_dir, entry_points, targets)
    _check_wheel(path, zf, wheel, wheel_meta)
    return zf, wheel


def _check_wheel(path: Path, zf: zipfile.ZipFile, wheel: _Wheel, wheel_meta: Message) -> None:
    def refuse(message: str) -> None:
        zf.close()
        raise InstallError(message)

    label = f"{wheel.name} {wheel.version}".strip()
    if ENTRY_POINT_GROUP not in _entry_point_names(wheel.entry_points):
        refuse(f"{label} is not a GANPaint plugin: its wheel declares no '{ENTRY_POINT_GROUP}' entry point")
    if wheel.name in BUILTIN_DISTRIBUTIONS or wheel.name == "ganpaint":
        refuse(f"{label} is part of GANPaint itself and cannot be replaced from a file")
    tags = _wheel_tags(path.name, wheel_meta)
    supported = _supported_tags()
    if not tags or not any(_tag_ok(t, supported) for t in tags):
        here = f"Python {sys.version_info[0]}.{sys.version_info[1]} on {sysconfig.get_platform()}"
        refuse(f"{label} is built for {', '.join(tags) or 'an unknown platform'}, which this GANPaint "
               f"({here}) cannot load: use a pure-Python wheel (…-py3-none-any.whl) or one built for this platform")
    missing = missing_requirements(wheel.meta.get_all("Requires-Dist") or [])
    if missing:
        refuse(f"{label} needs {', '.join(missing)}, which this GANPaint does not include; a plugin installed "
               f"from a file can only use the libraries GANPaint ships")
    _check_record(zf, wheel, refuse)
    pkg_root = paths.plugin_packages_dir().resolve()
    for top in sorted(_top_level(wheel)):
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        origin = (spec.origin or "") if spec is not None else ""
        places = list(spec.submodule_search_locations or []) if spec is not None else []
        where = [Path(p).resolve() for p in ([origin] if origin not in ("", "built-in", "frozen") else []) + places]
        if spec is not None and (not where or not any(p.is_relative_to(pkg_root) for p in where)):
            refuse(f"{label} contains the module '{top}', which GANPaint already has; it was not installed")


def _entry_point_names(text: str) -> set[str]:
    return {line.strip()[1:-1].strip() for line in text.splitlines() if line.strip().startswith("[")}


def _top_level(wheel: _Wheel) -> set[str]:
    tops = set()
    for target in wheel.targets.values():
        if target is None:
            continue
        first = PurePosixPath(target).parts[0]
        if first.endswith((".dist-info", ".data")):
            continue
        if "/" in target:
            tops.add(first)
        elif first.endswith(".py"):
            tops.add(first[:-3])
        elif "." in first and not first.endswith((".pth",)):
            tops.add(first.split(".")[0])  # an extension module foo.cpython-311-x86_64-linux-gnu.so
    return tops


def _check_record(zf: zipfile.ZipFile, wheel: _Wheel, refuse: Any) -> None:
    """Every file the RECORD lists with a hash must match it (a damaged download is refused)."""
    try:
        record = zf.read(f"{wheel.dist_info}/RECORD").decode("utf-8")
    except KeyError:
        return  # tolerated: a hand-made wheel without RECORD installs; ours is rewritten anyway
    for row in csv.reader(io.StringIO(record)):
        if len(row) < 2 or not row[1] or "=" not in row[1]:
            continue
        algo, _, digest = row[1].partition("=")
        if algo not in hashlib.algorithms_guaranteed:
            continue
        try:
            data = zf.read(row[0])
        except KeyError:
            refuse(f"{wheel.name} {wheel.version}: the wheel's RECORD lists {row[0]}, which it does not contain")
        got = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
        if got != digest:
            refuse(f"{wheel.name} {wheel.version}: {row[0]} does not match the wheel's RECORD (a damaged download?)")


def _record_line(rel: str, data: bytes | None) -> list[str]:
    if data is None:
        return [rel, "", ""]
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [rel, f"sha256={digest}", str(len(data))]


def _install_wheel(path: Path) -> InstallResult:
    target = paths.plugin_packages_dir()
    zf, wheel = _read_wheel(path)
    with zf:
        previous = _find_wheel(wheel.name, target)
        replaced = None
        if previous is not None:
            replaced = previous.version or "?"
            _remove_wheel(previous.path, target)
        rows: list[list[str]] = []
        written: list[Path] = []
        try:
            for member, rel in wheel.targets.items():
                if rel is None or rel in (f"{wheel.dist_info}/RECORD", f"{wheel.dist_info}/INSTALLER"):
                    continue
                data = zf.read(member)
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                written.append(out)
                rows.append(_record_line(rel, data))
            installer = f"{INSTALLER}\n".encode()
            (target / wheel.dist_info / "INSTALLER").write_bytes(installer)
            rows.append(_record_line(f"{wheel.dist_info}/INSTALLER", installer))
            rows.append(_record_line(f"{wheel.dist_info}/RECORD", None))
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            (target / wheel.dist_info / "RECORD").write_text(buf.getvalue(), encoding="utf-8")
        except OSError as exc:
            for f in written:
                f.unlink(missing_ok=True)
            raise InstallError(f"could not write {wheel.name} into '{target}': {exc.strerror or exc}") from None
    importlib.invalidate_caches()
    installed = _find_wheel(wheel.name, target)
    assert installed is not None  # just written
    return InstallResult(installed, replaced)


def _find_wheel(name: str, target: Path) -> InstalledPlugin | None:
    key = normalize_dist_name(name)
    for p in installed_plugins():
        if p.kind == "wheel" and p.name == key and p.path.parent == target:
            return p
    return None


def _remove_wheel(dist_info: Path, target: Path) -> None:
    """Delete every file of the RECORD inside ``target`` (nothing outside it), then empty folders
    and the dist-info."""
    root = target.resolve()
    files: list[Path] = []
    try:
        with open(dist_info / "RECORD", encoding="utf-8", newline="") as fh:
            files = [target / row[0] for row in csv.reader(fh) if row]
    except OSError:
        pass
    folders: set[Path] = set()
    for f in files:
        try:
            resolved = f.resolve()
        except OSError:
            continue
        if not resolved.is_relative_to(root) or resolved == root:
            continue
        if resolved.is_file() or resolved.is_symlink():
            resolved.unlink()
        folders.update(p for p in resolved.parents if p.is_relative_to(root) and p != root)
        if resolved.suffix == ".py":  # its cached bytecode
            cache = resolved.parent / "__pycache__"
            for pyc in cache.glob(f"{resolved.stem}.*.pyc") if cache.is_dir() else []:
                pyc.unlink(missing_ok=True)
            folders.add(cache)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
    shutil.rmtree(dist_info, ignore_errors=True)
    importlib.invalidate_caches()


# ---------------------------------------------------------------------------------- single files


def _install_file(path: Path) -> InstallResult:
    stem = path.stem
    if not stem.isidentifier() or stem.startswith("_"):
        raise InstallError(f"'{path.name}' cannot be a plugin's file name: use letters, digits and '_' "
                           "(not first) so that it is a Python module name")
    try:
        source = path.read_bytes()
        ast.parse(source, filename=str(path))
    except OSError as exc:
        raise InstallError(f"cannot read '{path}': {exc.strerror or exc}") from None
    except (SyntaxError, ValueError) as exc:
        raise InstallError(f"'{path.name}' is not valid Python ({exc}); it was not installed") from None
    if b"ganpaint" not in source or b"hookimpl" not in source:
        raise InstallError(f"'{path.name}' is not a GANPaint plugin: it implements no GANPaint hook (@hookimpl)")
    folder = paths.plugins_dir()
    out = folder / path.name
    if out.resolve() != path.resolve():
        try:
            spec = importlib.util.find_spec(stem)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and Path(spec.origin or "").resolve() != out.resolve():
            raise InstallError(f"'{path.name}' has the name of the module '{stem}', which GANPaint already has; "
                               "rename the file")
        replaced = None
        if out.is_file():
            replaced = _file_version(out) or "?"
        try:
            out.write_bytes(source)
        except OSError as exc:
            raise InstallError(f"could not copy '{path.name}' into '{folder}': {exc.strerror or exc}") from None
    else:
        replaced = _file_version(out) or "?"
    importlib.invalidate_caches()
    return InstallResult(_file_plugin(out), replaced)


def _file_version(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return m.group(1) if m else ""


def _file_plugin(path: Path) -> InstalledPlugin:
    return InstalledPlugin(path.stem, "file", _file_version(path), licence_of_file(path), [path.stem], path)


# ---------------------------------------------------------------------------------- public


def install(path: str | Path) -> InstallResult:
    """Install a plugin from a wheel or a single ``.py`` (over an installed one of the same name).
    Raises :class:`InstallError` with one sentence when the file cannot be installed."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise InstallError(f"'{file}' is not a file")
    suffix = file.suffix.lower()
    if suffix == ".whl":
        return _install_wheel(file)
    if suffix == ".py":
        return _install_file(file)
    raise InstallError(f"'{file.name}' is neither a wheel (.whl) nor a single-file plugin (.py)")


def installed_plugins() -> list[InstalledPlugin]:
    """The plugins installed into the user data folder: wheels in ``plugin-packages/`` (with a
    ``ganpaint.plugins`` entry point) and ``.py`` files in ``plugins/``."""
    out: list[InstalledPlugin] = []
    target = paths.plugin_packages_dir()
    for info in sorted(target.glob("*.dist-info")):
        try:
            meta = _parse_metadata((info / "METADATA").read_text(encoding="utf-8"))
            eps = (info / "entry_points.txt").read_text(encoding="utf-8") if (info / "entry_points.txt").is_file() else ""
        except OSError:
            continue
        names = _plugin_names(eps)
        if not names:
            continue
        out.append(InstalledPlugin(normalize_dist_name(meta.get("Name") or info.name.split("-")[0]), "wheel",
                                   (meta.get("Version") or "").strip(), licence_from_metadata(meta), names, info))
    for f in sorted(paths.plugins_dir().glob("*.py")):
        if not f.name.startswith(("_", ".")):
            out.append(_file_plugin(f))
    return out


def _plugin_names(entry_points: str) -> list[str]:
    names, inside = [], False
    for line in entry_points.splitlines():
        s = line.strip()
        if s.startswith("["):
            inside = s[1:-1].strip() == ENTRY_POINT_GROUP
        elif inside and "=" in s and not s.startswith(("#", ";")):
            names.append(s.split("=", 1)[0].strip())
    return names


def find_installed(name: str) -> InstalledPlugin | None:
    """The installed plugin called ``name``: its distribution name, file stem, or a plugin name it provides."""
    key = normalize_dist_name(name)
    for p in installed_plugins():
        if p.name == key or p.name == name or name in p.plugins:
            return p
    return None


def uninstall(name: str) -> InstalledPlugin:
    """Remove an installed plugin (see :func:`find_installed`); returns what was removed.
    The running app keeps the code it already imported until it restarts."""
    plugin = find_installed(name)
    if plugin is None:
        raise InstallError(f"no plugin named '{name}' is installed in '{paths.data_dir()}' "
                           "(built-in plugins and ones installed with pip elsewhere cannot be removed here)")
    if plugin.kind == "wheel":
        _remove_wheel(plugin.path, plugin.path.parent)
    else:
        plugin.path.unlink(missing_ok=True)
        cache = plugin.path.parent / "__pycache__"
        for pyc in cache.glob(f"{plugin.path.stem}.*.pyc") if cache.is_dir() else []:
            pyc.unlink(missing_ok=True)
        importlib.invalidate_caches()
    return plugin


def activate(manager: Any, plugin: InstalledPlugin) -> list[Any]:
    """Load a just-installed plugin into a running plugin manager, so its tools can be used now.
    A plugin the manager already knows by name is left alone (restart to use an update).
    Returns the new records."""
    from ganpaint.plugins.discovery import add_packages_dir, entry_point_candidates

    known = {r.name for r in manager.records()}
    records = []
    if plugin.kind == "file":
        if plugin.name not in known:
            records.append(manager.load_file(plugin.path))
        return records
    add_packages_dir(plugin.path.parent)
    for cand in entry_point_candidates([str(plugin.path.parent)]):
        if cand.dist != plugin.name or cand.name in known:
            continue
        try:
            obj = cand.load()
        except Exception as exc:  # noqa: BLE001 - reported like a failed import at start
            raise InstallError(f"{plugin.name} was installed but does not import ({type(exc).__name__}: {exc}); "
                               "it is retried at the next start") from None
        records.append(manager.register(obj, name=cand.name))
    return records


def deactivate(manager: Any, plugin: InstalledPlugin) -> None:
    """Remove an uninstalled plugin's tools from a running manager (its code stays imported)."""
    known = {r.name for r in manager.records()}
    for name in plugin.plugins:
        if name in known:
            manager.unregister(name)
