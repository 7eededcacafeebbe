"""`ganpaint run` without INPUT: a generator tool's canvas is its model's own resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.core.paths import models_dir
from ganpaint.testing.tiny_stylegan import TINY_STYLEGAN, make_tiny_stylegan_store


@pytest.fixture
def tiny(env: dict[str, str]) -> str:
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    if not (root / f"{TINY_STYLEGAN}.safetensors").is_file():
        make_tiny_stylegan_store(root)
    return TINY_STYLEGAN


@pytest.mark.parametrize("tool", ["faces", "stylemix"])
def test_no_input_gives_the_models_resolution(cli, tiny: str, tmp_path: Path, tool: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"{tool}.png"
    r = cli("run", tool, "-o", out, "--model", tiny, "--set", "seed=3", "-q")
    assert r.code == 0, r.err
    with Image.open(out) as im:
        assert im.size == (16, 16)  # the tiny generator's resolution, not 512 x 512
        assert np.ptp(np.asarray(im.convert("RGB"))) > 0  # a picture, not the blank canvas


def test_size_param_and_size_option_win(cli, tiny: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert cli("run", "faces", "-o", a, "--model", tiny, "--set", "size=40", "-q").code == 0
    assert cli("run", "faces", "-o", b, "--model", tiny, "--size", "48x32", "-q").code == 0
    with Image.open(a) as im:
        assert im.size == (40, 40)
    with Image.open(b) as im:
        assert im.size == (48, 32)


def test_unknown_model_is_a_clear_error(cli, tiny: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("run", "faces", "-o", tmp_path / "x.png", "--model", "no-such-gan", "-q")
    assert r.code != 0
    assert "no-such-gan" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "x.png").exists()


def test_tool_without_canvas_hook_keeps_512(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "g.png"
    assert cli("run", "generate", "-o", out, "-q").code == 0
    with Image.open(out) as im:
        assert im.size == (512, 512)


def test_a_generator_with_its_own_upscaler_gets_its_scale(cli, tiny: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Sharper enlargement on (the faces default) and the card's upscaler installed: the canvas
    is the resolution times the upscaler's scale; off, or the upscaler missing: the resolution."""
    import dataclasses

    import torch
    from safetensors.torch import load_file, save_file

    from ganpaint.engine.models.cards import METADATA_KEY, card_of_file
    from ganpaint.engine.models.store import ModelStore

    root = models_dir()
    src = root / f"{tiny}.safetensors"
    card = card_of_file(src)
    for name, ups in (("tiny-up", ["tiny-x4"]), ("tiny-missing-up", ["not-installed"])):
        new = dataclasses.replace(card, name=name, extra={**card.extra, "upscaler": ups})
        save_file(load_file(str(src)), str(root / f"{name}.safetensors"), metadata={METADATA_KEY: new.to_json(indent=None)})
    g = torch.Generator().manual_seed(0)
    sd = {"body.0.weight": torch.randn(8, 3, 3, 3, generator=g) * 0.1, "body.0.bias": torch.zeros(8),
          "body.1.weight": torch.full((8,), 0.25), "body.2.weight": torch.randn(48, 8, 3, 3, generator=g) * 0.05,
          "body.2.bias": torch.zeros(48)}
    save_file(sd, str(tmp_path / "tiny-x4.safetensors"))
    ModelStore().import_files(tmp_path / "tiny-x4.safetensors")
    sizes = {}
    for name, extra in (("tiny-up", ()), ("tiny-up", ("--set", "enlarge=false")), ("tiny-missing-up", ())):
        out = tmp_path / f"{name}-{len(extra)}.png"
        r = cli("run", "faces", "-o", out, "--model", name, "--set", "seed=3", *extra, "-q")
        assert r.code == 0, r.err
        with Image.open(out) as im:
            sizes[(name, bool(extra))] = im.size
    assert sizes == {("tiny-up", False): (64, 64), ("tiny-up", True): (16, 16), ("tiny-missing-up", False): (16, 16)}
