"""``ganpaint run TOOL [INPUT] -o OUTPUT``: run any tool headless.

The same path as the editor: the picture becomes a Document, the mask its
selection, ``core.toolio.build_request`` copies the inputs out, the job engine
runs the tool in a worker process (``engine.jobs.runner``, ``engine.jobs.workers``),
``core.toolio.apply_result`` makes the result layer. A plain-picture OUTPUT gets that layer's pixels (composited through the
mask); an ``.ora`` OUTPUT gets the document with the original and the result as
separate layers. A folder INPUT and OUTPUT runs a batch: ``--jobs N`` spreads its pictures
over N worker processes of the tool's plugin (each its own models and 1/N of the cores),
outputs that exist are finished (writes are atomic) and skipped unless ``--overwrite``, and a
picture that fails is reported by name while the others go on.
"""

from __future__ import annotations

import argparse
import os
import queue as queue_module
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ganpaint.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    CliError,
    Interrupted,
    ProgressBar,
    UsageError,
    check_named_device,
    check_output_type,
    is_ora,
    note,
    plugin_manager,
    read_picture,
    supported_input,
    write_document,
    write_picture,
)
from ganpaint.cli.messages import for_cli

if TYPE_CHECKING:
    from ganpaint.core.specs import Role, ToolRequest, ToolResult, ToolSpec
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.engine.jobs.runner import Resolver

#: extra input options: option name -> (Role value, LayerKind value)
#: the canvas of a run without INPUT or --size (unless the tool's ``canvas`` hook says otherwise)
DEFAULT_CANVAS = (512, 512)
#: the largest side a tool's ``canvas`` hook may ask for
MAX_CANVAS = 16384

_EXTRA_INPUTS = {
    "sketch": ("sketch", "sketch"),
    "hints": ("hints", "hints"),
    "image_b": ("image_b", "raster"),
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a tool on a picture (or a folder of pictures) without the editor",
        description="Run TOOL on INPUT and write OUTPUT. The output is the result composited "
        "through the mask; an .ora OUTPUT keeps the original and the result as separate layers. "
        "A folder INPUT and OUTPUT runs a batch. See 'ganpaint tools TOOL' for its parameters.",
    )
    p.add_argument("tool", metavar="TOOL", help="tool id (see 'ganpaint tools')")
    p.add_argument("input", nargs="?", metavar="INPUT", help="picture, .ora document or folder")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="picture, .ora document or folder")
    p.add_argument("--mask", metavar="M", help="greyscale picture of the input's size: white = act, grey blends")
    p.add_argument("--model", metavar="NAME", help="model-store name (sets the tool's model parameter)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="params",
                   help="set a parameter (repeatable)")
    p.add_argument("--sketch", metavar="FILE", help="picture for the tool's sketch input")
    p.add_argument("--hints", metavar="FILE", help="picture for the tool's colour-hints input")
    p.add_argument("--image-b", metavar="FILE", dest="image_b", help="picture for the tool's second image input")
    p.add_argument("--size", metavar="WxH", help="canvas size for a tool that takes no input picture")
    p.add_argument("--precision", choices=("full", "fast"), default="full",
                   help="fast allows reduced precision where the device supports it")
    p.add_argument("--format", metavar="EXT", help="batch: write this picture type (png, jpg, ...)")
    p.add_argument("-j", "--jobs", type=_positive_int, default=1, metavar="N",
                   help="batch: run N pictures at once, each in a worker process of its own "
                        "with 1/N of the CPU threads (default 1)")
    p.add_argument("--overwrite", action="store_true",
                   help="batch: redo pictures whose output already exists (default: skip them)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def parse_assignments(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        out[name.strip()] = value
    return out


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expects a whole number of 1 or more, got {text!r}")
    return value


def _parse_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise UsageError(f"--size expects WIDTHxHEIGHT, got {text!r}")
    return int(w), int(h)


def resolve_params(spec: ToolSpec, args: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = parse_assignments(args.params)
    if args.model:
        model_param = next((p for p in spec.params if p.kind == "model"), None)
        if model_param is None:
            raise UsageError(f"tool {spec.id!r} takes no model")
        given[model_param.name] = args.model
    try:
        return spec.resolve_params(given)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from ganpaint.core.specs import Role
    from ganpaint.engine.inference.devices import DeviceError, check_device_name, pick_device
    from ganpaint.engine.jobs import INTERACTIVE, JobQueue
    from ganpaint.plugins.errors import UnknownToolError

    device_pref = getattr(args, "device", None)
    try:
        check_device_name(device_pref)
    except DeviceError as exc:
        raise UsageError(str(exc)) from None
    # A device asked for by name (--device cuda, $GANPAINT_DEVICE) is checked here, before
    # any tool runs: a machine without it is the host's sentence, not the plugin's failure.
    named = check_named_device(device_pref)
    device: Any = (lambda: pick_device(device_pref)) if named is None else named
    pm = plugin_manager(args)
    pm.startup("cli")
    try:
        spec = pm.tool(args.tool)
    except UnknownToolError as exc:
        raise UsageError(str(exc)) from None
    params = resolve_params(spec, args)
    needs_image = any(i.role is Role.IMAGE and i.required for i in spec.inputs)
    if args.input is None and needs_image:
        raise UsageError(f"tool {spec.id!r} needs an INPUT picture")
    batch = args.input is not None and os.path.isdir(args.input)
    if not batch:
        if args.input is not None and not os.path.exists(args.input):
            raise CliError(f"cannot read '{args.input}': no such file")
        if os.path.isdir(args.output) and args.input is not None:
            args.output = os.path.join(args.output, Path(args.input).name)
        check_output_type(args.output)
    if args.format:
        check_output_type(f"x.{args.format.lstrip('.')}")

    model_path = _model_resolver(pm)
    jobs = int(getattr(args, "jobs", 1) or 1) if batch else 1
    pool = _worker_pool(jobs)
    if jobs > 1:  # N workers of this plugin at once, each with its own models
        pool.set_workers(pool.key_of(spec), jobs)
    queue = JobQueue(
        lanes=(INTERACTIVE,),
        device=device,
        precision=args.precision,
        model_resolver=model_path,
        pool=pool,  # the tool runs in a worker process, as in the editor
    )
    try:
        runner = _Runner(spec, params, queue, pm.resolve, args, model_path)
        if batch:
            return runner.batch(Path(args.input), Path(args.output))
        runner.single(args.input, args.output)
        return EXIT_OK
    finally:
        queue.shutdown(wait=False)
        pm.shutdown()


def _worker_pool(jobs: int = 1) -> Any:
    """The pool the tool runs in: the editor's settings (``worker_*`` keys) and environment.
    ``jobs`` > 1: room for that many workers, each with its share of the threads."""
    from ganpaint.engine.jobs.workers import WorkerPool, pool_settings

    try:
        from ganpaint.core.settings import Settings

        settings: Any = Settings.load()
    except Exception:  # noqa: BLE001 - unreadable settings: the defaults
        settings = None
    base = pool_settings(settings)
    if jobs <= 1:
        return WorkerPool(settings=base)
    from ganpaint.engine.inference.devices import default_threads

    return WorkerPool(settings=base, size=max(base.size, jobs), threads=max(1, default_threads() // jobs))


def _model_resolver(pm: Any) -> Any:
    """``ctx.model_path``: the user's model store plus the models plugins ship.
    The store is opened on first use (only tools that need a model pay for it)."""

    stores: list[Any] = []  # opened once, on the first call (a batch resolves once per picture)

    def resolve(name: str, tool: str) -> str:
        from ganpaint.core.specs import ToolError

        if not stores:
            try:
                from ganpaint.engine.models.store import ModelStore
            except ImportError:
                raise ToolError(f"no model store is available to find model {name!r}") from None
            stores.append(ModelStore(defaults=pm.models()))
        return str(stores[0].path_for(name, tool))

    return resolve


class _Runner:
    def __init__(
        self, spec: ToolSpec, params: dict[str, Any], queue: JobQueue, resolver: Resolver, args: argparse.Namespace,
        model_path: Callable[[str, str], str] | None = None,
    ) -> None:
        self.spec, self.params, self.queue, self.resolver, self.args = spec, params, queue, resolver, args
        self.model_path = model_path
        self.mask_cache: dict[tuple[int, int], np.ndarray] = {}

    # ------------------------------------------------------------------ one picture

    def single(self, in_path: str | None, out_path: str) -> None:
        bar = ProgressBar(1, self.spec.id, enabled=not self.args.quiet)
        try:
            self._one(in_path, out_path, bar)
        finally:
            bar.close()

    def _one(self, in_path: str | None, out_path: str, bar: ProgressBar | None, *, lane: str | None = None,
             stop: threading.Event | None = None) -> None:
        from ganpaint.core.document import Document
        from ganpaint.core.layers import LayerKind
        from ganpaint.core.specs import Role, ToolError
        from ganpaint.core.toolio import apply_result, build_request, layer_on_canvas

        icc: bytes | None = None
        if in_path is not None:
            rgba, icc = read_picture(in_path)
            name = Path(in_path).stem
        else:
            if self.args.size:
                w, h = _parse_size(self.args.size)
            else:  # a sketch (or hints, second image) picture sets the canvas; else the tool's hook
                w, h = self._extra_input_size() or self._default_canvas()
            rgba, name = np.full((h, w, 4), 255, np.uint8), "Canvas"
        height, width = rgba.shape[:2]
        doc = Document(width, height)
        if icc:
            doc.icc_profile = icc  # kept by save_ora
        source = doc.add_layer(name=name, pixels=rgba)
        role_layers: dict[Role, str] = {Role.IMAGE: source.id}
        for opt, (role_name, kind) in _EXTRA_INPUTS.items():
            path = getattr(self.args, opt, None)
            if path is None:
                continue
            pixels, _ = read_picture(path)
            _check_size(path, pixels, width, height, "input")
            extra = doc.add_layer(name=Path(path).stem, pixels=pixels, kind=LayerKind(kind))
            role_layers[Role(role_name)] = extra.id
        if self.args.mask:
            mask = self._mask(self.args.mask, width, height)
            if not mask.any():  # an empty selection would mean "everywhere" to the tool
                raise CliError(f"the mask '{self.args.mask}' is black everywhere: white marks where "
                               f"{self.spec.title} acts")
            doc.set_selection(mask, "Mask")
        try:
            request = build_request(doc, self.spec, role_layers, self.params)
        except (ValueError, ToolError) as exc:  # a missing input: the user can fix it
            raise CliError(str(exc)) from None
        result = self._run_job(request, bar, lane=lane, stop=stop)
        cmd = apply_result(doc, self.spec, request, result, source.id)
        if is_ora(out_path):
            write_document(doc, out_path)
            return
        layer = getattr(cmd, "layer", None) or doc.find_layer(source.id)
        if (doc.width, doc.height) != (width, height):  # OutputMode.RESIZE: the result is active
            layer = doc.active_layer
        assert layer is not None  # the source was just added; nothing removes it
        out = layer_on_canvas(layer.pixels, layer.x, layer.y, doc.width, doc.height)
        for n in write_picture(out_path, out, icc):
            note(f"{out_path}: {n}")

    def _extra_input_size(self) -> tuple[int, int] | None:
        """The size of the first extra input picture given (--sketch, --hints, --image-b): a run
        without INPUT or --size paints on a canvas of that size, which the others must match."""
        for opt in _EXTRA_INPUTS:
            path = getattr(self.args, opt, None)
            if path is not None:
                pixels, _ = read_picture(path)
                return int(pixels.shape[1]), int(pixels.shape[0])
        return None

    def _default_canvas(self) -> tuple[int, int]:
        """The canvas of a run without INPUT or --size: what the tool's ``canvas`` hook says
        (a generator's own resolution), else 512 x 512."""
        if not self.spec.canvas or self.model_path is None:
            return DEFAULT_CANVAS
        from ganpaint.core.specs import ToolError

        try:
            size = self.resolver(self.spec.canvas)(dict(self.params), self.model_path)
        except ToolError as exc:  # an unknown model, say: the user can fix it
            raise CliError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a plugin's hook failing must not hide the tool
            note(f"{self.spec.id}: cannot tell the tool's canvas size ({type(exc).__name__}: {exc}); using 512x512")
            return DEFAULT_CANVAS
        if not size:
            return DEFAULT_CANVAS
        w, h = int(size[0]), int(size[1])
        if not (0 < w <= MAX_CANVAS and 0 < h <= MAX_CANVAS):
            raise CliError(f"{self.spec.id}: the tool asked for a {w}x{h} canvas; give --size WxH")
        return w, h

    def _mask(self, path: str, width: int, height: int) -> np.ndarray:
        if (width, height) not in self.mask_cache:
            rgba, _ = read_picture(path)
            _check_size(path, rgba, width, height, "mask")
            rgb = rgba[..., :3].astype(np.float32)
            lum = rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)
            grey = lum * (rgba[..., 3].astype(np.float32) / 255.0)  # transparent counts as black
            self.mask_cache[(width, height)] = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return self.mask_cache[(width, height)]

    def _run_job(self, request: ToolRequest, bar: ProgressBar | None, *, lane: str | None = None,
                 stop: threading.Event | None = None) -> ToolResult:
        """Run the tool on ``request`` through the queue (on ``lane``: a batch's slot). ``stop``
        set (a batch's Ctrl+C, seen from a slot's thread) cancels the job like Ctrl+C does."""
        from ganpaint.engine.jobs import JobState, ProgressMessage
        from ganpaint.engine.jobs.runner import make_tool_job

        job = make_tool_job(self.spec, request, resolver=self.resolver, lane=lane)

        def on_progress(m: ProgressMessage) -> None:
            if m.job_id == job.id and bar is not None:
                bar.update(m.fraction, m.message)

        self.queue.events.job_progress.connect(on_progress)
        try:
            try:
                # submit inside: a Ctrl+C while submit() returns (the tool may already run) cancels too
                self.queue.submit(job)
                while not job.wait(0.1):
                    if stop is not None and stop.is_set():
                        self.queue.cancel(job.id)
                        job.wait(30.0)
                        raise Interrupted("interrupted: nothing was written")
            except KeyboardInterrupt:
                self.queue.cancel(job.id)
                if self.queue.get(job.id) is not None:  # it was submitted: let it end first
                    note("cancelling (Ctrl+C again to quit at once) ...")
                    job.wait(30.0)  # a second Ctrl+C raises KeyboardInterrupt out of here
                raise Interrupted("interrupted: nothing was written") from None
        finally:
            self.queue.events.job_progress.disconnect(on_progress)
        if job.state is JobState.DONE:
            if bar is not None:
                bar.update(1.0)
            return job.result  # type: ignore[no-any-return]
        if job.state is JobState.CANCELLED:
            raise Interrupted("cancelled: nothing was written")
        if job.traceback and getattr(self.args, "debug", False):
            print(job.traceback, file=sys.stderr, end="")
        raise CliError(_naming_plugin(self.spec, job.error))

    # ------------------------------------------------------------------ a folder

    def batch(self, in_dir: Path, out_dir: Path) -> int:
        if out_dir.exists() and not out_dir.is_dir():
            raise CliError(f"'{out_dir}' is a file: a folder INPUT needs a folder OUTPUT")
        files = sorted(p for p in in_dir.iterdir() if p.is_file() and supported_input(p))
        if not files:
            raise CliError(f"no pictures found in '{in_dir}'")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"cannot create '{out_dir}': {exc.strerror or exc}") from None
        todo = [(path, out_dir / self._output_name(path)) for path in files]
        if not getattr(self.args, "overwrite", False):
            # finished = the output exists: every write is atomic (a temp file renamed over the
            # target when complete), so an interrupted run never leaves a partial output behind
            todo = [(path, target) for path, target in todo if not os.path.lexists(target)]
            if len(todo) < len(files):
                note(f"{len(files) - len(todo)} of {len(files)} pictures already have an output in "
                     f"'{out_dir}': skipped (--overwrite redoes them)")
            if not todo:
                return EXIT_OK
        jobs = min(int(getattr(self.args, "jobs", 1) or 1), len(todo))
        bar = ProgressBar(len(todo), self.spec.id, enabled=not self.args.quiet)
        try:
            failed = self._parallel(todo, jobs, bar) if jobs > 1 else self._sequential(todo, bar)
            bar.set_item(len(todo))
        finally:
            bar.close()
        if failed:
            note(f"{failed} of {len(todo)} pictures failed")
            return EXIT_FAILURE
        return EXIT_OK

    def _sequential(self, todo: list[tuple[Path, Path]], bar: ProgressBar) -> int:
        failed = 0
        for i, (path, target) in enumerate(todo):
            bar.set_item(i, path.name)
            try:
                self._one(str(path), str(target), bar)
            except Interrupted:
                if i == 0:
                    raise
                raise Interrupted(f"interrupted: {i - failed} of {len(todo)} pictures written; the others "
                                  f"were not (run again to do them)") from None
            except Exception as exc:  # one bad picture does not stop the batch
                failed += 1
                self._report(path, exc)
        return failed

    def _parallel(self, todo: list[tuple[Path, Path]], jobs: int, bar: ProgressBar) -> int:
        """``--jobs N``: N threads here, each taking the next picture and running its tool job on a
        lane of its own, so N run at once, each in one of the plugin's N workers (the pool's
        ``set_workers``). Reading, the document and writing happen in the thread too. The bar
        counts finished pictures; failures are reported by name as they come."""
        from collections import deque

        from ganpaint.engine.jobs.runner import tool_lane

        pending = deque(todo)
        take = threading.Lock()
        stop = threading.Event()
        finished: queue_module.Queue[tuple[Path, BaseException | None] | None] = queue_module.Queue()

        def slot(k: int) -> None:
            lane = f"{tool_lane(self.spec)}#{k}"
            try:
                while not stop.is_set():
                    with take:
                        if not pending:
                            return
                        path, target = pending.popleft()
                    try:
                        self._one(str(path), str(target), None, lane=lane, stop=stop)
                    except Interrupted as exc:
                        if stop.is_set():
                            return
                        finished.put((path, exc))  # cancelled, not by us: a failure of that picture
                    except BaseException as exc:  # noqa: BLE001 - reported, the others go on
                        finished.put((path, exc))
                    else:
                        finished.put((path, None))
            finally:
                finished.put(None)

        threads = [threading.Thread(target=slot, args=(k,), name=f"ganpaint-batch-{k}", daemon=True)
                   for k in range(jobs)]
        done = failed = ended = 0
        try:
            for t in threads:
                t.start()
            while ended < len(threads):
                try:
                    item = finished.get(timeout=0.1)
                except queue_module.Empty:
                    continue
                if item is None:
                    ended += 1
                    continue
                path, error = item
                done += 1
                if error is not None:
                    failed += 1
                    self._report(path, error)
                bar.set_item(done, path.name)
        except KeyboardInterrupt:
            stop.set()  # each slot cancels its job; its worker stops or is ended within a second
            note("cancelling (Ctrl+C again to quit at once) ...")
            deadline = time.monotonic() + 30.0
            for t in threads:  # a second Ctrl+C raises KeyboardInterrupt out of here
                t.join(max(0.0, deadline - time.monotonic()))
            while True:  # pictures a slot finished after the last look: written, so counted
                try:
                    item = finished.get_nowait()
                except queue_module.Empty:
                    break
                if item is not None:
                    done += 1
                    failed += item[1] is not None
            raise Interrupted(f"interrupted: {done - failed} of {len(todo)} pictures written; the "
                              f"others were not (run again to do them)") from None
        return failed

    def _report(self, path: Path, exc: BaseException) -> None:
        """One failed picture of a batch: one line naming the file."""
        from ganpaint.core.errors import GanpaintError

        text = str(exc) if isinstance(exc, (CliError, GanpaintError)) else f"{type(exc).__name__}: {exc}"
        note(f"error: {path.name}: {' '.join(for_cli(text).split())}")
        if getattr(self.args, "debug", False):
            import traceback

            traceback.print_exception(exc)

    def _output_name(self, path: Path) -> str:
        from ganpaint.core.imageio import format_for_path

        if self.args.format:
            return f"{path.stem}.{self.args.format.lstrip('.').lower()}"
        if is_ora(path) or format_for_path(path) is not None:
            return path.name
        return f"{path.stem}.png"  # read-only types (gif, tga ...) are written as PNG


def _naming_plugin(spec: ToolSpec, message: str) -> str:
    """A failed run's message naming the plugin and tool: a tool's ``ToolError`` comes back in
    the tool's own words (the editor shows it so); the command line says whose words they are."""
    if spec.plugin and f"plugin {spec.plugin!r}" not in message:
        return f"plugin {spec.plugin!r}, tool {spec.id!r}: {message}"
    return message


def _check_size(path: str, pixels: np.ndarray, width: int, height: int, what: str) -> None:
    h, w = pixels.shape[:2]
    if (w, h) != (width, height):
        raise CliError(f"{what} '{path}' is {w}x{h} but the picture is {width}x{height}")
