"""After File > Open of a saved .ora whose active layer is a tool's result, the Tools panel
shows that tool with the parameters stored in the layer (ResultInfo.params) at once, not
the defaults until the layer is clicked again; and showing them re-runs nothing."""

from __future__ import annotations

import numpy as np

from ganpaint.core.commands import InsertLayer
from ganpaint.core.document import Document
from ganpaint.core.layers import Layer, LayerKind, ResultInfo
from ganpaint.core.ora import save_ora

W, H = 16, 10


def _saved(tmp_path, active_result: bool = True):
    doc = Document(W, H)
    doc.add_layer(name="Photo", pixels=np.full((H, W, 4), 120, np.uint8))
    for tool_id, params in (("sharpen", {"amount": 3.5, "radius": 4.2}), ("blur", {"radius": 7.5})):
        info = ResultInfo(tool_id=tool_id, plugin="classic", params=params, source_layer_id=doc.layers[0].id)
        layer = Layer(np.full((H, W, 4), 200, np.uint8), name=f"{tool_id} result", kind=LayerKind.RESULT,
                      result=info)
        doc.execute(InsertLayer(layer, len(doc.layers)))
    doc.active_index = 2 if active_result else 0
    path = tmp_path / "results.ora"
    save_ora(doc, path)
    return path


def test_open_shows_the_active_result_layers_parameters(window, qtbot, tmp_path):
    panel = window.tools_panel
    assert panel.set_plugin_tool("desaturate")  # another tool shown before
    blur_panel = panel.set_plugin_tool("blur")
    blur_panel.set_values({"radius": 1.0})  # and the blur panel holds other values
    panel.set_plugin_tool("desaturate")
    runs = []
    window.runner.bridge.jobAdded.connect(lambda job: runs.append(job))

    assert window.open_path(str(_saved(tmp_path)))
    doc = window.controller.document
    assert doc.active_layer.result.tool_id == "blur"
    assert panel.plugin_tool() == "blur"
    pp = panel.param_panel()
    assert pp.values()["radius"] == 7.5
    assert pp.fields["radius"].get() == 7.5
    qtbot.wait(400)  # past the panel's debounce: showing stored values re-runs nothing
    assert runs == [] and not doc.modified

    # another result layer chosen afterwards shows its own values (the existing behaviour)
    doc.active_index = 1
    assert panel.plugin_tool() == "sharpen"
    assert panel.param_panel().values() == {"amount": 3.5, "radius": 4.2}


def test_open_with_a_plain_layer_active_keeps_the_panel(window, tmp_path):
    panel = window.tools_panel
    panel.set_plugin_tool("desaturate")
    assert window.open_path(str(_saved(tmp_path, active_result=False)))
    assert panel.plugin_tool() == "desaturate"
