"""ganpaint.testing: the fixtures we ship to plugin authors do what they say."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core import paths
from ganpaint.core.specs import JobCancelled, Role, ToolError
from ganpaint.plugins import PluginManager
from ganpaint.testing import RecordingContext, make_request, run_tool


def test_isolated_data_dir_moves_every_user_folder(isolated_data_dir: Path) -> None:
    assert os.environ["GANPAINT_DATA_DIR"] == str(isolated_data_dir)
    assert paths.plugins_dir().is_relative_to(isolated_data_dir)
    assert paths.config_dir().is_relative_to(isolated_data_dir)
    assert "GANPAINT_DISABLE_PLUGINS" not in os.environ


def test_plugin_host_sees_no_installed_plugins(plugin_host: PluginManager) -> None:
    # ganpaint-classic is installed in this environment, and still not seen
    assert plugin_host.records() == [] and plugin_host.tools() == {}
    assert not plugin_host.discover and not plugin_host.user_dirs


def test_register_plugin_from_source_text(plugin_host: PluginManager, register_plugin) -> None:  # type: ignore[no-untyped-def]
    rec = register_plugin(
        """
        import numpy as np
        from ganpaint import ParamSpec, ToolResult, ToolSpec, hookimpl
        GANPAINT_API_VERSION = 1

        @hookimpl
        def ganpaint_register_tools():
            return [ToolSpec(id="brighten", title="Brighten", run="probe_text_plugin:run",
                             params=(ParamSpec("by", "float", default=0.1, minimum=0, maximum=1),))]

        def run(request, ctx):
            ctx.progress(0.5, "half way")
            return ToolResult(image=np.clip(request.image + request.params["by"], 0, 1))
        """,
        "probe_text_plugin",
    )
    assert rec.status == "loaded" and rec.tools == ["brighten"]
    ctx = RecordingContext()
    out = run_tool(plugin_host, "brighten", np.full((2, 3, 3), 0.5, np.float32), {"by": 0.25}, ctx=ctx)
    np.testing.assert_allclose(out.image, 0.75)
    assert ctx.calls == [(0.5, "half way")]
    assert "probe_text_plugin" in sys.modules


def test_register_plugin_cleans_up_its_modules() -> None:
    # runs after the test above (same file, so same worker, in order); the conftest's own
    # clean-up does not touch "probe_*" names, so only the fixture can have removed it
    assert "probe_text_plugin" not in sys.modules


def test_recording_context_cancels_and_checks_fractions() -> None:
    ctx = RecordingContext(cancel_after=2)
    ctx.progress(0.1)
    ctx.progress(0.2)
    with pytest.raises(JobCancelled):
        ctx.progress(0.3)
    assert ctx.cancelled()
    with pytest.raises(ValueError):
        RecordingContext().progress(1.5)
    with pytest.raises(ToolError):
        RecordingContext().model_path("x", "y")
    assert RecordingContext(models={("m", "t"): "/p"}).model_path("m", "t") == "/p"


def test_make_request_copies_and_freezes() -> None:
    src = np.zeros((2, 2, 3), np.uint8)
    src[0, 0] = 255
    req = make_request(src, mask=np.ones((2, 2)), extra={Role.IMAGE_B: np.zeros((2, 2, 3))})
    assert req.image.dtype == np.float32 and req.image[0, 0, 0] == 1.0
    assert not req.image.flags.writeable and not req.mask.flags.writeable  # type: ignore[union-attr]
    assert req.size == (2, 2) and Role.IMAGE_B in req.images
    with pytest.raises(ValueError):
        make_request(np.zeros((2, 2)))


def test_tiny_document_has_two_layers_and_a_clean_history(tiny_document) -> None:  # type: ignore[no-untyped-def]
    doc = tiny_document
    assert (doc.width, doc.height) == (32, 24)
    assert [layer.name for layer in doc.layers] == ["Background", "Paint"]
    assert not doc.history.can_undo()
    comp = doc.composite()
    assert comp.shape == (24, 32, 4) and (comp[..., 3] == 255).all()
    # the half-transparent red shows in the middle, the ramp at the corner
    assert comp[12, 16, 0] > comp[12, 16, 1] + 60
    assert tuple(comp[0, 0, :3]) == (0, 0, 128)


def test_tiny_document_runs_a_tool_end_to_end(tiny_document, register_plugin, plugin_host) -> None:  # type: ignore[no-untyped-def]
    import ganpaint_classic

    from ganpaint.core.toolio import apply_result, build_request

    plugin_host.register(ganpaint_classic, "classic")
    doc = tiny_document
    spec = plugin_host.tool("invert")
    request = build_request(doc, spec, {Role.IMAGE: doc.layers[0].id})
    result = run_tool(plugin_host, "invert", np.asarray(request.image))
    apply_result(doc, spec, request, result, doc.layers[0].id)
    assert len(doc.layers) == 3 and doc.history.can_undo()
    top = doc.layers[1]
    assert top.result is not None and top.result.plugin == "classic" and top.result.tool_id == "invert"
    np.testing.assert_array_equal(top.pixels[..., :3], 255 - doc.layers[0].pixels[..., :3])
    doc.history.undo()
    assert len(doc.layers) == 2


@pytest.mark.slow  # the first torch import alone takes seconds on this machine
def test_tiny_model_is_deterministic_and_loads(tiny_model: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import torch

    from ganpaint.testing.tiny_model import load_tiny_model, read_card, save_tiny_model

    again = save_tiny_model(tmp_path / "again.safetensors", seed=0)
    assert tiny_model.read_bytes() == again.read_bytes()
    other = save_tiny_model(tmp_path / "other.safetensors", seed=1)
    assert other.read_bytes() != again.read_bytes()
    card = read_card(tiny_model)
    assert card["architecture"] == "tiny-residual-conv" and card["seed"] == 0
    model = load_tiny_model(tiny_model)
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        y1, y2 = model(x), model(x)
    assert y1.shape == x.shape and torch.equal(y1, y2)
    assert 0.0 < float((y1 - x).abs().max()) <= 0.1 + 1e-6  # a small residual, inside [0, 1]
