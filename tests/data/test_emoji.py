"""Emoji heads: labels from codepoint names (always), glyphs from the font (when cached)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganpaint.data import emoji
from ganpaint.data.build import sources_cache

ZWJ = "\u200d"


@pytest.mark.parametrize("text,skin,age,hair,beard,gender", [
    ("\U0001F476", None, "baby", "default", False, "person"),
    ("\U0001F466\U0001F3FE", "5", "child", "default", False, "man"),
    ("\U0001F467\U0001F3FB", "1-2", "child", "default", False, "woman"),
    ("\U0001F9D1\U0001F3FD" + ZWJ + "\U0001F9B0", "4", "adult", "red", False, "person"),
    ("\U0001F468\U0001F3FF" + ZWJ + "\U0001F9B2", "6", "adult", "bald", False, "man"),
    ("\U0001F469" + ZWJ + "\U0001F9B1", None, "adult", "curly", False, "woman"),
    ("\U0001F469\U0001F3FC" + ZWJ + "\U0001F9B3", "3", "adult", "white", False, "woman"),
    ("\U0001F9D3\U0001F3FC", "3", "older", "default", False, "person"),
    ("\U0001F475", None, "older", "default", False, "woman"),
    ("\U0001F471" + ZWJ + "\u2642\ufe0f", None, "adult", "blond", False, "man"),
    ("\U0001F9D4\U0001F3FD" + ZWJ + "\u2640\ufe0f", "4", "adult", "default", True, "woman"),
])
def test_labels_from_codepoint_names(text, skin, age, hair, beard, gender) -> None:
    lab = emoji.label_sequence(text)
    assert (lab.skin, lab.age_group, lab.hair, lab.beard, lab.gender) == (skin, age, hair, beard, gender)


def test_render_attributes_from_labels() -> None:
    old_bald = emoji.label_sequence("\U0001F474\U0001F3FF")
    a = old_bald.as_attributes()
    assert a["skin_tone"] == 0.9 and a["age"] == 1.0 and a["beard"] == 0.0
    assert math.isnan(a["hair_length"]) and math.isnan(a["hair_red"])
    red = emoji.label_sequence("\U0001F468" + ZWJ + "\U0001F9B0").as_attributes()
    assert red["hair_red"] == 1.0 and math.isnan(red["skin_tone"]) and math.isnan(red["age"])
    bald = emoji.label_sequence("\U0001F9D1" + ZWJ + "\U0001F9B2").as_attributes()
    assert bald["hair_length"] == 0.0
    # tones are ordered light -> dark like the renders' skin_tone
    tones = [emoji.FITZPATRICK_TONE[k] for k in ("1-2", "3", "4", "5", "6")]
    assert tones == sorted(tones)


def test_candidates_are_all_labelled_and_distinct() -> None:
    seqs = emoji.candidate_sequences()
    assert len(seqs) == len(set(seqs)) == 168
    labs = [emoji.label_sequence(s) for s in seqs]
    assert {lab.age_group for lab in labs} == set(emoji.AGE_GROUPS)
    assert {lab.hair for lab in labs} == set(emoji.HAIR_KINDS)
    assert sum(lab.skin is None for lab in labs) == len(seqs) // 6
    with pytest.raises(ValueError):
        emoji.label_sequence("")


def test_head_key_and_name() -> None:
    h = emoji.EmojiHead("\U0001F468\U0001F3FD" + ZWJ + "\U0001F9B0", emoji.label_sequence("\U0001F468"))
    assert h.key == "1f468-1f3fd-1f9b0"
    assert h.name == "man, emoji modifier fitzpatrick type-4, emoji component red hair"


FONT = emoji.find_font(sources_cache())
needs_font = pytest.mark.skipif(FONT is None, reason=f"{emoji.PACKAGE} is not unpacked in the data cache "
                                                      "(ganpaint data build faces fetches it)")


@needs_font
def test_font_forms_the_heads_and_renders_them() -> None:
    heads = emoji.heads(FONT)
    keys = {h.key for h in heads}
    assert len(heads) >= 150
    assert "1f468-1f3fd-1f9b0" in keys          # man, medium skin, red hair: one ligature
    assert "1f476-1f9b0" not in {h.key for h in heads}  # never a candidate: babies have no hair forms
    img = emoji.render_head(FONT, heads[0], 64, (0.2, 0.6, 0.3))
    assert img.shape == (64, 64, 3) and img.dtype == np.float32
    assert np.allclose(img[0, 0], (0.2, 0.6, 0.3), atol=1 / 255)  # the corner is background
    assert img.std() > 0.1                                       # and the glyph is drawn
    dark = emoji.render_head(FONT, "\U0001F468\U0001F3FF", 64)
    light = emoji.render_head(FONT, "\U0001F468\U0001F3FB", 64)
    assert dark[24:40, 24:40].mean() < light[24:40, 24:40].mean() - 0.2  # the face, darker


@needs_font
def test_licences_read_from_the_copyright_file() -> None:
    root = FONT.parents[len(emoji.FONT_FILE.split("/")) - 1]
    lic = emoji.licences(root)
    assert [x["licence"] for x in lic] == ["Apache-2.0", "OFL-1.1"]
