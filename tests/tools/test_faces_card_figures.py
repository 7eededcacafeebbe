"""tools/faces_card_figures.py: held-out figures written into a shipped card, weights untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ganpaint.testing.tool_scripts import load_tool_script  # noqa: E402

T = load_tool_script("faces_card_figures")
ROW = {"fd": 4.2, "attributes_meeting_2pct": 8, "diversity_features_vs_real": 0.7, "diversity_thumbs8_vs_real": 0.96}
COL = {"rows": {"real B (reference)": {"fd": 0.05}, "faces-default": {**ROW, "fd": 5.5, "attributes_meeting_2pct": 7},
                "new@1": ROW}}
SL = {"random_summary": {"ratio_median": 2.2},
      "directions": {"glasses": {"spearman": 1.0, "ratio": 6.0, "target_change": 0.7},
                     "smile": {"spearman": 0.99, "ratio": 3.0, "target_change": 0.2}},
      "verdicts": {"glasses": "", "smile": "moves its attribute too little"}, "table": "t"}
INV = {"inverted_psnr": 25.5, "encoder_inverted_psnr": 25.9, "mean_psnr": 12.3, "best_random_psnr": 16.8}


def test_figures_and_verdict() -> None:
    m, ev, verdict = T.figures(COL, SL, INV, "new@1", "faces-default")
    assert m["fd_classifier"] == 4.2 and m["fd_previous_default_same_run"] == 5.5
    assert m["attributes_every_decile_2pct"] == 8 and m["slider_smile_target_change"] == 0.2
    assert "shipped" in verdict and "glasses; withheld: smile" in verdict
    assert ev["sliders"]["verdicts"]["smile"]


def test_write_keeps_weights_and_replaces_the_old_verdict(tmp_path: Path) -> None:
    from ganpaint.engine.models.cards import card_of_file
    from ganpaint.testing.tiny_stylegan import TINY_STYLEGAN, make_tiny_stylegan_store

    (tmp_path / "store").mkdir()
    store = make_tiny_stylegan_store(tmp_path / "store")
    entry = store.get(TINY_STYLEGAN)
    model = tmp_path / "m.safetensors"
    shutil.copy(entry.path, model)
    Path(str(model) + ".card.json").write_text(card_of_file(model).to_json())
    m, ev, verdict = T.figures(COL, SL, INV, "new@1", "faces-default")
    sha = T.write(model, m, ev, verdict, note="First.")
    T.write(model, m, ev, verdict, note="Second.")  # a second write replaces, not appends
    card = card_of_file(model)
    side = json.loads(Path(str(model) + ".card.json").read_text())
    assert card.sha256 == sha == entry.card.sha256 and side["metrics"]["fd_classifier"] == 4.2
    assert card.description.count("Classifier-feature FD") == 1 and "Second." in card.description
    assert "First." not in card.description and side["description"] == card.description
    # weights that do not match the card are refused
    side["sha256"] = "0" * 64
    Path(str(model) + ".card.json").write_text(json.dumps(side))
    with pytest.raises(SystemExit, match="sha256"):
        T.write(model, m, ev, verdict)


def test_upscaler_alone_changes_only_the_list(tmp_path: Path) -> None:
    from ganpaint.engine.models.cards import card_of_file
    from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store

    (tmp_path / "store").mkdir()
    src = make_tiny_stylegan_store(tmp_path / "store").get("tiny-gan").path
    model = tmp_path / "m.safetensors"
    shutil.copy(src, model)
    before = card_of_file(model)
    Path(str(model) + ".card.json").write_text(before.to_json())
    assert T.main(["--upscaler", "a", "b", "--model", str(model)]) == 0
    after = card_of_file(model)
    assert after.extra["upscaler"] == ["a", "b"] and after.description == before.description
    assert after.metrics == before.metrics and after.sha256 == before.sha256
    with pytest.raises(SystemExit):
        T.main(["--collapse", "x.json", "--model", str(model)])  # the figures go together
