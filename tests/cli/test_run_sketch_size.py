"""`ganpaint run sketch --sketch X -o Y` without INPUT or --size: the canvas is the sketch's size
(issue 13, item 9); a hints picture of another size is still refused clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def _sketch(path: Path, w: int, h: int) -> Path:
    a = np.full((h, w, 3), 255, np.uint8)
    a[h // 4: 3 * h // 4, w // 3] = 0  # a vertical line
    a[h // 2, w // 6: 5 * w // 6] = 0  # a horizontal line
    Image.fromarray(a).save(path)
    return path


def test_sketch_sets_the_canvas(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sketch = _sketch(tmp_path / "s.png", 72, 40)
    out = tmp_path / "out.png"
    r = cli("run", "sketch", "--sketch", sketch, "-o", out, "-q")
    assert r.code == 0, r.err
    with Image.open(out) as im:
        assert im.size == (72, 40)


def test_size_option_still_wins_and_must_match(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sketch = _sketch(tmp_path / "s.png", 72, 40)
    r = cli("run", "sketch", "--sketch", sketch, "--size", "64x64", "-o", tmp_path / "o.png", "-q")
    assert r.code != 0
    assert "72x40" in r.err and "64x64" in r.err


def test_hints_of_another_size_are_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sketch = _sketch(tmp_path / "s.png", 72, 40)
    hints = _sketch(tmp_path / "h.png", 30, 30)
    r = cli("run", "sketch", "--sketch", sketch, "--hints", hints, "-o", tmp_path / "o.png", "-q")
    assert r.code != 0
    assert "30x30" in r.err and "72x40" in r.err and "Traceback" not in r.err
