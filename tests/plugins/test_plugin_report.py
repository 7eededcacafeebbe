"""format_plugin_table: the text of `ganpaint plugins`."""

from __future__ import annotations

from ganpaint.plugins import PluginRecord, format_plugin_table


def test_table_lists_every_plugin_with_status_and_errors() -> None:
    records = [
        PluginRecord("classic", "0.1.0", "entry point", "loaded", tools=["blur", "invert"], builtin=True),
        PluginRecord("broken", "", "file", "failed", error="import failed: ImportError: no numpy; extra",
                     traceback="Traceback (most recent call last):\n  boom"),
        PluginRecord("future", "9.0", "packages", "incompatible", error="written for plugin API 2"),
    ]
    text = format_plugin_table(records)
    lines = text.splitlines()
    assert lines[0].split() == ["PLUGIN", "VERSION", "STATUS", "SOURCE", "TOOLS"]
    assert lines[1].split() == ["classic", "*", "0.1.0", "loaded", "entry", "point", "blur,", "invert"]
    assert "broken" in lines[2] and "failed" in lines[2] and " - " in lines[2]
    assert "    ! import failed: ImportError: no numpy" in text and "    ! extra" in text
    assert "written for plugin API 2" in text
    assert "Traceback" not in text
    assert "(* built-in)" in text
    # columns line up: STATUS starts at the same offset in every row
    col = lines[0].index("STATUS")
    assert all(line[col:].startswith(("loaded", "failed", "incompatible", "STATUS"))
               for line in lines[:5] if not line.startswith("    "))
    assert "  boom" in format_plugin_table(records, tracebacks=True)


def test_empty_table() -> None:
    assert format_plugin_table([]) == "no plugins found\n"
