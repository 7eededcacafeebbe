"""Issue 12, point 4: the Layers panel follows a layer operation without redrawing every row
(a refresh fills again only the rows whose layer or look changed)."""

from __future__ import annotations

import numpy as np

from ganpaint.core.document import Document
from ganpaint.qt.panels import layers as layers_module
from ganpaint.qt.panels.layers import COL_NAME, LayersPanel


def test_refresh_refills_only_changed_rows(qtbot, monkeypatch):
    doc = Document(64, 48)
    for i in range(40):
        px = np.zeros((48, 64, 4), np.uint8)
        px[i % 48, :, :] = 255
        doc.add_layer(name=f"L{i}", pixels=px)
    panel = LayersPanel(doc)
    qtbot.addWidget(panel)
    filled: list[str] = []
    real = LayersPanel._fill

    def counting(self, item, layer):  # noqa: ANN001, ANN202
        filled.append(layer.name)
        return real(self, item, layer)

    monkeypatch.setattr(LayersPanel, "_fill", counting)
    drawn: list[int] = []
    real_thumb = layers_module.thumbnail
    monkeypatch.setattr(layers_module, "thumbnail", lambda px, *a: drawn.append(1) or real_thumb(px, *a))
    doc.set_layer_props(5, visible=False)
    assert filled == ["L5"] and drawn == []
    filled.clear()
    doc.add_layer(name="new")  # one new row on top; the others move down a row
    assert panel.tree.topLevelItemCount() == 41
    names = [panel.tree.topLevelItem(r).text(COL_NAME) for r in range(41)]
    assert names == [la.name for la in reversed(doc.layers)]
    assert drawn == [1]  # only the new layer's thumbnail is drawn
    filled.clear()
    doc.undo()
    assert panel.tree.topLevelItemCount() == 40
    assert [panel.tree.topLevelItem(r).text(COL_NAME) for r in range(40)] == [la.name for la in reversed(doc.layers)]
    # the active row follows
    doc.active_index = 3
    assert panel.tree.currentItem().text(COL_NAME) == "L3"
