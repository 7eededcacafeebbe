"""`ganpaint directions` finds the models plugins ship (issue 12, point 7): importing a
boundary `--for faces-default` adds it to the shipped directions, which the tool keeps using."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def test_import_for_the_shipped_faces_model(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from ganpaint.engine.models.directions import directions_path, load_directions

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))  # the user has no models of their own
    r = cli("directions", "list", "--model", "faces-default")
    assert r.code == 0, r.err
    shipped = [line.split()[0] for line in r.out.splitlines() if not line.startswith("#")]
    assert "hair_light" in shipped and len(shipped) > 10  # the plugin's own directions

    boundary = tmp_path / "wide_grin.npy"
    np.save(boundary, np.random.default_rng(0).standard_normal((1, 256)).astype(np.float32))
    r = cli("directions", "import", boundary, "--for", "faces-default", "--as", "wide_grin")
    assert r.code == 0, r.err
    assert "faces-default: direction 'wide_grin' imported" in r.out

    saved = load_directions("faces-default")  # the user's file, which the tools read first
    assert saved is not None and directions_path("faces-default").is_file()
    assert set(saved.vectors) == {*shipped, "wide_grin"}, "the shipped directions must be kept"
    assert saved.info["wide_grin"]["kind"] == "imported"
    r = cli("directions", "list", "--model", "faces-default")
    listed = [line.split()[0] for line in r.out.splitlines() if not line.startswith("#")]
    assert listed == [*shipped, "wide_grin"]
    # the sliders withheld from the shipped file stay withheld, and are listed as such
    withheld = [line.split()[3].rstrip(":") for line in r.out.splitlines() if line.startswith("# not shipped: ")]
    assert set(saved.withheld) == set(withheld) and not set(withheld) & set(listed)


def test_an_unknown_model_is_one_line(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    r = cli("directions", "list", "--model", "faces-nope")
    assert r.code == 1 and "no model named 'faces-nope'" in r.err and "faces-default" in r.err
