"""The notices the bundle ships (issue 13, point 3): source offer, Qt's exact sources and
attributions, LGPL-2.1, and MODELS.md reading every shipped model's card without build paths."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def notices(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("collect_licenses", ROOT / "packaging" / "collect_licenses.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, mod.collect(tmp_path_factory.mktemp("lic") / "LICENSES", ROOT)


def test_source_offer_names_the_projects_address(notices):
    _, out = notices
    text = (out / "SOURCE.md").read_text(encoding="utf-8")
    env = dict(line.split("=", 1) for line in (ROOT / "packaging" / "project.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert f"<{env['GANPAINT_SOURCE_URL']}>" in text and "## Written offer" in text
    assert "three years" in text and env["GANPAINT_MAINTAINER"] in text


def test_qt_md_names_the_exact_sources_and_the_attributions(notices):
    mod, out = notices
    version = md.version("PySide6-Essentials")
    text = (out / "QT.md").read_text(encoding="utf-8")
    assert (f"https://download.qt.io/official_releases/QtForPython/pyside6/PySide6-{version}-src/"
            f"pyside-setup-everywhere-src-{version}.tar.xz") in text
    qt = ".".join(version.split(".")[:3])
    assert f"qt-everywhere-src-{qt}.tar.xz" in text
    assert f"https://doc.qt.io/qt-{'.'.join(version.split('.')[:2])}/licenses-used-in-qt.html" in text
    assert mod.qt_sources("6.8.1.1")["qt_version"] == "6.8.1"


def test_lgpl_2_1_text_ships(notices):
    _, out = notices
    text = (out / "LGPL-2.1.txt").read_text(encoding="utf-8")
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in text and "Version 2.1, February 1999" in text
    common = Path("/usr/share/common-licenses/LGPL-2.1")
    if common.is_file():
        assert text == common.read_text(encoding="utf-8")


def test_models_md_reads_the_attribute_classifier_and_hides_build_paths(notices):
    _, out = notices
    models = (out / "MODELS.md").read_text(encoding="utf-8")
    classifier = models.split("## attribute-classifier", 1)[1].split("\n## ", 1)[0]
    assert "GPL-3.0-or-later" in classifier and "Noto" in classifier
    assert "card unreadable" not in models
    for f in out.rglob("*.md"):
        text = f.read_text(encoding="utf-8")
        assert str(ROOT) not in text, f
        assert str(ROOT.resolve()) not in text, f
