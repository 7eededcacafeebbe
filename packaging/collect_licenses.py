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
* models: the data licences from the model cards of every model in resources/models and of
  every model the built-in plugins register (MODELS.md);
* pictures: the credits of the sample photo and the Welcome window's pictures made from it
  (resources/samples/CREDITS.md, CC-BY-SA-4.0: attribution is owed) as SAMPLES.md.

    python packaging/collect_licenses.py OUT_DIR    # what the spec does, by hand
"""

from __future__ import annotations

import importlib.metadata as md
import json
import shutil
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
LICENCE_WORDS = ("licen", "copying", "notice", "authors")


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


def _model_cards(root: Path) -> list[dict[str, object]]:
    """Cards of the models the bundle ships: resources/models/* and plugin-registered ones."""
    cards: list[dict[str, object]] = []
    paths: list[tuple[str, Path]] = []
    res = root / "resources" / "models"
    if res.is_dir():
        paths += [("resources/models", p) for p in sorted(res.glob("*.safetensors"))]
    try:
        from ganpaint.plugins.manager import PluginManager

        pm = PluginManager(user_dirs=False)
        pm.load()
        paths += [(f"plugin {m.plugin}", Path(m.path)) for m in pm.models()]
    except Exception as exc:  # noqa: BLE001 - the notice says it could not look
        cards.append({"error": f"plugins could not be asked for their models: {exc}"})
    for origin, path in paths:
        if not path.is_file():
            cards.append({"file": path.name, "origin": origin,
                          "error": "registered, but the file is not there at build time: not bundled"})
            continue
        try:
            from ganpaint.engine.cards import card_of_file

            card = card_of_file(path).to_dict()
        except Exception as exc:  # noqa: BLE001
            cards.append({"file": str(path), "origin": origin, "error": str(exc)})
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


def collect(out: Path, root: Path) -> Path:
    """Write the notices to ``out`` (emptied first); returns ``out``."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "third-party").mkdir(parents=True)
    shutil.copyfile(HERE / "LICENSES" / "README.md", out / "README.md")
    shutil.copyfile(root / "LICENSE", out / "GANPaint-GPL-3.0-or-later.txt")
    shutil.copyfile(root / "LICENSE", out / "GPL-3.0.txt")
    shutil.copyfile(HERE / "LICENSES" / "LGPL-3.0.txt", out / "LGPL-3.0.txt")

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
            copied.append("LGPL-3.0.txt (wheel has none; from packaging/LICENSES)")
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
    (out / "MODELS.md").write_text(_models_md(_model_cards(root)), encoding="utf-8")
    credits = root / "resources" / "samples" / "CREDITS.md"
    if credits.is_file():
        shutil.copyfile(credits, out / "SAMPLES.md")
    print(f"collect_licenses: {len(seen)} distributions, notices in {out}")
    return out


if __name__ == "__main__":
    collect(Path(sys.argv[1] if len(sys.argv) > 1 else "build/licenses"), HERE.parent)
