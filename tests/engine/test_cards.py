"""The model card: validation and JSON round trip (torch-free)."""

from __future__ import annotations

import pytest

from ganpaint.engine.models.cards import ModelCard, ModelFileError


def test_round_trip_and_summary() -> None:
    card = ModelCard(
        "resnet_generator",
        {"ngf": 64, "n_blocks": 9, "norm": "instance", "dropout": False, "in_channels": 3, "out_channels": 3},
        "translate",
        name="h2z",
        components=("forward", "reverse"),
        training_data=({"name": "horse2zebra", "licence": "ImageNet terms"},),
        metrics={"fid": 12.5},
    )
    again = ModelCard.from_json(card.to_json())
    assert again == card
    assert card.summary() == (
        "ResNet generator, 9 blocks, ngf 64, 3->3 channels, instance norm, no dropout, directions: forward/reverse"
    )


def test_unknown_fields_are_kept_and_foreign_spellings_accepted() -> None:
    card = ModelCard.from_dict({"architecture": "toy", "tool": "smudge", "license": "MIT", "seed": 3})
    assert card.licence == "MIT" and card.config == {} and card.extra == {"seed": 3}


@pytest.mark.parametrize(
    "bad",
    [
        {"architecture": "", "tool": "t"},
        {"architecture": "a", "tool": "Not An Id"},
        {"architecture": "a", "tool": "t", "version": 0},
        {"architecture": "a", "tool": "t", "components": ["forward", "forward"]},
        {"architecture": "a", "tool": "t", "format": 99},
        {"tool": "t"},
    ],
)
def test_bad_cards_are_refused_with_the_file_named(bad: dict) -> None:
    import json

    with pytest.raises(ModelFileError, match="m.card.json: bad model card"):
        ModelCard.from_json(json.dumps(bad), path="m.card.json")
