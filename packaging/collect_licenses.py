"""Gather the licence notices the bundle ships (<bundle>/_internal/LICENSES, /opt/ganpaint/...).

Called by ganpaint.spec at build time, in the build venv, so it reads the licence files of
exactly the packages that get frozen:

* GANPaint: the repository's LICENSE (GPL-3.0-or-later), and the built-in plugins' notice;
* Qt for Python (PySide6, shiboken6; LGPL-3.0): the licence files in the wheels' dist-info
  when they have some; the PySide6 6.x wheels carry only the licence *name* in METADATA, so
  the LGPL-3.0 text comes from packaging/LICENSES/LGPL-3.0.txt (with the GPL-3.0 text it
  supplements: GPL-3.0.txt = the repository's LICENSE);
* PyTorch (BSD-3-Clause): LICENSE and the third_party notices from the torch dist-info;
* every other frozen distribution: its licence files from its dist-info (third-party/);
* Qt itself: the exact source archives of the Qt and Qt for Python version in the bundle
  (download.qt.io) and Qt's third-party attributions: the wheel's own files when it ships some,
  else the address of "Licenses Used in Qt" for that exact Qt version (QT.md);
* LGPL-2.1.txt: for the LGPL-2.1 libraries in the bundle (numpy's libquadmath, and any system
  library kept with PKG_KEEP_HOST_LIBS=1; the spec adds HOST-LIBRARIES.md listing them);
* SOURCE.md: where GANPaint's Corresponding Source is (packaging/project.env), with the commit
  it was built from, and the written offer of GPL-3.0 section 6;
* models: the data licences from the model cards of every model in resources/models, of the
  models build.sh converted for the bundle (model_dirs) and of every model the built-in plugins
  register (MODELS.md). The attribute classifier's own card format (<stem>.json, "format":
  "ganpaint-attribute-classifier/1") is read too. No absolute path of the build machine is written;
* pictures: the credits of the sample photo and the Welcome window's pictures made from it
  (resources/samples/CREDITS.md, CC-BY-SA-4.0: attribution is owed) as SAMPLES.md.

    python packaging/collect_licenses.py OUT_DIR    # what the spec does, by hand
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
LICENCE_WORDS = ("licen", "copying", "notice", "authors")
#: file names in a Qt wheel that hold Qt's third-party attributions (none in the 6.x wheels so far)
QT_ATTRIBUTION_WORDS = ("attribution", "3rdparty", "third_party", "thirdparty")
#: the card format of ganpaint.train.attributes (a <stem>.json beside the weights, not a ModelCard)
ATTRIBUTE_CLASSIFIER_FORMAT = "ganpaint-attribute-classifier/"


def _licence_files(dist: md.Distribution) -> list[tuple[str, Path]]:
    """(relative name, file) of the licence files a distribution installed."""
    out = []
    for f in dist.files or []:
        parts = [p.lower() for p in f.parts]
        in_dist_info = parts[0].endswith(".dist-info")
        name = parts[-1]
        if in_dist_info and (parts[1:2] == ["licenses"] or any(w in name for w in LICENCE_WORDS)):
            rel = "/".join(f.parts[2:] if parts[1:2] == ["licenses"] else f.parts[1:])
            out.append((rel, Path(str(dist.locate_file(f)))))
    return [(r, p) for r, p in out if p.is_file()]


def _licence_field(dist: md.Distribution) -> str:
    meta = dist.metadata
    expr = meta.get("License-Expression") or ""
    if expr:
        return expr
    lic = (meta.get("License") or "").strip()
    if lic and "\n" not in lic and len(lic) < 120:
        return lic
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    return ", ".join(classifiers) or "see the files"


def _copy_dist(dist: md.Distribution, dest: Path) -> list[str]:
    files = _licence_files(dist)
    for rel, src in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return [rel for rel, _ in files]


def _shown(path: Path, root: Path) -> str:
    """A path as MODELS.md may show it: relative to the source tree, else the file name only
    (never an absolute path of the build machine)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _scrub(text: str, path: Path, root: Path) -> str:
    """An error message without the build machine's absolute paths."""
    for p in sorted({str(Path(path).resolve()), str(path)}, key=len, reverse=True):
        text = text.replace(p, _shown(path, root))
    for r in sorted({str(Path(root).resolve()), str(root)}, key=len, reverse=True):
        if r not in ("", ".", os.sep):
            text = text.replace(r + os.sep, "").replace(r, "<source tree>")
    return text


def _attribute_classifier_card(path: Path) -> dict[str, object] | None:
    """The card of an attribute classifier (ganpaint.train.attributes): ``<stem>.json`` beside the
    weights (or the weights' own metadata), format ganpaint-attribute-classifier/1; None if not one."""
    side = path.with_suffix(".json")
    data: dict[str, object] = {}
    if side.is_file() and side.stat().st_size < (1 << 20):
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
    if not str(data.get("format", "")).startswith(ATTRIBUTE_CLASSIFIER_FORMAT):
        return None
    lic = data.get("licence") if isinstance(data.get("licence"), dict) else {}
    lic = lic if isinstance(lic, dict) else {}
    raw_data = data.get("data")
    dataset: dict[str, object] = raw_data if isinstance(raw_data, dict) else {}
    training = [{k: v for k, v in (("name", dataset.get("dataset")), ("pictures", dataset.get("pictures")),
                                  ("licence", lic.get("training_data"))) if v}]
    return {"name": data.get("name") or path.stem,
            "tool": "no tool: it measures the faces sliders",
            "title": "Face attribute classifier", "licence": lic.get("weights"),
            "training_data": training, "source": "trained by GANPaint (python -m ganpaint.train.attributes)"}


def _model_cards(root: Path, model_dirs: Iterable[Path] = ()) -> list[dict[str, object]]:
    """Cards of the models the bundle ships: resources/models/*, the extra model folders the spec
    bundles (build.sh's converted Real-ESRGAN) and the models built-in plugins register."""
    cards: list[dict[str, object]] = []
    paths: list[tuple[str, Path]] = []
    res = root / "resources" / "models"
    if res.is_dir():
        paths += [("resources/models", p) for p in sorted(res.glob("*.safetensors"))]
    for extra in model_dirs:
        if Path(extra).is_dir():
            paths += [("converted by build.sh", p) for p in sorted(Path(extra).glob("*.safetensors"))]
    try:
        from ganpaint.plugins.manager import PluginManager

        pm = PluginManager(user_dirs=False)
        pm.load()
        paths += [(f"plugin {m.plugin}", Path(m.path)) for m in pm.models()]
    except Exception as exc:  # noqa: BLE001 - the notice says it could not look
        cards.append({"error": f"plugins could not be asked for their models: {_scrub(str(exc), root / '-', root)}"})
    for origin, path in paths:
        if not path.is_file():
            cards.append({"file": path.name, "origin": origin,
                          "error": "registered, but the file is not there at build time: not bundled"})
            continue
        classifier = _attribute_classifier_card(path)
        if classifier is not None:
            cards.append({"file": path.name, "origin": origin, **classifier})
            continue
        try:
            from ganpaint.engine.models.cards import card_of_file

            card = card_of_file(path).to_dict()
        except Exception as exc:  # noqa: BLE001
            cards.append({"file": path.name, "origin": origin, "error": _scrub(str(exc), path, root)})
            continue
        cards.append({"file": path.name, "origin": origin, **{k: card.get(k) for k in
                      ("name", "tool", "title", "licence", "training_data", "source")}})
    return cards


def _models_md(cards: list[dict[str, object]]) -> str:
    lines = ["# Models shipped in this bundle and the licences of their training data", ""]
    if not cards:
        lines.append("No model file is bundled in this build (resources/models is empty and no built-in "
                     "plugin registers a model). Models a user imports or trains carry their own cards; "
                     "Help > About lists them.")
    for c in cards:
        if "error" in c:
            lines.append(f"* {c.get('file', '?')}: card unreadable: {c['error']}")
            continue
        lines.append(f"## {c.get('name') or c['file']} ({c.get('tool')}, from {c['origin']})")
        lines.append(f"* model licence: {c.get('licence') or 'not stated in the card'}")
        for d in c.get("training_data") or []:  # type: ignore[union-attr]
            lines.append(f"* training data: {json.dumps(d, ensure_ascii=False)}")
        if c.get("source"):
            lines.append(f"* source: {c['source']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _dist_version(*names: str) -> str:
    for name in names:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            continue
    return ""


def qt_sources(pyside_version: str) -> dict[str, str]:
    """The exact source locations of Qt for Python and of the Qt it bundles, for one PySide6 version
    (a PySide6 6.x.y[.z] wheel carries Qt 6.x.y)."""
    parts = pyside_version.split("+")[0].split(".")
    qt = ".".join(parts[:3])
    minor = ".".join(parts[:2])
    return {
        "pyside_version": pyside_version,
        "qt_version": qt,
        "pyside_dir": f"https://download.qt.io/official_releases/QtForPython/pyside6/PySide6-{pyside_version}-src/",
        "pyside_archive": f"https://download.qt.io/official_releases/QtForPython/pyside6/PySide6-{pyside_version}-src/"
                          f"pyside-setup-everywhere-src-{pyside_version}.tar.xz",
        "qt_archive": f"https://download.qt.io/official_releases/qt/{minor}/{qt}/single/qt-everywhere-src-{qt}.tar.xz",
        "qt_archive_old": f"https://download.qt.io/archive/qt/{minor}/{qt}/single/qt-everywhere-src-{qt}.tar.xz",
        "attributions": f"https://doc.qt.io/qt-{minor}/licenses-used-in-qt.html",
    }


def _qt_attribution_files(dists: Iterable[md.Distribution]) -> list[tuple[str, Path]]:
    """Files of the Qt wheels whose names say they hold third-party attributions."""
    out = []
    for dist in dists:
        for f in dist.files or []:
            name = "/".join(f.parts).lower()
            if any(w in name for w in QT_ATTRIBUTION_WORDS) and not name.endswith((".py", ".pyc", ".pyi", ".so")):
                p = Path(str(dist.locate_file(f)))
                if p.is_file():
                    out.append(("/".join(f.parts), p))
    return out


def _qt_md(out: Path) -> str:
    """QT.md: Qt for Python and Qt in this bundle: licence, exact sources, third-party attributions."""
    version = _dist_version("PySide6-Essentials", "PySide6", "shiboken6")
    if not version:
        return "# Qt\n\nNo Qt for Python distribution was found at build time.\n"
    src = qt_sources(version)
    qt_dists = [d for d in md.distributions()
                if (d.metadata["Name"] or "").lower().replace("_", "-") in ("pyside6-essentials", "pyside6", "shiboken6",
                                                                             "pyside6-addons")]
    shipped = _qt_attribution_files(qt_dists)
    for rel, path in shipped:
        target = out / "qt-attributions" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    lines = [
        f"# Qt for Python {src['pyside_version']} and Qt {src['qt_version']}", "",
        "Qt for Python (PySide6, shiboken6) and the Qt libraries in `_internal/PySide6/Qt/lib` are used under the",
        "GNU Lesser General Public License version 3 (`LGPL-3.0.txt`, which supplements `GPL-3.0.txt`). They are",
        "the unmodified libraries of the PyPI wheels, loaded as shared libraries: you may replace them with",
        "your own build of the same version.", "",
        "## Exact source code", "",
        f"* Qt for Python {src['pyside_version']}: <{src['pyside_archive']}>",
        f"  (folder <{src['pyside_dir']}>)",
        f"* Qt {src['qt_version']}: <{src['qt_archive']}>",
        f"  (once superseded, the Qt Project moves it to <{src['qt_archive_old']}>)", "",
        "## Third-party code inside Qt", "",
    ]
    if shipped:
        lines.append("The Qt wheels ship these attribution files; copies are in `qt-attributions/`:")
        lines += [f"* `{rel}`" for rel, _ in shipped]
    else:
        lines += [
            f"The Qt {src['qt_version']} wheels ship no attribution file. Qt lists the third-party code",
            "in its libraries (and each component's licence) for this exact version at",
            f"<{src['attributions']}>;",
            "the same list is in the source archive above (`qt_attribution.json` files of each module).",
        ]
    return "\n".join(lines) + "\n"


def _git_commit(root: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=20)
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=60)
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def is_placeholder(info: dict[str, str]) -> bool:
    """True while packaging/project.env still names the reserved .example stand-ins."""
    return any(".example" in info.get(k, "") for k in ("GANPAINT_SOURCE_URL", "GANPAINT_MAINTAINER"))


def source_md(root: Path, info: dict[str, str] | None = None) -> str:
    """SOURCE.md: where the Corresponding Source of this build is, and the written offer (GPL-3.0 s. 6)."""
    if info is None:
        sys.path.insert(0, str(HERE))
        try:
            from bundle_rules import project_info
        finally:
            sys.path.remove(str(HERE))
        info = project_info()
    url = info.get("GANPAINT_SOURCE_URL", "")
    contact = info.get("GANPAINT_MAINTAINER", "")
    version = _dist_version("ganpaint")
    commit = _git_commit(root) or "not recorded (built outside a git checkout)"
    placeholder = [] if not is_placeholder(info) else [
        "**This build names placeholder addresses** (`packaging/project.env`): the project has no public",
        "repository or contact address yet. Set them before the build is given to anyone.", ""]
    return "\n".join(["# Source code of this GANPaint build", ""] + placeholder + [
        "GANPaint and its built-in plugins are free software under the GNU General Public License,",
        "version 3 or later (`GANPaint-GPL-3.0-or-later.txt`).", "",
        f"* Version: {version or 'unknown'}",
        f"* Source code (the Corresponding Source, with the build scripts in `packaging/`): <{url}>",
        f"* Built from commit: {commit}",
        "* The bundle is made by `packaging/build.sh` with the exact versions in",
        "  `packaging/constraints-bundle.txt`; the versions of everything inside are in `THIRD-PARTY.md`,",
        "  and the exact source of Qt and Qt for Python is named in `QT.md`.", "",
        "## Written offer", "",
        "For at least three years after the date you received this program, and for as long as",
        "we offer spare parts or support for it, the GANPaint developers will give anyone who asks",
        "a complete machine-readable copy of the Corresponding Source of this build (GANPaint, its",
        "plugins, and the source of the LGPL- and GPL-licensed components it contains), on a medium",
        "customarily used for software interchange, for no more than the cost of physically",
        f"performing the copy. Write to: {contact}", "",
    ])


def collect(out: Path, root: Path, model_dirs: Iterable[Path] = ()) -> Path:
    """Write the notices to ``out`` (emptied first); returns ``out``."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "third-party").mkdir(parents=True)
    shutil.copyfile(HERE / "LICENSES" / "README.md", out / "README.md")
    shutil.copyfile(root / "LICENSE", out / "GANPaint-GPL-3.0-or-later.txt")
    shutil.copyfile(root / "LICENSE", out / "GPL-3.0.txt")
    shutil.copyfile(HERE / "LICENSES" / "LGPL-3.0.txt", out / "LGPL-3.0.txt")
    shutil.copyfile(HERE / "LICENSES" / "LGPL-2.1.txt", out / "LGPL-2.1.txt")
    (out / "SOURCE.md").write_text(source_md(root), encoding="utf-8")
    (out / "QT.md").write_text(_qt_md(out), encoding="utf-8")

    index = ["# Third-party distributions in this bundle", "",
             "| distribution | version | licence | files in third-party/ |", "| --- | --- | --- | --- |"]
    seen: set[str] = set()
    for dist in sorted(md.distributions(), key=lambda d: (d.metadata["Name"] or "").lower()):
        name = dist.metadata["Name"] or ""
        key = name.lower().replace("_", "-")
        if not name or key in seen or key in ("pip", "setuptools", "pyinstaller", "pyinstaller-hooks-contrib",
                                             "altgraph", "wheel", "packaging"):
            continue  # build tools: not in the bundle
        seen.add(key)
        dest = out / "third-party" / f"{name}-{dist.version}"
        copied = _copy_dist(dist, dest)
        if not copied:
            dest.mkdir(parents=True, exist_ok=True)
        if key in ("pyside6-essentials", "pyside6", "shiboken6"):
            shutil.copyfile(HERE / "LICENSES" / "LGPL-3.0.txt", dest / "LGPL-3.0.txt")
            copied.append("LGPL-3.0.txt (wheel has none; from packaging/LICENSES); sources: QT.md")
        index.append(f"| {name} | {dist.version} | {_licence_field(dist)} | "
                     f"{', '.join(copied[:4]) + (' ...' if len(copied) > 4 else '') or '-'} |")
    # the Python runtime itself is frozen into the bundle too (PSF licence)
    py_licence = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if py_licence.is_file():
        version = sys.version.split()[0]
        dest = out / "third-party" / f"Python-{version}"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(py_licence, dest / "LICENSE.txt")
        index.append(f"| Python (the interpreter) | {version} | PSF-2.0 | LICENSE.txt |")
    (out / "THIRD-PARTY.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    (out / "MODELS.md").write_text(_models_md(_model_cards(root, model_dirs)), encoding="utf-8")
    credits = root / "resources" / "samples" / "CREDITS.md"
    if credits.is_file():
        shutil.copyfile(credits, out / "SAMPLES.md")
    print(f"collect_licenses: {len(seen)} distributions, notices in {out}")
    return out


if __name__ == "__main__":
    collect(Path(sys.argv[1] if len(sys.argv) > 1 else "build/licenses"), HERE.parent)
