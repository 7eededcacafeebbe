"""packaging/project.env (issue 13, item 6): the project's addresses, overridable from the environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import bundle_rules  # noqa: E402
import collect_licenses  # noqa: E402


def test_file_values_and_environment_overrides(tmp_path):
    env_file = tmp_path / "project.env"
    env_file.write_text("# c\nGANPAINT_SOURCE_URL=https://ganpaint.example/src\n"
                        "GANPAINT_MAINTAINER=Devs <devs@x.example>\nGANPAINT_HOMEPAGE=https://ganpaint.example/\n")
    plain = bundle_rules.project_info(env_file, env={})
    assert plain["GANPAINT_SOURCE_URL"] == "https://ganpaint.example/src"
    assert collect_licenses.is_placeholder(plain)
    real = bundle_rules.project_info(env_file, env={
        "GANPAINT_SOURCE_URL": "https://git.ganpaint.org/ganpaint", "GANPAINT_MAINTAINER": "A B <a@ganpaint.org>",
        "GANPAINT_HOMEPAGE": "  "})  # empty: the file's value stays
    assert real["GANPAINT_SOURCE_URL"] == "https://git.ganpaint.org/ganpaint"
    assert real["GANPAINT_MAINTAINER"] == "A B <a@ganpaint.org>"
    assert real["GANPAINT_HOMEPAGE"] == "https://ganpaint.example/"
    assert not collect_licenses.is_placeholder(real)
    assert "placeholder" not in collect_licenses.source_md(ROOT, real)


def test_build_deb_reads_the_same_override():
    text = (ROOT / "packaging" / "deb" / "build_deb.sh").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("project() {"))
    script = f"cd {ROOT}\n{line}\nproject GANPAINT_HOMEPAGE\nGANPAINT_HOMEPAGE=https://ganpaint.org/ project GANPAINT_HOMEPAGE\n"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == bundle_rules.project_info(env={})["GANPAINT_HOMEPAGE"]
    assert out[1] == "https://ganpaint.org/"
