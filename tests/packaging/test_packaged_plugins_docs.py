"""The user guide tells packaged users how to add plugin packages in a way that works for a
packaged app (issue 13, point 7): pip --target into the data folder's plugin-packages."""

from __future__ import annotations

import re
from pathlib import Path

from ganpaint.core import paths

ROOT = Path(__file__).resolve().parents[2]


def test_the_guide_names_the_folder_the_plugin_host_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    folder = paths.plugin_packages_dir()
    for guide in (ROOT / "docs" / "user-guide.md", ROOT / "ganpaint" / "qt" / "resources" / "user-guide.md"):
        text = guide.read_text(encoding="utf-8")
        assert "New plugins are installed as Python packages" not in text
        cmd = re.search(r"pip install --target (\S+) --no-deps", text)
        assert cmd, guide
        assert cmd.group(1) == f"~/.local/share/ganpaint/{folder.name}"
        assert "cannot see packages pip installs anywhere else" in text
    assert folder == tmp_path / "plugin-packages"
