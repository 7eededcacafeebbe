"""The Models dialog imports a community model file (read by spandrel) with no tool chosen:
it lands under the tool of its detected purpose, and the dialog says which."""

from __future__ import annotations

import pytest


def test_models_dialog_imports_a_community_upscaler(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.qt.dialogs.models import ModelsDialog

    g = torch.Generator().manual_seed(0)
    sd = {}
    in_ch = 3
    for i in range(3):  # SRVGGNetCompact (x2) in BasicSR layout, random weights
        sd[f"body.{2 * i}.weight"] = torch.randn(8, in_ch, 3, 3, generator=g) * 0.1
        sd[f"body.{2 * i}.bias"] = torch.zeros(8)
        sd[f"body.{2 * i + 1}.weight"] = torch.full((8,), 0.25)
        in_ch = 8
    sd["body.6.weight"] = torch.randn(12, 8, 3, 3, generator=g) * 0.1
    sd["body.6.bias"] = torch.zeros(12)
    src = tmp_path / "anime-x2.pth"
    torch.save({"params": sd}, src)
    store = ModelStore(tmp_path / "store", include_resources=False)
    dlg = ModelsDialog(store, tools=[("upscale", "Upscale")])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.importFinished, timeout=60_000) as blocker:
        assert dlg.import_files([str(src)], "anime-x2", "")  # "" = as detected
    assert blocker.args[0] is True, blocker.args[1]
    assert "'upscale' tool" in blocker.args[1]
    assert [e.name for e in store.list(tool="upscale")] == ["anime-x2"]
    assert dlg.table.item(0, 1).text() == "upscale" and dlg.table.item(0, 2).text() == "spandrel:Compact"
