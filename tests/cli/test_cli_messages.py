"""Tools' messages speak the editor's words ("make a selection"); the command line says
"--mask" instead (ganpaint.cli.messages.for_cli on every error it prints), while the
editor's messages stay as they are."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganpaint.cli.messages import MASK_HINT, for_cli

from .conftest import data_with_plugin


@pytest.mark.parametrize(
    ("gui", "cli_words"),
    [
        ("Inpaint needs a mask: make a selection or choose a mask layer",
         "Inpaint needs a mask: pass a mask with --mask M (a picture, white where the tool acts)"),
        ("Inpaint: the mask is empty. Select the area to fill (or paint it on a mask layer) first.",
         "Inpaint: the mask is empty. Make the --mask picture white over the area to fill."),
        ("Inpaint: the mask covers the whole picture (32x32), so nothing is left to fill from. "
         "Select only what should be replaced.",
         "Inpaint: the mask covers the whole picture (32x32), so nothing is left to fill from. "
         "Make the --mask picture white only over what should be replaced."),
        ("Inpaint (plugin ganpaint-inpaint): out of memory (try a smaller picture or selection)",
         "Inpaint (plugin ganpaint-inpaint): out of memory (try a smaller picture)"),
        ("Blur: the selection is too small", "Blur: the mask (--mask M) is too small"),
    ],
)
def test_the_editors_words_for_a_mask_become_the_command_lines(gui, cli_words):
    assert for_cli(gui) == cli_words


def test_any_other_mention_of_the_selection_gets_a_hint_and_other_messages_stay():
    assert for_cli("Warp: nothing selected to warp") == f"Warp: nothing selected to warp {MASK_HINT}"
    for text in ("this picture is too small for the tool", "Sketch needs a layer for its Sketch input",
                 "cannot read 'my selection.png': no such file"):  # a quoted file name is not the selection
        assert for_cli(text) == text


def test_the_messages_themselves_still_say_selection_for_the_editor():
    """The rewrite is the command line's: core.toolio (what the editor shows) is unchanged."""
    from ganpaint.core.document import Document
    from ganpaint.core.specs import InputSpec, Role, ToolError, ToolSpec
    from ganpaint.core.toolio import build_request

    doc = Document(8, 8)
    layer = doc.add_layer(name="picture", pixels=np.full((8, 8, 4), 200, np.uint8))
    spec = ToolSpec(id="fill", title="Fill", run="x:y", inputs=(InputSpec(Role.IMAGE), InputSpec(Role.MASK)))
    with pytest.raises(ToolError, match="make a selection"):
        build_request(doc, spec, {Role.IMAGE: layer.id}, {})


def _picture(path, value, mode="RGB"):
    shape = (24, 24, 3) if mode == "RGB" else (24, 24)
    Image.fromarray(np.full(shape, value, np.uint8), mode).save(path)
    return path


def test_ganpaint_run_without_a_mask_says_pass_a_mask(cli, tmp_path):
    src = _picture(tmp_path / "in.png", 128)
    r = cli("run", "inpaint", src, "-o", tmp_path / "out.png")
    assert r.code == 1
    assert "--mask M" in r.err and "selection" not in r.err.lower() and "layer" not in r.err
    assert not (tmp_path / "out.png").exists()


def test_ganpaint_run_with_a_black_mask_names_the_mask(cli, tmp_path):
    src = _picture(tmp_path / "in.png", 128)
    black = _picture(tmp_path / "black.png", 0, "L")
    for tool in ("inpaint", "blur"):  # for blur an empty selection would have meant "everywhere"
        r = cli("run", tool, src, "-o", tmp_path / "out.png", "--mask", black)
        assert r.code == 1 and "black.png' is black everywhere" in r.err, r.err
        assert not (tmp_path / "out.png").exists()


def test_a_tools_own_message_about_the_selection_is_said_with_mask(cli, tmp_path):
    """The inpaint tool's own check (a mask over the whole picture), raised in the worker."""
    src = _picture(tmp_path / "in.png", 128)
    white = _picture(tmp_path / "white.png", 255, "L")
    r = cli("run", "inpaint", src, "-o", tmp_path / "out.png", "--mask", white)
    assert r.code == 1, r.err
    assert "Make the --mask picture white only over what should be replaced" in r.err
    assert "Select" not in r.err


PLUGIN = '''
from ganpaint import ToolError, ToolSpec, hookimpl

GANPAINT_API_VERSION = 1


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="picky", title="Picky", run=f"{__name__}:picky")]


def picky(request, ctx):
    raise ToolError("Picky: nothing selected. Select the area to change first.")
'''


def test_any_tools_message_raised_in_the_worker_is_rewritten(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(data_with_plugin(tmp_path, "gp_picky", PLUGIN)))
    src = _picture(tmp_path / "in.png", 128)
    r = cli("run", "picky", src, "-o", tmp_path / "out.png")
    assert r.code == 1
    line = r.err.strip().splitlines()[-1]
    assert line == (f"ganpaint: error: plugin 'gp_picky', tool 'picky': Picky: nothing selected. Make the "
                    f"--mask picture white over the area to change. {MASK_HINT}"), line
