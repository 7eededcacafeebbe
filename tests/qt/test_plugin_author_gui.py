"""The editor's side of the plugin author's contract (issue 12, point 6): every mention of
the Plugins dialog names the menu it is really in, and a tool's ToolError reads as plain
language; a result's note is shown after "done"."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ganpaint.core.specs import ToolError, ToolResult, ToolSpec

ROOT = Path(__file__).resolve().parents[2]
_MENTION = re.compile(r"\b(\w+)\s*(?:>|→)\s*P(?:&)?lugins\b")


def _menu_of(window, action) -> str:  # type: ignore[no-untyped-def]
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None and action in menu.actions():
            return menu.title().replace("&", "")
    raise AssertionError("the Plugins action is in no menu")


def test_every_mention_of_the_plugins_dialog_names_its_real_menu(window) -> None:  # type: ignore[no-untyped-def]
    action = window.action_map["plugins"]
    menu = _menu_of(window, action)
    assert action.text().replace("&", "").startswith("Plugins")
    files = [*ROOT.glob("ganpaint/**/*.py"), *ROOT.glob("docs/*.md"), *ROOT.glob("ganpaint/qt/resources/*.md"),
             ROOT / "README.md"]
    seen = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "Manage Plugins" not in text, f"{path}: there is no 'Manage Plugins' item"
        for m in _MENTION.finditer(text):
            seen += 1
            assert m.group(1) == menu, f"{path}: {m.group(0)!r}, but the Plugins dialog is under {menu}"
    assert seen >= 5  # the page for plugin authors, the user guide, the editor's own hints


def refuse(request, ctx):  # type: ignore[no-untyped-def]
    raise ToolError("posterize needs at least 2 levels")


def test_a_tool_error_reads_as_plain_language(window, qtbot, answers) -> None:  # type: ignore[no-untyped-def]
    spec = ToolSpec(id="posterize", title="Posterize", run=f"{__name__}:refuse", plugin="tp_posterize")
    window.new_document_silent(16, 12)
    doc = window.controller.document
    layers, steps = len(doc.layers), doc.history.index
    window.run_tool(spec, {})
    qtbot.waitUntil(lambda: any(c[0] == "open" for c in answers.calls), timeout=10000)
    _, title, text = next(c for c in answers.calls if c[0] == "open")
    assert title == "Posterize could not run"
    assert text.startswith("Posterize could not run. Posterize needs at least 2 levels.\n\nNothing was changed.")
    assert "tp_posterize" in text and "(plugin '" not in text and "ToolError" not in text
    assert len(doc.layers) == layers and doc.history.index == steps
    assert np.asarray(doc.composite()).shape == (12, 16, 4)


def noted(request, ctx):  # type: ignore[no-untyped-def]
    return ToolResult(image=np.asarray(request.image), metadata={"note": "made without the optional library"})


def test_a_result_note_follows_done_in_the_status_bar(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    spec = ToolSpec(id="noted", title="Noted", run=f"{__name__}:noted", plugin="tp_noted")
    window.new_document_silent(16, 12)
    messages: list[str] = []
    window.controller.status_message.connect(messages.append)
    window.run_tool(spec, {})
    qtbot.waitUntil(lambda: any(m.startswith("Noted: done") for m in messages), timeout=10000)
    assert "Noted: done (made without the optional library)" in messages
