"""The plugin author's side of the contract (issue 12, point 6): what docs/plugins.md promises
is what the host does, and the testing helpers behave like the editor."""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import ganpaint
from ganpaint import InputSpec, ModelSpec, ParamSpec, Role, ToolError, ToolResult, ToolSpec, hookimpl
from ganpaint.core import specs
from ganpaint.plugins import PluginManager
from ganpaint.plugins.docgen import DEFAULT_DOC
from ganpaint.testing import RecordingContext, ToolRun, make_request, run_tool

DOC = DEFAULT_DOC.read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = DOC.index(title)
    end = DOC.find("\n## ", start + 1)
    nxt = DOC.find("\n### ", start + 1)
    stops = [i for i in (end, nxt) if i != -1]
    return DOC[start : min(stops) if stops else len(DOC)]


# ------------------------------------------------------------------------------ the page


def test_every_param_kind_and_the_naming_rule_are_documented() -> None:
    table = _section("### Parameters: kinds, names and checks")
    for kind in specs._KINDS:
        assert f"\n| `{kind}` |" in table, f"kind {kind!r} is missing from the table"
    assert f"`{specs._NAME_RE.pattern}`" in table  # the rule as the code checks it
    for bad in ("Levels", "soft-edge", "2x"):  # the page's own examples of bad names
        assert f"`{bad}`" in table
        with pytest.raises(ganpaint.SpecError, match="lower-case identifier"):
            ParamSpec(bad, "int")
    ParamSpec("soft_edge", "int")


def test_run_context_members_and_cancel_are_documented() -> None:
    running = _section("### Running a tool: the context, devices and cancel")
    members = [n for n in ("progress", "cancelled", "model_path") if callable(getattr(specs.RunContext, n))]
    for name in [*members, "device", "precision"]:
        assert f"`ctx.{name}" in running, name
    # cancel: JobCancelled is a BaseException (an `except Exception:` cannot swallow it) and a tool
    # that does not stop is ended after a grace period (the worker pool's forced cancel)
    for needle in ("JobCancelled", "BaseException", "`except Exception:`", "re-raise", "0.4 s", '"cuda"', '"fast"'):
        assert needle in running, needle


def test_fixtures_helpers_and_plugin_manager_api_are_documented() -> None:
    import ganpaint.testing as testing
    from ganpaint.testing import plugin as pytest_plugin

    testing_doc = _section("## Testing a plugin")
    for fixture in pytest_plugin.__all__:
        assert f"| `{fixture}` |" in testing_doc, fixture
    for helper in ("run_tool", "make_request", "write_dist_info", "RecordingContext"):
        fn = getattr(testing, helper)
        start = testing_doc.index(f"`{helper}(")
        text = testing_doc[start : start + 900]
        for param in inspect.signature(fn).parameters:
            if param not in ("request_kw",):
                assert param in text, f"{helper}: parameter {param!r} is not documented"
    assert "`ctx.calls`" in testing_doc and "(fraction, message)" in testing_doc
    api = _section("### The `PluginManager` API")
    public = [n for n, v in vars(PluginManager).items() if not n.startswith("_") and callable(v)]
    public += ["changed"]
    for name in public:
        if name == "pluggy_manager":
            continue
        assert f"`{name}" in api or f" {name}(" in api or f"`{name}(" in api, f"PluginManager.{name}"


def test_spec_error_is_exported_beside_the_descriptors() -> None:
    assert ganpaint.SpecError is specs.SpecError and "SpecError" in ganpaint.__all__
    assert issubclass(ganpaint.SpecError, ValueError)


def test_no_mention_of_a_plugins_menu_that_does_not_exist() -> None:
    assert "Help > Plugins" not in DOC and "Manage Plugins" not in DOC
    assert "Edit > Plugins..." in DOC


# ------------------------------------------------------------------------------ registration


def _plugin(run: str, **extra: object) -> SimpleNamespace:
    return SimpleNamespace(
        GANPAINT_API_VERSION=1,
        ganpaint_register_tools=hookimpl(lambda: [ToolSpec(id="probe", title="Probe", run=run, **extra)]),
    )


@pytest.fixture
def lazy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A tool module on sys.path whose import would fail loudly: a registration that imported
    it (or what it imports, such as torch) would be seen."""
    pkg = tmp_path / "tp_contract_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tool.py").write_text(
        "raise RuntimeError('the tool module was imported at registration')\n\n"
        "import torch  # noqa: E402\n\n\ndef run(request, ctx):\n    pass\n\n\nHELPER = 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tp_contract_pkg.tool"
    for name in [n for n in sys.modules if n.startswith("tp_contract_pkg")]:
        del sys.modules[name]


def test_a_good_lazy_path_loads_without_importing_the_module(plugin_host: PluginManager, lazy_module: str) -> None:
    rec = plugin_host.register(_plugin(f"{lazy_module}:run"), "tp_good")
    assert rec.status == "loaded", rec.error
    assert lazy_module not in sys.modules, "registration imported the tool module"


@pytest.mark.parametrize(
    "run, why",
    [
        ("tp_contract_pkg.tol:run", "there is no module 'tp_contract_pkg.tol'"),
        ("tp_contract_pkgg.tool:run", "there is no module 'tp_contract_pkgg'"),
        ("tp_contract_pkg.tool:rnu", "module 'tp_contract_pkg.tool' defines no 'rnu'"),
    ],
)
def test_a_typo_in_run_fails_the_plugin_at_registration(
    plugin_host: PluginManager, lazy_module: str, run: str, why: str
) -> None:
    rec = plugin_host.register(_plugin(run), "tp_typo")
    assert rec.status == "failed" and rec.tools == []
    assert "plugin 'tp_typo'" in rec.error and repr(run) in rec.error and why in rec.error, rec.error
    assert "probe" not in plugin_host.tools()
    assert lazy_module not in sys.modules
    # a healthy plugin is not affected
    assert plugin_host.register(_plugin(f"{lazy_module}:HELPER"), "tp_fine").status == "loaded"


def test_other_lazy_paths_are_checked_too(plugin_host: PluginManager, lazy_module: str) -> None:
    rec = plugin_host.register(_plugin(f"{lazy_module}:run", canvas="tp_contract_pkg.nowhere:size"), "tp_canvas")
    assert rec.status == "failed" and "canvas='tp_contract_pkg.nowhere:size'" in rec.error
    seed = ParamSpec("seed", "seed", thumbnails="tp_contract_pkg.tool:thumbs")
    rec = plugin_host.register(_plugin(f"{lazy_module}:run", params=(seed,)), "tp_thumbs")
    assert rec.status == "failed" and "thumbnails='tp_contract_pkg.tool:thumbs'" in rec.error


def test_a_typo_in_a_single_file_plugin_fails_when_it_loads(register_plugin) -> None:  # type: ignore[no-untyped-def]
    rec = register_plugin(
        """
        from ganpaint import ToolSpec, hookimpl
        GANPAINT_API_VERSION = 1

        @hookimpl
        def ganpaint_register_tools():
            return [ToolSpec(id="typo", title="Typo", run=f"{__name__}:runn")]

        def run(request, ctx):
            pass
        """,
        "tp_single_typo",
    )
    assert rec.status == "failed" and "'tp_single_typo:runn'" in rec.error and "has no 'runn'" in rec.error


# ------------------------------------------------------------------------------ run_tool = the host


def _brighten(request, ctx):  # type: ignore[no-untyped-def]
    ctx.progress(0.5, "brightening")
    return ToolResult(image=np.clip(request.image + 0.3, 0, 1), alpha=np.full(request.size[::-1], 0.5, np.float32))


def _fill(request, ctx):  # type: ignore[no-untyped-def]
    return ToolResult(image=np.ones(request.image.shape, np.float32))


def _tools_plugin() -> SimpleNamespace:
    me = __name__
    return SimpleNamespace(
        GANPAINT_API_VERSION=1,
        ganpaint_register_tools=hookimpl(lambda: [
            ToolSpec(id="brighten", title="Brighten", run=f"{me}:_brighten"),
            ToolSpec(id="fill", title="Fill", run=f"{me}:_fill", inputs=(InputSpec(Role.IMAGE), InputSpec(Role.MASK))),
        ]),
    )


def test_run_tool_applies_the_selection_exactly_as_the_editor(plugin_host: PluginManager) -> None:
    from ganpaint.core.document import Document
    from ganpaint.core.toolio import apply_result, build_request
    from ganpaint.engine.jobs.runner import run_tool as host_run

    plugin_host.register(_tools_plugin(), "tp_tools")
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    selection = rng.integers(0, 256, (9, 11), dtype=np.uint8)  # soft, as the document keeps it
    # the editor: document -> request -> runner -> result layer
    doc = Document(11, 9)
    source = doc.add_layer(name="Photo", pixels=rgba)
    doc.set_selection(selection, "Soft")
    spec = plugin_host.tool("brighten")
    request = build_request(doc, spec, {Role.IMAGE: source.id})
    result = host_run(spec, None, request, RecordingContext(), resolver=plugin_host.resolve)
    layer = apply_result(doc, spec, request, result, source.id).layer  # type: ignore[attr-defined]
    # the helper, given the same picture, alpha and selection
    run = run_tool(plugin_host, "brighten", rgba[..., :3], alpha=rgba[..., 3] / np.float32(255), mask=selection)
    assert isinstance(run, ToolRun)
    np.testing.assert_array_equal(run.pixels, layer.pixels)
    # image/alpha: the composite before rounding; raw: what the tool returned
    np.testing.assert_allclose(run.image, layer.pixels[..., :3] / 255, atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(run.alpha, layer.pixels[..., 3] / 255, atol=0.5 / 255 + 1e-6)
    outside = selection == 0
    np.testing.assert_allclose(run.image[outside], rgba[..., :3][outside] / 255, atol=1e-6)
    assert not np.allclose(run.raw.image[outside], run.image[outside])


def test_run_tool_without_a_mask_returns_the_tools_own_picture(plugin_host: PluginManager) -> None:
    plugin_host.register(_tools_plugin(), "tp_tools")
    image = np.full((3, 4, 3), 0.25, np.float32)
    ctx = RecordingContext()
    run = run_tool(plugin_host, "brighten", image, ctx=ctx)
    np.testing.assert_array_equal(run.image, run.raw.image)
    np.testing.assert_allclose(run.image, 0.55)
    assert ctx.calls == [(0.5, "brightening")] and run.request.canvas == (4, 3)


def test_run_tool_refuses_a_required_mask_like_the_editor(plugin_host: PluginManager) -> None:
    from ganpaint.core.document import Document
    from ganpaint.core.toolio import build_request

    plugin_host.register(_tools_plugin(), "tp_tools")
    doc = Document(4, 3)
    doc.add_layer(name="Photo")
    with pytest.raises(ToolError) as host_refusal:
        build_request(doc, plugin_host.tool("fill"), {})
    with pytest.raises(ToolError) as helper_refusal:
        run_tool(plugin_host, "fill", np.zeros((3, 4, 3), np.float32))
    assert str(helper_refusal.value) == str(host_refusal.value)
    mask = np.zeros((3, 4), np.float32)
    mask[0] = 1
    out = run_tool(plugin_host, "fill", np.zeros((3, 4, 3), np.float32), mask=mask).image
    assert (out[0] == 1).all() and (out[1:] == 0).all()


# ------------------------------------------------------------------------------ shipped models


def _model_file(folder: Path, name: str, tool: str) -> Path:
    """A safetensors file with a model card, written without torch."""
    from safetensors.numpy import save_file

    from ganpaint.testing.tiny_model import CARD_KEY

    path = folder / f"{name}.safetensors"
    card = {"name": name, "tool": tool, "architecture": "lut", "license": "CC0-1.0"}
    save_file({"lut": np.linspace(0, 1, 8, dtype=np.float32)}, str(path), metadata={CARD_KEY: json.dumps(card)})
    return path


def _lut(request, ctx):  # type: ignore[no-untyped-def]
    from safetensors.numpy import load_file

    lut = load_file(ctx.model_path(request.params["model"], "lut"))["lut"]
    return ToolResult(image=lut[np.clip((request.image * 7).round().astype(int), 0, 7)])


def _model_plugin(path: Path) -> SimpleNamespace:
    me = __name__
    return SimpleNamespace(
        GANPAINT_API_VERSION=1,
        ganpaint_register_models=hookimpl(lambda: [ModelSpec(name="ramp", tool="lut", path=str(path), default=True)]),
        ganpaint_register_tools=hookimpl(lambda: [ToolSpec(
            id="lut", title="LUT", run=f"{me}:_lut", params=(ParamSpec("model", "model", default="ramp"),))]),
    )


def test_recording_context_finds_the_models_the_plugin_ships(plugin_host: PluginManager, tmp_path: Path) -> None:
    path = _model_file(tmp_path, "ramp", "lut")
    plugin = _model_plugin(path)
    assert plugin_host.register(plugin, "tp_lut").status == "loaded"
    ctx = RecordingContext()
    with pytest.raises(ToolError):  # no host yet: nothing to look in
        ctx.model_path("ramp", "lut")
    run = run_tool(plugin_host, "lut", np.full((2, 2, 3), 0.5, np.float32), ctx=ctx)
    assert ctx.host is plugin_host and ctx.model_path("ramp", "lut") == str(path)
    assert run.image.shape == (2, 2, 3)
    # without a host: the plugin module (or object) itself
    assert RecordingContext(plugin=plugin).model_path("ramp", "lut") == str(path)
    with pytest.raises(ToolError, match="no model named 'other'"):
        RecordingContext(plugin=plugin).model_path("other", "lut")
    # an explicit mapping still wins
    assert RecordingContext(models={("ramp", "lut"): "x"}, plugin=plugin).model_path("ramp", "lut") == "x"


def test_make_request_sets_the_canvas_and_reads_a_uint8_mask() -> None:
    req = make_request(np.zeros((2, 5, 3), np.uint8), mask=np.full((2, 5), 255, np.uint8))
    assert req.canvas == (5, 2) and req.mask is not None and req.mask.dtype == np.float32
    assert (req.mask == 1.0).all()


def test_docs_example_files_are_valid_python() -> None:
    blocks = re.findall(r"<!-- file: (?P<path>[^ ]+\.py) -->\n```python\n(.*?)```", DOC, re.S)
    assert {p for p, _ in blocks} >= {"examples/test_a_plugin_with_a_model.py"}
    for path, body in blocks:
        compile(body, path, "exec")
