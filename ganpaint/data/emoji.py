"""Human heads from Debian's ``fonts-noto-color-emoji``, labelled from their codepoint names.

The font is fetched with ``apt-get download`` + ``dpkg -x`` into our cache (never installed,
see :mod:`ganpaint.data.debian`). Its glyphs are colour bitmaps (CBDT) with one strike, drawn
by Pillow at size 109 (136 x 128 px) with ``embedded_color=True``. ZWJ sequences (man: red
hair, older woman: medium skin tone, ...) are ligatures in the font's GSUB table, which
Pillow applies through libraqm; a sequence the font cannot form comes out as several glyphs
and is skipped (measured by its advance).

Labels come from ``unicodedata.name`` of each codepoint of a sequence, never from a table
typed in here: "EMOJI MODIFIER FITZPATRICK TYPE-4" gives the skin tone, "BABY" / "CHILD" /
"BOY" / "OLDER ADULT" the age group, "EMOJI COMPONENT RED HAIR" / "PERSON WITH BLOND HAIR" /
"EMOJI COMPONENT BALD" the hair, "BEARDED PERSON" the beard, MAN / WOMAN / MALE SIGN the gender.

Licences (both recorded in the manifest): the artwork is Apache-2.0 upstream (noto-emoji);
Debian's copyright file gives the font file (fonts/*) SIL OFL-1.1.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from ganpaint.data import debian

PACKAGE = "fonts-noto-color-emoji"
FONT_FILE = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
COPYRIGHT_FILE = f"usr/share/doc/{PACKAGE}/copyright"
STRIKE = 109          # the font's only bitmap size
UPSTREAM = "https://github.com/googlefonts/noto-emoji"
ARTWORK_LICENCE = "Apache-2.0"
FONT_LICENCE = "OFL-1.1"

ZWJ = "\u200d"
VS16 = "\ufe0f"

# Codepoints the candidates are built from (their *labels* come from their names).
_PEOPLE = (0x1F476, 0x1F9D2, 0x1F466, 0x1F467, 0x1F9D1, 0x1F468, 0x1F469,
           0x1F9D3, 0x1F474, 0x1F475, 0x1F471, 0x1F9D4)
_GENDER_SIGNS = (0x2642, 0x2640)
_HAIR_COMPONENTS = (0x1F9B0, 0x1F9B1, 0x1F9B3, 0x1F9B2)
_TONES = (None, 0x1F3FB, 0x1F3FC, 0x1F3FD, 0x1F3FE, 0x1F3FF)

#: Fitzpatrick type -> our skin_tone scale (faces.ATTRIBUTES: 0 light .. 1 dark)
FITZPATRICK_TONE = {"1-2": 0.1, "3": 0.3, "4": 0.5, "5": 0.7, "6": 0.9}
AGE_GROUPS = ("baby", "child", "adult", "older")
HAIR_KINDS = ("default", "blond", "red", "curly", "white", "bald")


@dataclass(frozen=True)
class EmojiLabels:
    skin: str | None        # Fitzpatrick type "1-2" .. "6"; None = the default yellow
    age_group: str          # AGE_GROUPS
    hair: str               # HAIR_KINDS
    beard: bool
    gender: str             # "man" / "woman" / "person"

    def as_attributes(self) -> dict[str, float]:
        """The render attributes this emoji tells (faces.ATTRIBUTE_NAMES); NaN = unknown."""
        nan = math.nan
        out = {
            "skin_tone": FITZPATRICK_TONE[self.skin] if self.skin else nan,
            "beard": 1.0 if self.beard else 0.0,
            "age": {"baby": 0.0, "child": 0.0, "older": 1.0}.get(self.age_group, nan),
            "hair_length": 0.0 if self.hair == "bald" else nan,
            "hair_light": {"white": 1.0, "blond": 0.85}.get(self.hair, nan),
            "hair_red": 1.0 if self.hair == "red" else nan,
        }
        return out


@dataclass(frozen=True)
class EmojiHead:
    text: str
    labels: EmojiLabels

    @property
    def key(self) -> str:
        """File-name-safe id: the codepoints in hex, without ZWJ/VS16 (like noto's file names)."""
        return "-".join(f"{ord(c):x}" for c in self.text if c not in (ZWJ, VS16))

    @property
    def name(self) -> str:
        return ", ".join(unicodedata.name(c).lower() for c in self.text if c not in (ZWJ, VS16))


def label_sequence(text: str) -> EmojiLabels:
    """Labels of an emoji sequence from the Unicode names of its codepoints."""
    names = [unicodedata.name(c, "") for c in text if c not in (ZWJ, VS16)]
    if not names or not names[0]:
        raise ValueError(f"not a named emoji sequence: {text!r}")
    skin = None
    for n in names:
        if n.startswith("EMOJI MODIFIER FITZPATRICK TYPE-"):
            skin = n.rsplit("TYPE-", 1)[1]
    base = names[0]
    words = set(" ".join(names).split())
    if "BABY" in words:
        age = "baby"
    elif words & {"CHILD", "BOY", "GIRL"}:
        age = "child"
    elif "OLDER" in words:
        age = "older"
    else:
        age = "adult"
    hair = "default"
    for n in names:
        if n.startswith("EMOJI COMPONENT "):
            hair = n.removeprefix("EMOJI COMPONENT ").removesuffix(" HAIR").lower()
    if "BLOND" in words:
        hair = "blond"
    if words & {"MAN", "BOY", "MALE"}:
        gender = "man"
    elif words & {"WOMAN", "GIRL", "FEMALE"}:
        gender = "woman"
    else:
        gender = "person"
    if hair not in HAIR_KINDS:
        raise ValueError(f"unknown hair component in {base!r}: {hair}")
    return EmojiLabels(skin=skin, age_group=age, hair=hair, beard="BEARDED" in words, gender=gender)


def candidate_sequences() -> list[str]:
    """Every person/head sequence we try: base (+ gender sign) or adult + hair, times tones."""
    seqs: list[str] = []
    for tone in _TONES:
        t = chr(tone) if tone else ""
        for cp in _PEOPLE:
            seqs.append(chr(cp) + t)
            if cp in (0x1F471, 0x1F9D4):  # these have man/woman forms
                for g in _GENDER_SIGNS:
                    seqs.append(chr(cp) + t + ZWJ + chr(g) + VS16)
        for cp in (0x1F9D1, 0x1F468, 0x1F469):
            for hc in _HAIR_COMPONENTS:
                seqs.append(chr(cp) + t + ZWJ + chr(hc))
    return seqs


# ------------------------------------------------------------------ the font


def find_font(cache: Path) -> Path | None:
    """The font file if the package is already unpacked in ``cache`` (no download)."""
    p = cache / "debian" / PACKAGE / FONT_FILE
    return p if p.is_file() else None


def fetch_font(cache: Path) -> tuple[Path, debian.FetchedPackage]:
    """Download (or reuse) and unpack the font package; the font file and the package record."""
    pkg = debian.fetch_deb(PACKAGE, cache)
    font = pkg.root / FONT_FILE
    if not font.is_file():
        raise debian.SourceError(f"{PACKAGE} has no {FONT_FILE}", path=str(pkg.root))
    return font, pkg


def _spdx(name: str) -> str:
    return {"sil-1.1": FONT_LICENCE, "ofl-1.1": FONT_LICENCE}.get(name.lower(), name)


def licences(pkg_root: Path) -> list[dict[str, str]]:
    """The artwork's and the font file's licences, read from the package's copyright file
    (DEP-5: upstream's ``png/*`` artwork falls under ``*``, the font under ``fonts/*``)."""
    cfile = pkg_root / COPYRIGHT_FILE
    if not cfile.is_file():
        raise debian.SourceError(f"{PACKAGE} has no copyright file", path=str(cfile))
    stanzas = debian.parse_copyright(cfile.read_text(encoding="utf-8", errors="replace"))
    art = debian.licence_of(stanzas, "png/128/emoji_u1f468.png")
    font = debian.licence_of(stanzas, "fonts/NotoColorEmoji.ttf")
    if art is None or font is None:
        raise debian.SourceError("no licence stanza for the artwork or the font file", path=str(cfile))
    return [
        {"part": "artwork (the emoji images)", "licence": _spdx(art.licence), "source": UPSTREAM},
        {"part": "font file NotoColorEmoji.ttf", "licence": _spdx(font.licence),
         "source": f"Debian package {PACKAGE}, {COPYRIGHT_FILE}"},
    ]


@lru_cache(maxsize=4)
def load_font(path: str) -> ImageFont.FreeTypeFont:
    if not features.check("raqm"):
        raise RuntimeError("Pillow was built without libraqm: emoji ZWJ sequences cannot be shaped")
    try:
        return ImageFont.truetype(path, STRIKE, layout_engine=ImageFont.Layout.RAQM)
    except OSError as exc:
        raise OSError(f"{path}: not a usable colour emoji font ({exc})") from None


def heads(font_path: Path) -> list[EmojiHead]:
    """The candidate sequences the font draws as one glyph, labelled."""
    font = load_font(str(font_path))
    one = font.getlength(chr(0x1F468))
    out = []
    for text in candidate_sequences():
        if abs(font.getlength(text) - one) < 0.5:
            out.append(EmojiHead(text, label_sequence(text)))
    return out


def render_head(font_path: Path, head: EmojiHead | str, size: int = 64,
                background: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """The glyph on a flat background, cropped square: RGB float32 (size, size, 3) in [0, 1]."""
    text = head.text if isinstance(head, EmojiHead) else head
    font = load_font(str(font_path))
    x0, y0, x1, y1 = font.getbbox(text)
    glyph = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    ImageDraw.Draw(glyph).text((-x0, -y0), text, font=font, embedded_color=True)
    side = max(glyph.size)
    bg = tuple(int(round(255 * v)) for v in background)
    canvas = Image.new("RGBA", (side, side), (*bg, 255))
    canvas.alpha_composite(glyph, ((side - glyph.width) // 2, side - glyph.height))
    out = canvas.convert("RGB").resize((size, size), Image.LANCZOS)
    return np.asarray(out, dtype=np.float32) / 255.0


def head_record(head: EmojiHead) -> dict[str, Any]:
    lab = head.labels
    return {"key": head.key, "name": head.name, "skin": lab.skin, "age_group": lab.age_group,
            "hair": lab.hair, "beard": lab.beard, "gender": lab.gender}
