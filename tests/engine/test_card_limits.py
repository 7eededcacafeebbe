"""A bad model card hides only its own model: size and depth limits, checked before reading.

Model files are written by hand here (an 8-byte header length, the JSON header, the data), so
no torch is needed; large cards are sparse files, so nothing large is written to disk.
"""

from __future__ import annotations

import json
import os
import struct
import time
import tracemalloc
from pathlib import Path

import pytest

from ganpaint.cli.main import main as cli_main
from ganpaint.core.errors import GanpaintError
from ganpaint.core.specs import ModelSpec
from ganpaint.engine.models.cards import (
    MAX_CARD_BYTES,
    MAX_HEADER_BYTES,
    METADATA_KEY,
    ModelCard,
    ModelFileError,
    card_of_file,
)
from ganpaint.engine.models.store import ModelStore

REPO = Path(__file__).resolve().parents[2]
SHIPPED_INPAINT = REPO / "plugins/inpaint/ganpaint_inpaint/models/inpaint-default.safetensors"


def _card(name: str, tool: str = "translate", **extra: object) -> str:
    return ModelCard(architecture="resnet_generator", config={"ngf": 4}, tool=tool, name=name, **extra).to_json()


def _weights(path: Path, card: str | None = None, header_extra: dict[str, object] | None = None) -> Path:
    header: dict[str, object] = {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    if card is not None:
        header["__metadata__"] = {METADATA_KEY: card}
    header.update(header_extra or {})
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0\0\0\0")
    return path


def _store(root: Path) -> ModelStore:
    root.mkdir(parents=True, exist_ok=True)
    _weights(root / "good.safetensors", _card("good"))
    _weights(root / "other.safetensors")
    (root / "other.safetensors.card.json").write_text(_card("other", tool="season"))
    defaults = [ModelSpec(name="inpaint-default", tool="inpaint", path=str(SHIPPED_INPAINT))]
    return ModelStore(root, defaults=defaults, include_resources=False)


def _nested(depth: int) -> str:
    return '{"architecture": "x", "tool": "translate", "config": ' + "[" * depth + "]" * depth + "}"


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _names(store: ModelStore, tool: str | None = None) -> set[str]:
    return {e.name for e in store.list(tool)}


@pytest.mark.skipif(not SHIPPED_INPAINT.is_file(), reason="the inpaint default is not in this checkout")
def test_a_deeply_nested_card_hides_only_its_model(tmp_path: Path) -> None:
    store = _store(tmp_path / "models")
    bad = _weights(store.root / "evil.safetensors")
    card_path = store.root / "evil.safetensors.card.json"
    card_path.write_text(_nested(200_000))  # ~400 KB: RecursionError in json.loads
    t0 = time.perf_counter()
    assert _names(store) == {"good", "other", "inpaint-default"}
    assert _names(store, "inpaint") == {"inpaint-default"}  # the shipped default is still listed
    problems = store.problems()
    assert len(problems) == 1 and str(card_path) in problems[0] and "nests" in problems[0]
    assert "inpaint" not in problems[0]
    assert time.perf_counter() - t0 < 5
    with pytest.raises(ModelFileError) as info:
        card_of_file(bad)
    assert info.value.path == str(card_path)


def test_a_deeply_nested_card_in_the_weights_metadata(tmp_path: Path) -> None:
    path = _weights(tmp_path / "m.safetensors", _nested(100_000))
    with pytest.raises(ModelFileError, match="nests") as info:
        card_of_file(path)
    assert str(path) in str(info.value)


def test_a_deeply_nested_safetensors_header(tmp_path: Path) -> None:
    path = _weights(tmp_path / "m.safetensors", _card("m"), header_extra={"x": json.loads("[" * 500 + "]" * 500)})
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = raw[8:8 + n].replace(b"[" * 500, b"[" * 200_000).replace(b"]" * 500, b"]" * 200_000)
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0\0\0\0")
    with pytest.raises(ModelFileError, match="nests"):
        card_of_file(path)


@pytest.mark.parametrize("size", [94_000_000, 1_500_000_000])
def test_a_huge_card_is_refused_by_its_size_without_reading_it(tmp_path: Path, size: int) -> None:
    store = _store(tmp_path / "models")
    _weights(store.root / "big.safetensors")
    card_path = _sparse(store.root / "big.safetensors.card.json", size)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        names = _names(store)
        problems = store.problems()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 2  # was 14 s for 94 MB in the GUI
    assert peak < 8 << 20  # nothing of the card was read
    assert names == {"good", "other", "inpaint-default"} if SHIPPED_INPAINT.is_file() else {"good", "other"}
    assert len(problems) == 1 and str(card_path) in problems[0] and f"{size:,} bytes" in problems[0]


def test_a_card_just_under_the_limit_is_read(tmp_path: Path) -> None:
    filler = "x" * (MAX_CARD_BYTES - 2000)
    path = _weights(tmp_path / "m.safetensors")
    (tmp_path / "m.safetensors.card.json").write_text(_card("m", description=filler))
    assert card_of_file(path).description == filler


def test_a_huge_safetensors_header_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "h.safetensors"
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", 94_000_000))
        fh.truncate(94_000_008)
    assert 94_000_000 > MAX_HEADER_BYTES
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="header"):
            card_of_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


@pytest.mark.parametrize("card", [
    '{"architecture": "a", "tool": "translate", "extra": 5}',
    '{"architecture": "a", "tool": "translate", "licence": ["x"]}',
    '{"architecture": "a", "tool": "translate", "format": [1]}',
    '{"architecture": "a", "tool": "translate", "training_data": 3}',
    "[1, 2]",
    '"\\ud800"',
])
def test_cards_of_the_wrong_shape_hide_only_their_model(tmp_path: Path, card: str) -> None:
    store = _store(tmp_path / "models")
    _weights(store.root / "odd.safetensors")
    (store.root / "odd.safetensors.card.json").write_text(card)
    assert {"good", "other"} <= _names(store)
    assert "odd" not in _names(store)
    assert any("odd.safetensors.card.json" in p for p in store.problems())


def test_a_card_that_is_not_utf8(tmp_path: Path) -> None:
    path = _weights(tmp_path / "m.safetensors")
    (tmp_path / "m.safetensors.card.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(ModelFileError, match="UTF-8"):
        card_of_file(path)


def test_models_list_on_the_command_line_survives_a_bad_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    root = tmp_path / "models"
    root.mkdir()
    _weights(root / "good.safetensors", _card("good"))
    _weights(root / "evil.safetensors")
    (root / "evil.safetensors.card.json").write_text(_nested(200_000))
    assert cli_main(["--safe-mode", "models", "list"]) == 0
    out, err = capsys.readouterr()
    assert "good" in out and "evil" not in out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "evil.safetensors.card.json" in lines[0], err


def test_the_model_folder_is_cleaned_of_killed_writes_when_opened(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    root = tmp_path / "models"
    (root / "versions").mkdir(parents=True)
    (root / "directions").mkdir()
    left = [
        root / f".a.safetensors.ganpaint-{proc.pid}-abcd1234.tmp",
        root / "versions" / f".a@1.safetensors.{proc.pid}.tmp",  # the store's former naming
        root / "directions" / f".d.safetensors.{proc.pid}.tmp",
    ]
    keep = root / "notes.tmp"
    for p in [*left, keep]:
        p.write_bytes(b"\0" * 1000)
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    ModelStore(root, include_resources=False)
    assert not any(p.exists() for p in left) and keep.exists()


def test_model_file_errors_are_ganpaint_errors() -> None:
    assert issubclass(ModelFileError, GanpaintError)
