"""Clip-art: fills removed / strokes black, metadata, rendering pairs (cairosvg)."""

from __future__ import annotations

import numpy as np
import pytest

from ganpaint.data.clipart import ClipartError, read_info, strip_fills

SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:cc="http://web.resource.org/cc/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     width="100" height="100" viewBox="0 0 100 100">
  <metadata><rdf:RDF><cc:Work rdf:about="">
    <dc:title>Red ball</dc:title>
    <dc:creator><cc:Agent><dc:title>Ada Example</dc:title></cc:Agent></dc:creator>
    <cc:license rdf:resource="http://web.resource.org/cc/PublicDomain"/>
  </cc:Work></rdf:RDF></metadata>
  <g fill="#00ff00">
    <circle cx="50" cy="50" r="35" style="fill:#ff0000;stroke:#3366ff;stroke-width:4;stroke-opacity:0.5"/>
    <rect x="45" y="45" width="10" height="10"/>
  </g>
</svg>"""

NO_STROKES = b"""<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">
  <rect x="10" y="10" width="80" height="30" fill="#2040c0"/>
</svg>"""


def test_strip_fills_removes_fills_and_blackens_strokes() -> None:
    out = strip_fills(SVG).decode()
    assert "#ff0000" not in out and "#00ff00" not in out
    assert "#3366ff" not in out and "stroke:#000000" in out
    assert "stroke-opacity:1" in out


def test_read_info() -> None:
    info = read_info(SVG)
    assert (info.title, info.author) == ("Red ball", "Ada Example")
    assert info.licence_url.endswith("PublicDomain")


def test_unreadable_svg_is_a_clear_error() -> None:
    with pytest.raises(ClipartError, match="not a readable SVG"):
        read_info(b"<svg><unclosed")


def test_render_pair_lines_on_the_outline() -> None:
    pytest.importorskip("cairosvg")
    from ganpaint.data.clipart import render_pair

    pair = render_pair(SVG, size=64, margin=0)
    assert pair.colour.shape == (64, 64, 3) and pair.lines.shape == (64, 64)
    r, g, b = pair.colour[32, 20]  # inside the circle, left of the little rect: red fill
    assert r > 0.8 and g < 0.3 and b < 0.3
    assert (pair.colour[1, 1] > 0.95).all()  # outside: white paper
    yy, xx = np.mgrid[:64, :64] + 0.5
    circle = np.abs(np.hypot(yy - 32, xx - 32) - 35 * 0.64) < 3
    rect = (np.abs(yy - 32) < 6) & (np.abs(xx - 32) < 6)  # the unstroked rect, with a margin
    ink = pair.lines < 0.5
    assert ink[circle].sum() > 50                  # the stroke, blackened
    assert (circle | rect)[ink].all()              # no ink anywhere else (fills are gone)
    assert pair.method == "strokes+edges" and ink[rect].sum() > 8  # the unstroked rect gets an outline
    assert pair.lines[32, 12] > 0.9 and pair.lines[12, 32] > 0.9   # flat red fill: paper


def test_render_pair_without_strokes_uses_colour_edges() -> None:
    pytest.importorskip("cairosvg")
    from ganpaint.data.clipart import render_pair

    pair = render_pair(NO_STROKES, size=64, margin=0)
    assert pair.method == "edges"
    assert pair.lines[32, 32] > 0.9          # inside the flat rect: paper
    assert (pair.lines < 0.5).sum() > 40     # its boundary: ink


def test_empty_drawing_is_rejected() -> None:
    pytest.importorskip("cairosvg")
    from ganpaint.data.clipart import render_pair

    with pytest.raises(ClipartError, match="empty"):
        render_pair(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', size=32)
