"""``ganpaint --smoke-test [DIR]``: prove that an installed or frozen GANPaint works.

One line per step on stdout (``smoke: <step>: ok|FAIL|note ...``), exit status 0 only
when every step passed. The steps are what a user's first minute does:

1. start the main window (offscreen unless ``QT_QPA_PLATFORM`` says otherwise);
2. load every plugin through the ``ganpaint.plugins`` entry points (a built-in plugin
   that fails, or none found at all, is a failure; ``GANPAINT_SMOKE_EXPECT=a,b`` names
   plugins that must be among the loaded ones);
3. open the sample picture from the resources folder (checks ``resources_dir()``);
4. run one tool through the real job path: a GAN tool with the default model its
   plugin ships, or, when no model ships, the classic ``blur`` (said in the output);
5. when no model ships: the GAN path all the same, on the Translate tool with an
   UNTRAINED generator stored for this run (frozen torch, model store, plugin);
6. save the picture (PNG and .ora) and read it back; 7. grab a screenshot of the window;
8. the upscaler (when one is installed or bundled): a converted Real-ESRGAN model through
   spandrel on a small new picture, saying whether torchvision or its stand-in was used;
9. (between 1 and 3) check that the Qt binding does not leak references to None per call
   (PySide6 6.12.0 does, which aborts Python 3.11 after ~20,000 calls);
10. pixels: EVERY tool of the built-in plugins, through the same job path, on a 96x64 crop of
   the sample photo (opaque) with an elliptic selection (and a sketch layer for tools that take
   one), each with the default model its plugin ships (tools whose model does not ship are
   listed as skipped). Each result is checked: its size, opaque wherever the input is inside the
   processed area (the inpaint "ghost" of issue 13 had alpha 87-182 in the hole), finite, and
   its per-channel mean and its spread within a band of the statistic recorded in
   ``smoke_reference.json`` beside this file. ``ganpaint --smoke-test [DIR] --write-reference``
   (from the development venv) runs the same step and rewrites that file.

User data is kept out: without ``GANPAINT_DATA_DIR`` a temporary data folder is used
(set it to check the plugins of a real user folder, e.g. ones ``pip --target`` put in
its ``plugin-packages``). Qt is imported here, so this module is only imported by the
``--smoke-test`` flag.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_T0 = time.monotonic()

#: what the smoke test runs when no GAN tool has a default model
FALLBACK_TOOL = "blur"
#: the upscaler step: the tool, and the models it prefers (the fast one first)
UPSCALE_TOOL = "upscale"
UPSCALE_PREFERRED = ("realesr-animevideov3", "realesrgan-x4plus")
#: the GAN tool the untrained-generator check uses
GAN_CHECK_TOOL = "translate"
UNTRAINED_NAME = "smoke-untrained"
#: the pixel step's input: a crop of the sample photo, and where the reference statistics live
PIXEL_SIZE = (96, 64)
PIXEL_CROP_AT = (300, 220)  # the horizon: trees, field and sky
REFERENCE_FILE = Path(__file__).with_name("smoke_reference.json")
#: how far a result's statistic may be from the reference: per-channel mean (0-255 levels) and
#: the standard deviation (absolute levels, or this fraction of the reference, whichever is
#: larger). Wide enough for CPU vs GPU, fp32 vs bf16 and library versions; a blank result
#: (spread ~0), an inverted one (channel means mirrored) or a transparent one fails.
MEAN_TOLERANCE = 18.0
STD_TOLERANCE = 10.0
STD_TOLERANCE_REL = 0.4


class SmokeFailure(Exception):
    """A step failed; the message is the one-line reason."""


def _since_process_start() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere: since import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat: starttime in clock ticks after boot
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _T0


class _Steps:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def line(self, step: str, status: str, text: str) -> None:
        print(f"smoke: {step}: {status} {text}".rstrip(), flush=True)

    def run(self, step: str, fn: Callable[[], str]) -> bool:
        t = time.monotonic()
        try:
            text = fn()
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            msg = " ".join(f"{type(exc).__name__}: {exc}".split()) if not isinstance(exc, SmokeFailure) else str(exc)
            self.line(step, "FAIL", msg)
            self.failed.append(step)
            if os.environ.get("GANPAINT_SMOKE_DEBUG"):
                import traceback

                traceback.print_exc()
            return False
        self.line(step, "ok", f"{text} ({time.monotonic() - t:.2f} s)")
        return True


def _wait_for_jobs(app: Any, window: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while window.runner.pending():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"the tool did not finish within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


def _run_tool(app: Any, window: Any, spec: Any, params: dict[str, Any], timeout: float = 300.0,
              role_layers: dict[Any, str] | None = None) -> str:
    """Run ``spec`` through the window's real job path; returns a description of the result layer."""
    from ganpaint.core.layers import LayerKind

    doc = window.controller.document
    before = len(doc.layers)
    errors: list[str] = []
    window.runner.failed.connect(lambda _job, msg, _tb: errors.append(msg))
    job_id = window.run_tool(spec, params, role_layers)
    if job_id is None:
        raise SmokeFailure(f"{spec.id}: the window refused to run it")
    _wait_for_jobs(app, window, timeout)
    if errors:
        raise SmokeFailure(f"{spec.id} failed: {errors[0]}")
    results = [ly for ly in doc.layers if ly.kind == LayerKind.RESULT]
    if len(doc.layers) <= before or not results:
        raise SmokeFailure(f"{spec.id}: no result layer appeared")
    layer = results[-1]
    return f"{spec.id} made result layer {layer.name!r} ({layer.width}x{layer.height})"


def _shipped_model(window: Any, spec: Any) -> tuple[bool, str | None]:
    """(runnable, model): a tool without a model parameter runs as it is; one with a model runs
    with a read-only (shipped) model for it, preferring the parameter's default; (False, None)
    when no model for it ships."""
    model_params = [p for p in spec.params if p.kind == "model"]
    if not model_params:
        return True, None
    store = window.model_store
    shipped = [e.name for e in store.list(spec.id) if getattr(e, "readonly", False)] if store is not None else []
    if not shipped:
        return False, None
    default = model_params[0].default
    preferred = [*(UPSCALE_PREFERRED if spec.id == UPSCALE_TOOL else ()), default]
    return True, next((n for n in preferred if n in shipped), shipped[0])


def _pixel_input(out: Path) -> Path:
    """The pixel step's input picture (an opaque crop of the sample photo), written to ``out``."""
    from PIL import Image

    from ganpaint.core.paths import resources_dir

    with Image.open(resources_dir() / "samples" / "meadow.png") as im:
        x, y = PIXEL_CROP_AT
        w, h = PIXEL_SIZE
        crop = im.convert("RGB").crop((x, y, x + w, y + h)).convert("RGBA")
    path = out / "smoke-pixel-input.png"
    crop.save(path)
    return path


def _sketch_pixels(width: int, height: int) -> Any:
    import numpy as np

    sk = np.full((height, width, 4), 255, np.uint8)
    sk[height // 5: 4 * height // 5, width // 3, :3] = 0
    sk[height // 2, width // 6: 5 * width // 6, :3] = 0
    yy, xx = np.mgrid[:height, :width]
    ring = np.abs(np.hypot(xx - 2 * width / 3, yy - height / 2) - height / 4) < 1.0
    sk[ring, :3] = 0
    return sk


def pixel_check(app: Any, window: Any, spec: Any, model: str | None, source: Path, timeout: float) -> dict[str, Any]:
    """Run ``spec`` on ``source`` (with an elliptic selection, and a sketch layer for a tool that
    takes one) through the window's job path and return the result's statistic; raises
    SmokeFailure when the result has the wrong size, is not opaque inside the processed area,
    or is not finite."""
    import numpy as np

    from ganpaint.core.geometry import Rect
    from ganpaint.core.layers import LayerKind
    from ganpaint.core.specs import OutputMode, Role
    from ganpaint.core.toolio import layer_on_canvas

    doc = window.controller.document
    doc.history.mark_clean()
    doc.modified = False
    if not window.open_path(str(source)):
        raise SmokeFailure(f"could not open {source}")
    doc = window.controller.document
    w, h = doc.width, doc.height
    role_layers: dict[Any, str] = {}
    roles = {i.role for i in spec.inputs}
    if Role.SKETCH in roles:
        sketch = doc.add_layer(name="Sketch", pixels=_sketch_pixels(w, h), kind=LayerKind.SKETCH)
        role_layers[Role.SKETCH] = sketch.id
        doc.active_index = next(i for i, ly in enumerate(doc.layers) if ly.kind == LayerKind.RASTER)
    doc.select_ellipse(Rect(w // 4, h // 4, w // 2, h // 2))
    selected = np.asarray(doc.selection.mask) == 255
    params = {"model": model} if model else {}
    _run_tool(app, window, spec, params, timeout, role_layers=role_layers or None)
    doc = window.controller.document
    results = [ly for ly in doc.layers if ly.kind == LayerKind.RESULT]
    layer = results[-1]  # _run_tool made sure a result layer appeared
    pixels = layer_on_canvas(layer.pixels, layer.x, layer.y, doc.width, doc.height)
    if spec.output is OutputMode.RESIZE:
        if (doc.width, doc.height) == (w, h):
            raise SmokeFailure(f"{spec.id}: the document kept its size {w}x{h}; the tool resizes it")
        area = np.ones(pixels.shape[:2], bool)
    else:
        if (doc.width, doc.height) != (w, h):
            raise SmokeFailure(f"{spec.id}: the document became {doc.width}x{doc.height} instead of {w}x{h}")
        area = selected
    values = pixels.astype(np.float64)
    if not np.isfinite(values).all():
        raise SmokeFailure(f"{spec.id}: the result holds NaN or infinite values")
    alpha = pixels[..., 3][area]
    if alpha.size == 0 or alpha.min() < 255:
        low = int(alpha.min()) if alpha.size else 0
        share = float((alpha < 255).mean()) if alpha.size else 1.0
        raise SmokeFailure(f"{spec.id}: the result is not opaque where the input is (alpha down to {low} on "
                           f"{share:.0%} of the processed area)")
    rgb = values[..., :3][area]
    return {
        "size": [int(doc.width), int(doc.height)],
        "mean": [round(float(v), 2) for v in rgb.mean(axis=0)],
        "std": round(float(rgb.std()), 2),
    }


def compare_to_reference(tool_id: str, stats: dict[str, Any], reference: dict[str, Any]) -> str:
    """'' when ``stats`` is within the band of ``reference`` (the tool's entry), else why not."""
    if not reference:
        return f"no reference statistic for {tool_id!r} (run ganpaint --smoke-test --write-reference)"
    if list(stats["size"]) != list(reference["size"]):
        return f"size {stats['size']} instead of {reference['size']}"
    diffs = [abs(a - b) for a, b in zip(stats["mean"], reference["mean"], strict=True)]
    if max(diffs) > MEAN_TOLERANCE:
        return (f"channel means {stats['mean']} are off the reference {reference['mean']} by up to "
                f"{max(diffs):.1f} levels (tolerance {MEAN_TOLERANCE:g})")
    band = max(STD_TOLERANCE, STD_TOLERANCE_REL * reference["std"])
    if abs(stats["std"] - reference["std"]) > band:
        return f"spread (std) {stats['std']} is off the reference {reference['std']} by more than {band:.1f}"
    return ""


def builtin_tools(window: Any) -> list[Any]:
    """Every tool of the loaded built-in plugins, in the plugins' order."""
    pm = window.plugin_manager
    if pm is None:
        return []
    tools = pm.tools()
    out = []
    for rec in pm.records():
        if rec.builtin and rec.status == "loaded":
            out += [tools[t] for t in rec.tools if t in tools]
    return out


def pixel_step(app: Any, window: Any, out: Path, timeout: float, *, write_reference: bool = False,
               reference_file: Path = REFERENCE_FILE, line: Callable[[str, str, str], None] | None = None) -> str:
    """Step 10 (see the module's docstring): every built-in tool on a known input; raises
    SmokeFailure naming each tool whose result is wrong. ``write_reference`` records the
    statistics into ``reference_file`` instead of comparing."""
    import json

    say = line or (lambda *_: None)
    source = _pixel_input(out)
    reference: dict[str, Any] = {}
    if not write_reference:
        try:
            reference = json.loads(reference_file.read_text(encoding="utf-8")).get("tools", {})
        except (OSError, ValueError) as exc:
            raise SmokeFailure(f"cannot read the reference statistics {reference_file}: {exc}") from None
    recorded: dict[str, Any] = {}
    bad: list[str] = []
    ran, skipped = [], []
    for spec in builtin_tools(window):
        runnable, model = _shipped_model(window, spec)
        if not runnable:
            skipped.append(spec.id)
            say("pixels", "note", f"{spec.id}: skipped (its model does not ship; it needs one imported or trained)")
            continue
        t = time.monotonic()
        try:
            stats = pixel_check(app, window, spec, model, source, timeout)
        except SmokeFailure as exc:
            bad.append(spec.id)
            say("pixels", "FAIL", str(exc))
            continue
        ran.append(spec.id)
        stats["model"] = model or ""
        recorded[spec.id] = stats
        problem = "" if write_reference else compare_to_reference(spec.id, stats, reference.get(spec.id, {}))
        if problem:
            bad.append(spec.id)
            say("pixels", "FAIL", f"{spec.id}: {problem}")
        else:
            say("pixels", "note", f"{spec.id}{' (' + model + ')' if model else ''}: {stats['size'][0]}x"
                f"{stats['size'][1]}, opaque, mean {stats['mean']}, std {stats['std']} "
                f"({time.monotonic() - t:.2f} s)")
    if not ran and not bad:
        raise SmokeFailure("no built-in tool was found to check")
    if write_reference:
        doc = {
            "_about": "Statistics of each built-in tool's result on the smoke test's input (a 96x64 crop of "
                      "resources/samples/meadow.png at 300,220 with an elliptic selection; a sketch layer for "
                      "sketch): size, per-channel mean and std of the RGB inside the processed area. "
                      "Written by: ganpaint --smoke-test DIR --write-reference (development venv, CPU).",
            "tools": recorded,
        }
        reference_file.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        if bad:
            raise SmokeFailure(f"wrote {reference_file}, but these tools failed: {', '.join(bad)}")
        return f"wrote {reference_file}: {len(recorded)} tools; skipped {', '.join(skipped) or 'none'}"
    if bad:
        raise SmokeFailure(f"wrong pixels from: {', '.join(bad)}")
    return f"{len(ran)} tools checked ({', '.join(ran)}); skipped (model not shipped): {', '.join(skipped) or 'none'}"


def _gan_tool_with_default(window: Any) -> tuple[Any, str] | None:
    """A GAN tool (uses torch, has a model parameter) and a default model shipped for it."""
    store = window.model_store
    if store is None:
        return None
    for spec in window.tool_specs():
        model_params = [p for p in spec.params if p.kind == "model"]
        if not spec.uses_torch or not model_params or spec.id == UPSCALE_TOOL:
            continue  # the upscaler has its own step, on a small picture
        defaults = [e for e in store.list(spec.id) if getattr(e, "readonly", False)]
        if defaults:
            return spec, defaults[0].name
    return None


def _store_untrained_generator(store: Any) -> str:
    """A small ResNet generator with random weights, stored as a translate model."""
    from ganpaint.engine.models.cards import ModelCard
    from ganpaint.engine.models.store import pack_components
    from ganpaint.nn.resnet_generator import ResnetConfig, ResnetGenerator

    config = ResnetConfig(ngf=8, n_blocks=1)
    net = ResnetGenerator(config)
    card = ModelCard(
        architecture="resnet_generator", config=config.to_dict(), tool=GAN_CHECK_TOOL,
        name=UNTRAINED_NAME, title="Untrained generator (smoke test)",
        description="Random weights, made by ganpaint --smoke-test to check the GAN path.",
        licence="CC0-1.0",
    )
    entry = store.add(pack_components({"forward": net.state_dict()}), card, UNTRAINED_NAME)
    return str(entry.name)


def run(out_dir: str | os.PathLike[str] | None = None, *, timeout: float = 300.0,
        write_reference: bool = False) -> int:
    """Run the smoke test; writes its pictures to ``out_dir`` (default: a new temporary
    folder, kept). Returns the exit status (0 = every step passed). ``write_reference``:
    the pixel step rewrites ``smoke_reference.json`` instead of comparing with it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    temp_data = None
    if not os.environ.get("GANPAINT_DATA_DIR"):
        temp_data = tempfile.mkdtemp(prefix="ganpaint-smoke-data-")
        os.environ["GANPAINT_DATA_DIR"] = temp_data
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ganpaint-smoke-"))
    out.mkdir(parents=True, exist_ok=True)
    frozen = bool(getattr(sys, "frozen", False))
    steps = _Steps()
    steps.line("start", "note", f"{'frozen' if frozen else 'python'} {sys.version.split()[0]}, "
               f"QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}, data={os.environ['GANPAINT_DATA_DIR']}"
               f"{' (temporary)' if temp_data else ''}, output={out}")
    state: dict[str, Any] = {}
    try:
        _run_steps(steps, state, out, timeout, write_reference)
    finally:
        _close(state)
        if temp_data:
            shutil.rmtree(temp_data, ignore_errors=True)
    if steps.failed:
        print(f"smoke: FAILED: {', '.join(steps.failed)}", flush=True)
        return 1
    print(f"smoke: PASSED in {_since_process_start():.1f} s since process start", flush=True)
    return 0


def _run_steps(steps: _Steps, state: dict[str, Any], out: Path, timeout: float, write_reference: bool = False) -> None:
    def plugins() -> str:
        from ganpaint.plugins.manager import PluginManager

        pm = PluginManager()
        records = pm.load()
        pm.startup("gui")
        state["pm"] = pm
        for r in records:
            steps.line("plugin", "note" if r.status == "loaded" else "FAIL" if r.builtin else "warn",
                       f"{r.name} {r.version} [{r.status}] {'built-in' if r.builtin else r.source}: "
                       f"tools {', '.join(r.tools) or '-'}{'; ' + r.error if r.error else ''}")
        bad = [r.name for r in records if r.builtin and r.status != "loaded"]
        loaded = {r.name for r in records if r.status == "loaded"}
        expect = {n.strip() for n in os.environ.get("GANPAINT_SMOKE_EXPECT", "").split(",") if n.strip()}
        if bad:
            raise SmokeFailure(f"built-in plugins not loaded: {', '.join(bad)}")
        if not any(r.builtin for r in records):
            raise SmokeFailure("no built-in plugin was found through the entry points")
        if expect - loaded:
            raise SmokeFailure(f"expected plugins missing: {', '.join(sorted(expect - loaded))}")
        return f"{len(loaded)} loaded of {len(records)} found ({', '.join(sorted(loaded))})"

    def window() -> str:
        from ganpaint.qt.app import create_window

        app, win = create_window(None, None, plugin_manager=state.get("pm"))
        state["app"], state["win"] = app, win
        win.resize(1280, 800)
        win.show()
        for _ in range(3):
            app.processEvents()
        shown = _since_process_start()
        from PySide6.QtGui import QFontDatabase

        families = QFontDatabase.families()
        if not families:  # a system without fonts (or fontconfig's config) draws every letter as a box
            raise SmokeFailure("Qt found no font: every text would be drawn as boxes (install fontconfig-config "
                               "and a font such as fonts-dejavu-core)")
        return f"main window shown {shown:.2f} s after process start; {len(families)} font families"

    def binding() -> str:
        import PySide6

        from ganpaint.qt.binding_check import none_is_mortal, none_leak_per_call

        leak = none_leak_per_call(3000)
        if leak >= 0.5:
            raise SmokeFailure(f"PySide6 {PySide6.__version__} leaks a reference to None per void Qt call "
                               f"({leak:.2f}): the editor would abort after minutes on this Python")
        return (f"PySide6 {PySide6.__version__}: {leak:.3f} references to None lost per void Qt call"
                + ("" if none_is_mortal() else " (None is immortal on this Python)"))

    def picture() -> str:
        from ganpaint.core.paths import resources_dir

        sample = resources_dir() / "samples" / "meadow.png"
        if not sample.is_file():
            raise SmokeFailure(f"sample picture missing: {sample} (resources_dir() = {resources_dir()})")
        if not state["win"].open_path(str(sample)):
            raise SmokeFailure(f"could not open {sample}")
        from ganpaint.core.geometry import Rect

        doc = state["win"].controller.document
        # an elliptic selection in the middle: the area an inpainting tool fills (others are
        # composited through it, as in the editor)
        doc.select_ellipse(Rect(doc.width // 4, doc.height // 4, doc.width // 2, doc.height // 2))
        return f"opened {sample} ({doc.width}x{doc.height}), selected an ellipse in the middle"

    def tool() -> str:
        win, app = state["win"], state["app"]
        found = _gan_tool_with_default(win)
        if found is not None:
            spec, model = found
            state["gan_done"] = True
            return "GAN tool with its default model: " + _run_tool(app, win, spec, {"model": model}, timeout)
        spec = win.plugin_manager.tools().get(FALLBACK_TOOL) if win.plugin_manager else None
        if spec is None:
            raise SmokeFailure(f"no GAN tool has a default model and the fallback {FALLBACK_TOOL!r} is missing")
        return (f"NOTE: no GAN tool ships a default model in this build, so the classic "
                f"{FALLBACK_TOOL!r} ran instead: " + _run_tool(app, win, spec, {}, timeout))

    def gan_path() -> str:
        win, app = state["win"], state["app"]
        spec = win.plugin_manager.tools().get(GAN_CHECK_TOOL)
        if spec is None:
            raise SmokeFailure(f"the {GAN_CHECK_TOOL!r} tool is not loaded")
        import torch

        name = _store_untrained_generator(win.model_store)
        text = _run_tool(app, win, spec, {"model": name}, timeout)
        return f"torch {torch.__version__}: {text} with an UNTRAINED generator (random weights; no model ships)"

    def upscale() -> str:
        """A converted Real-ESRGAN model through spandrel (and, in the bundle, the torchvision
        stand-in) on a small new picture: the tool enlarges the document."""
        win, app = state["win"], state["app"]
        spec = win.plugin_manager.tools().get(UPSCALE_TOOL) if win.plugin_manager else None
        store = win.model_store
        names = [e.name for e in store.list(UPSCALE_TOOL)] if spec is not None and store is not None else []
        if not names:
            return f"NOTE: no {UPSCALE_TOOL!r} tool or no upscaler model in this build: skipped"
        model = next((n for n in UPSCALE_PREFERRED if n in names), names[0])
        win.new_document_silent(40, 28)
        text = _run_tool(app, win, spec, {"model": model}, timeout)
        doc = win.controller.document
        from ganpaint.engine.models._torchvision_standin import is_standin

        tv = "the torchvision stand-in" if is_standin() else "torchvision"
        return f"{model}: {text}; document now {doc.width}x{doc.height}; spandrel ran with {tv}"

    def save() -> str:
        from ganpaint.core.imageio import read_image, write_image
        from ganpaint.core.ora import load_ora, save_ora

        doc = state["win"].controller.document
        png, ora = out / "smoke-result.png", out / "smoke-result.ora"
        write_image(png, doc.composite())
        save_ora(doc, ora)
        back = read_image(png)
        layers = len(load_ora(ora).layers)
        if back.size != (doc.width, doc.height) or layers != len(doc.layers):
            raise SmokeFailure("the saved files do not read back as written")
        return f"wrote {png} and {ora} ({layers} layers), read both back"

    def screenshot() -> str:
        app, win = state["app"], state["win"]
        app.processEvents()
        shot = out / "smoke-window.png"
        image = win.grab()
        if image.isNull() or not image.save(str(shot)):
            raise SmokeFailure(f"could not grab or write {shot}")
        return f"wrote {shot} ({image.width()}x{image.height()})"

    if not steps.run("plugins", plugins) or not steps.run("window", window):
        return
    steps.run("binding", binding)
    steps.run("picture", picture) and steps.run("tool", tool)
    if not state.get("gan_done"):
        steps.run("gan", gan_path)
    steps.run("save", save)
    steps.run("screenshot", screenshot)
    steps.run("upscale", upscale)
    steps.run("pixels", lambda: pixel_step(state["app"], state["win"], out, timeout,
                                           write_reference=write_reference, line=steps.line))


def _close(state: dict[str, Any]) -> None:
    win, app = state.get("win"), state.get("app")
    try:
        if win is not None:
            win.controller.document.history.mark_clean()
            win.controller.document.modified = False
            win.close()
            if app is not None:
                app.processEvents()
        pm = state.get("pm")
        if pm is not None:
            pm.shutdown()
    except Exception as exc:  # noqa: BLE001 - closing must not hide the result
        print(f"smoke: close: warn {type(exc).__name__}: {exc}", flush=True)
