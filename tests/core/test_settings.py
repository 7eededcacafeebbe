"""Settings: defaults, a JSON round trip, tolerance of damaged files, atomic save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganpaint.core import paths
from ganpaint.core.errors import ImageWriteError
from ganpaint.core.settings import MAX_RECENT, Settings, settings_path


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))


def test_defaults_when_there_is_no_file() -> None:
    s = Settings.load()
    assert s == Settings()
    assert (s.theme, s.history_limit_mb, s.max_pixels, s.device, s.precision) == ("light", 512, 250_000_000, "auto", "full")
    assert (s.inference_memory_mb, s.autosave_interval_s, s.recent_files, s.disabled_plugins) == (0, 60, [], [])
    assert s.notes == []


def test_round_trip_in_the_config_folder() -> None:
    s = Settings(theme="dark", history_limit_mb=1024, max_pixels=10**9, device="cpu", precision="fast",
                 disabled_plugins=["bad"], inference_memory_mb=2048, autosave_interval_s=0)
    s.add_recent("/tmp/a.ora")
    s.save()
    assert settings_path() == paths.config_dir() / "settings.json" and settings_path().is_file()
    assert str(settings_path()).startswith(str(Path(paths.data_dir())))
    back = Settings.load()
    assert back == s and back.notes == []


def test_recent_files_are_deduplicated_newest_first_and_bounded(tmp_path: Path) -> None:
    s = Settings()
    for i in range(15):
        s.add_recent(tmp_path / f"{i}.png")
    s.add_recent(tmp_path / "3.png")
    assert len(s.recent_files) == MAX_RECENT == 10
    assert s.recent_files[0] == str(tmp_path / "3.png") and s.recent_files.count(str(tmp_path / "3.png")) == 1
    assert s.recent_files[1] == str(tmp_path / "14.png")
    s.remove_recent(tmp_path / "3.png")
    assert str(tmp_path / "3.png") not in s.recent_files


def test_plugins_can_be_disabled_and_enabled() -> None:
    s = Settings()
    s.set_plugin_enabled("a", False)
    s.set_plugin_enabled("a", False)
    assert s.disabled_plugins == ["a"]
    s.set_plugin_enabled("a", True)
    assert s.disabled_plugins == []


def test_a_corrupt_file_gives_defaults_and_a_note() -> None:
    settings_path().write_text("{ not json")
    s = Settings.load()
    assert s == Settings() and len(s.notes) == 1 and "damaged" in s.notes[0] and "settings.json" in s.notes[0]
    settings_path().write_text("[1, 2]")
    assert "does not hold settings" in Settings.load().notes[0]
    settings_path().write_bytes(b"\xff\xfe\x00garbage")
    assert Settings.load().notes


def test_bad_values_fall_back_one_by_one() -> None:
    settings_path().write_text(json.dumps({
        "theme": "purple", "history_limit_mb": -5, "max_pixels": "lots", "device": "CUDA",
        "precision": True, "recent_files": "a.png", "disabled_plugins": ["x", "x", 3],
        "autosave_interval_s": 30, "window_geometry": "AAAA", "future_option": {"a": 1},
    }))
    s = Settings.load()
    assert s.theme == "light" and s.history_limit_mb == 512 and s.max_pixels == 250_000_000
    assert s.device == "cuda" and s.precision == "full" and s.recent_files == []
    assert s.disabled_plugins == ["x"] and s.autosave_interval_s == 30
    problems = " ".join(s.notes)
    for name in ("theme", "history_limit_mb", "max_pixels", "precision", "recent_files", "disabled_plugins"):
        assert f"'{name}'" in problems
    # unknown keys survive a save, for the GUI and for newer versions
    assert s.extra == {"window_geometry": "AAAA", "future_option": {"a": 1}}
    s.save()
    assert json.loads(settings_path().read_text())["future_option"] == {"a": 1}


def test_save_is_atomic_and_reports_failures(tmp_path: Path) -> None:
    Settings(theme="dark").save()
    before = settings_path().read_text()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ImageWriteError, match="settings"):
        Settings().save(blocker / "settings.json")
    assert settings_path().read_text() == before
    assert [p.name for p in settings_path().parent.iterdir()] == ["settings.json"]
