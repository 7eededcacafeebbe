"""The plugin host: a typed facade over pluggy with per-plugin isolation.

pluggy calls every implementation of a hook in one loop, so one plugin that
raises stops the call for all (napari learned this the hard way). Here each plugin
is imported in its own try/except, and each hook implementation is called on its
own; every failure is kept on that plugin's record. No call site outside this
module touches ``pm.hook.*``.

A plugin is loaded all or nothing: if one of its contribution hooks raises,
returns something other than a list, or returns a malformed descriptor, it is
unregistered and none of its tools appear (status ``failed``).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
import traceback as tb_module
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import pluggy
from psygnal import Signal

from ganpaint._version import __version__
from ganpaint.core import paths
from ganpaint.core.settings import Settings
from ganpaint.core.specs import PLUGIN_API_VERSION, ModelSpec, RecipeSpec, ToolSpec
from ganpaint.plugins import hookspecs, state
from ganpaint.plugins import probe as _probe
from ganpaint.plugins.discovery import (
    BUILTIN_DISTRIBUTIONS,
    Candidate,
    add_packages_dir,
    entry_point_candidates,
    file_candidates,
    load_module_from_file,
)
from ganpaint.plugins.entries import (
    ContributionError,
    Contributions,
    Entry,
    check_api_version,
    collect,
    describe,
    impls_of,
    merge,
    unknown_hooks,
)
from ganpaint.plugins.errors import PluginError, PluginRunError, UnknownToolError
from ganpaint.plugins.hookspecs import HOOK_NAMES, HostInfo
from ganpaint.plugins.markers import PROJECT_NAME
from ganpaint.plugins.records import PluginRecord, PluginSource

log = logging.getLogger(__name__)

#: How a disabled plugin's record says that it hung or crashed when last probed.
LAST_TRIED = "when last tried: "

def _module_problem(module_name: str, attr: str, read_source: bool) -> str:
    """'' when ``module_name`` can be imported later, else why not. Uses
    ``importlib.util.find_spec``: the module itself is NOT imported (nor torch, nor anything
    it imports); only its parent packages are, as any import would (for a plugin's own
    ``pkg.tool`` that is the plugin package, already imported). With ``read_source``, a
    not-yet-imported module's source is also parsed (not run) for a top-level ``attr``."""
    existing = sys.modules.get(module_name)
    if existing is not None:  # already imported (a single-file plugin's own module, say)
        return "" if not attr or hasattr(existing, attr) else f"module {module_name!r} has no {attr!r}"
    try:
        found = importlib.util.find_spec(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        return f"there is no module {missing!r}"
    except ValueError:  # a module without a __spec__ (made by hand): it exists
        return ""
    except (Exception, SystemExit) as exc:  # a parent package that fails to import
        return f"module {module_name!r} cannot be looked up ({describe(exc)})"
    if found is None:
        return f"there is no module {module_name!r}"
    if read_source and attr and isinstance(found.origin, str) and found.origin.endswith(".py"):
        names = _top_level_names(found.origin)
        if names is not None and attr not in names:
            return f"module {module_name!r} defines no {attr!r}"
    return ""


def _top_level_names(path: str) -> set[str] | None:
    """The names a Python file binds at module level, read without running it; None when
    that cannot be told statically (unreadable, a syntax error (the import will report it),
    ``import *``, a module ``__getattr__``, names made through ``globals()``)."""
    import ast

    try:
        with open(path, "rb") as f:
            source = f.read(4_000_000)
        tree = ast.parse(source, filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    if b"globals()" in source or b"setattr(" in source:
        return None
    names: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue  # their bodies bind local names
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.partition(".")[0])
            continue
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                names.add(child.name)
            elif isinstance(child, ast.MatchAs | ast.MatchStar) and child.name:
                names.add(child.name)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(child.name)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                stack.append(child)
    if "__getattr__" in names:
        return None
    return names


def unfindable_code(entry: Entry) -> str:
    """The first lazy ``"module:attr"`` string of ``entry``'s descriptors (a tool's ``run`` and
    ``canvas`` and ``hidden_params``, a seed's ``thumbnails``, a recipe's ``factory``) whose module cannot be found,
    described in one line; '' when every module is there. Checked when the plugin registers,
    so a typo fails the plugin at start, not when the user presses Run."""
    lazies: list[tuple[str, str]] = []
    for tool in entry.tools:
        lazies.append((f"tool {tool.id!r}: run", tool.run))
        if tool.canvas:
            lazies.append((f"tool {tool.id!r}: canvas", tool.canvas))
        if tool.hidden_params:
            lazies.append((f"tool {tool.id!r}: hidden_params", tool.hidden_params))
        lazies += [(f"tool {tool.id!r}: parameter {p.name!r}: thumbnails", p.thumbnails)
                   for p in tool.params if p.thumbnails]
    lazies += [(f"recipe {r.id!r}: factory", r.factory) for r in entry.recipes]
    seen: dict[tuple[str, str], str] = {}
    for where, lazy in lazies:
        module_name, _, attr = lazy.partition(":")
        key = (module_name, attr.partition(".")[0])
        if key not in seen:
            # built-in plugins are tested with GANPaint: only their modules are looked up
            seen[key] = _module_problem(*key, read_source=not entry.builtin)
        if seen[key]:
            return f"{where}={lazy!r}: {seen[key]} (a typo in the 'module:attr' path?)"
    return ""


class PluginManager:
    """Loads plugins and answers what they contribute.

    Args:
        discover: scan the ``ganpaint.plugins`` entry-point group.
        safe_mode: load built-in plugins only (``--safe-mode``).
        disabled: plugin names to skip this run (on top of the remembered list and
            ``GANPAINT_DISABLE_PLUGINS``).
        user_dirs: use the user data folder: single-file plugins in
            ``paths.plugins_dir()``, the ``pip install --target`` folder
            ``paths.plugin_packages_dir()``, and the remembered disabled list.
        search_path: folders to scan for entry points instead of sys.path (tests).
        settings: the application's ``Settings`` object; the disabled list is read
            from it and ``set_enabled`` updates it in place (then saves it), so the
            app's own later saves keep the choice. Without it the settings file is
            read and written directly (only when ``user_dirs``).
        probe: load every plugin that is not built in in a child process first
            (ganpaint.plugins.probe), with a time limit per plugin; one that hangs
            or crashes there is marked ``not responding`` / ``failed`` and never
            imported here. Verdicts are cached in the user's cache folder (only when
            ``user_dirs``).
        load_timeout: the per-plugin limit in seconds (default: ``$GANPAINT_PLUGIN_TIMEOUT``,
            else the ``plugin_load_timeout_s`` setting, else 10 s).
    """

    #: emitted after load(), register() and set_enabled(): records or tools changed
    changed = Signal()

    def __init__(
        self,
        discover: bool = True,
        safe_mode: bool = False,
        disabled: Iterable[str] = frozenset(),
        user_dirs: bool = True,
        *,
        search_path: list[str] | None = None,
        settings: Settings | None = None,
        probe: bool = True,
        load_timeout: float | None = None,
    ) -> None:
        self.discover = discover
        self.safe_mode = safe_mode
        self.user_dirs = user_dirs
        self._search_path = search_path
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._entries: dict[str, Entry] = {}
        self._run_disabled = frozenset(disabled)
        self._env_disabled = state.env_disabled()
        self._settings = settings
        remembered = state.load_disabled(settings) if (user_dirs or settings is not None) else frozenset()
        self._user_disabled: set[str] = set(remembered)
        self._contrib = Contributions()
        self._resolved: dict[str, Callable[..., Any]] = {}
        self._lock = threading.RLock()
        self._loaded = False
        self._load_done = threading.Event()
        self.probe = probe
        if load_timeout is None:
            load_timeout = _probe.load_timeout(settings if settings is not None
                                               else Settings.load() if user_dirs else None)
        self.load_timeout = float(load_timeout)
        self._cache: _probe.ProbeCache | None = None

    # ----------------------------------------------------------------------------------
    # Loading
    # ----------------------------------------------------------------------------------

    def load(self, *, notify: bool = True, use_cached_probe: bool = True) -> list[PluginRecord]:
        """Discover and load every plugin once (later calls wait for the first to finish,
        then do nothing). Never raises for a plugin's fault; returns the records.

        Plugins not built in are probed first (see the ``probe`` argument); the lock is
        not held while the probe runs, so ``records()`` and ``tools()`` answer meanwhile
        (plugins not yet loaded have status ``loading``). ``notify=False`` leaves the
        ``changed`` signal to the caller (the GUI emits it on its own thread).
        ``use_cached_probe=False`` probes again even unchanged plugins.
        """
        with self._lock:
            first = not self._loaded
            self._loaded = True
        if not first:
            self._load_done.wait()
            return self.records()
        try:
            self._load_all(use_cached_probe)
        finally:
            self._load_done.set()
        if notify:
            self.changed.emit()
        return self.records()

    @property
    def is_loaded(self) -> bool:
        """``load()`` has finished (every plugin found is loaded, failed or skipped)."""
        return self._load_done.is_set()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until ``load()`` (running in another thread) has finished; False on timeout."""
        return self._load_done.wait(timeout)

    def _load_all(self, use_cached_probe: bool) -> None:
        candidates: list[Candidate] = []
        packages = None
        if self.user_dirs:
            packages = paths.plugin_packages_dir()
            add_packages_dir(packages)
        if self.discover:
            candidates += entry_point_candidates(self._search_path, packages)
        if self.user_dirs:
            candidates += file_candidates(paths.plugins_dir())
        with self._lock:
            entries = [e for e in (self._prepare_candidate(c) for c in candidates) if e is not None]
            self._note_last_probe()
        verdicts = self._verdicts(entries, use_cached_probe)
        for entry in entries:
            with self._lock:
                if entry.status == "loading":  # not switched off meanwhile (set_enabled)
                    self._load_verdict(entry, verdicts.get(entry.name))
        with self._lock:
            self._rebuild()

    def _probe_cache(self) -> _probe.ProbeCache | None:
        if not self.user_dirs:
            return None
        if self._cache is None:
            self._cache = _probe.ProbeCache(_probe.default_cache_path())
        return self._cache

    def _verdicts(self, entries: list[Entry], use_cached: bool = True) -> dict[str, _probe.Verdict]:
        """Probe verdicts for the entries that are not built in (none when ``probe`` is off)."""
        cands = [e.candidate for e in entries if not e.builtin and e.candidate is not None]
        if not self.probe or not cands:
            return {}
        return _probe.probe(cands, self.load_timeout, cache=self._probe_cache(), use_cached=use_cached)

    def _load_verdict(self, entry: Entry, verdict: _probe.Verdict | None) -> None:
        """Import ``entry`` here unless its probe hung or crashed."""
        if verdict is not None and verdict.bad:
            entry.fail(verdict.status, verdict.message)
            log.info("plugin %r not loaded: %s", entry.name, verdict.message)
            return
        self._load_entry(entry)

    def _note_last_probe(self) -> None:
        """A disabled plugin (safe mode, say) that hung or crashed when last probed says so,
        so the user knows which one to leave off."""
        cache = self._probe_cache() if self.probe else None
        if cache is None or not cache.entries:
            return
        for entry in self._entries.values():
            if entry.status != "disabled" or entry.candidate is None or entry.builtin:
                continue
            last = cache.last(_probe.code_key(entry.candidate))
            if last is not None and last.bad:
                entry.errors.append(f"{LAST_TRIED}{last.message}")

    def register(self, obj: object, name: str | None = None) -> PluginRecord:
        """Register a plugin module or object directly (tests, embedding).

        It goes through the same checks as a discovered plugin (API version,
        descriptors); the returned record says how it went.
        """
        with self._lock:
            plugin_name = name or getattr(obj, "__name__", None) or type(obj).__name__
            entry = self._new_entry(str(plugin_name), "registered", location=getattr(obj, "__file__", "") or "")
            entry.version = str(getattr(obj, "__version__", "") or "")
            if entry.status != "failed":  # not a duplicate name
                entry.obj = obj
                reason = self._disabled_reason(entry)
                if reason:
                    entry.fail("disabled", reason)
                else:
                    self._activate(entry, obj)
            self._rebuild()
            record = self._record(entry)
        self.changed.emit()
        return record

    def load_file(self, path: str | Path, name: str | None = None) -> PluginRecord:
        """Load one single-file plugin the way the plugins folder does (its module
        name is ``name`` or the file's stem). An import error becomes a ``failed``
        record, never an exception."""
        file = Path(path)
        module_name = name or file.stem
        with self._lock:
            cand = Candidate(
                name=module_name,
                source="file",
                load=lambda: load_module_from_file(file, module_name),
                location=str(file),
                target=str(file),
            )
            self._load_candidate(cand)
            self._rebuild()
            record = self._record(list(self._entries.values())[-1])
        self.changed.emit()
        return record

    def unregister(self, name: str) -> None:
        """Forget a plugin entirely (its record too). Mainly for tests."""
        with self._lock:
            entry = self._entries.pop(name, None)
            if entry is not None and self._pm.has_plugin(name):
                self._pm.unregister(name=name)
            self._rebuild()
        self.changed.emit()

    def set_enabled(self, name: str, enabled: bool) -> PluginRecord:
        """Switch a plugin on or off now and remember the choice (when ``user_dirs``).

        GANPAINT_DISABLE_PLUGINS and safe mode still win for this run. Raises
        KeyError for a name the host never saw.
        """
        with self._lock:
            entry = self._entries[name]
            if enabled:
                self._user_disabled.discard(name)
            else:
                self._user_disabled.add(name)
            if self.user_dirs or self._settings is not None:
                state.save_disabled(frozenset(self._user_disabled), self._settings)
            if not enabled and entry.status != "disabled":
                if self._pm.has_plugin(name):
                    self._pm.unregister(name=name)
                entry.errors, entry.tracebacks, entry.run_errors = [], [], {}
                entry.fail("disabled", self._disabled_reason(entry) or "disabled")
            elif enabled and entry.status == "disabled":
                reason = self._disabled_reason(entry)
                if reason:
                    entry.errors = [reason]
                else:
                    entry.errors, entry.tracebacks, entry.status = [], [], "loading"
                    self._load_verdict(entry, self._verdicts([entry]).get(entry.name))
            self._rebuild()
            record = self._record(entry)
        self.changed.emit()
        return record

    def disabled_names(self) -> frozenset[str]:
        """Every name disabled this run, whatever the reason (settings, env, argument)."""
        return frozenset(self._user_disabled | self._env_disabled | self._run_disabled)

    def _new_entry(self, name: str, source: PluginSource, **kw: Any) -> Entry:
        if name in self._entries:
            # two plugins with one name: keep the first, show the second as failed
            first = self._entries[name]
            n = 2
            while f"{name}#{n}" in self._entries:
                n += 1
            dup = Entry(name=f"{name}#{n}", source=source, **kw)
            dup.fail("failed", f"another plugin named {name!r} is already loaded (from {first.location or first.source})")
            self._entries[dup.name] = dup
            return dup
        entry = Entry(name=name, source=source, **kw)
        self._entries[name] = entry
        return entry

    def _disabled_reason(self, entry: Entry) -> str:
        keys = {entry.name, entry.dist} - {""}
        if keys & self._env_disabled:
            return f"disabled by {state.DISABLE_ENV}"
        if keys & self._run_disabled:
            return "disabled for this run"
        if keys & self._user_disabled:
            return "disabled in the Plugins dialog"
        if self.safe_mode and not entry.builtin:
            return "safe mode: only built-in plugins are loaded"
        return ""

    def _load_candidate(self, cand: Candidate) -> None:
        entry = self._prepare_candidate(cand)
        if entry is not None:
            self._load_verdict(entry, self._verdicts([entry]).get(entry.name))

    def _prepare_candidate(self, cand: Candidate) -> Entry | None:
        """The entry of a found plugin; None when it is not to be loaded (disabled, a duplicate)."""
        entry = self._new_entry(
            cand.name,
            cand.source,
            version=cand.version,
            dist=cand.dist,
            builtin=cand.builtin or cand.dist in BUILTIN_DISTRIBUTIONS,
            location=cand.location,
        )
        if entry.status == "failed":  # a duplicate name
            return None
        entry.candidate = cand
        reason = self._disabled_reason(entry)
        if reason:
            entry.fail("disabled", reason)
            return None
        entry.status = "loading"
        return entry

    def _load_entry(self, entry: Entry) -> None:
        obj = entry.obj
        if obj is None:
            assert entry.candidate is not None
            try:
                obj = entry.candidate.load()
            except (Exception, SystemExit) as exc:  # a plugin calling exit() must not end the app
                entry.fail("failed", f"import failed: {describe(exc)}", tb_module.format_exc())
                log.warning("plugin %r failed to import: %s", entry.name, describe(exc))
                return
            entry.obj = obj
            if not entry.version:
                entry.version = str(getattr(obj, "__version__", "") or "")
        self._activate(entry, obj)

    def _activate(self, entry: Entry, obj: object) -> None:
        reason = check_api_version(obj)
        if reason:
            entry.fail("incompatible", reason)
            return
        unknown = unknown_hooks(obj)
        if unknown:
            entry.fail(
                "failed",
                f"implements unknown hook(s) {', '.join(unknown)} (known hooks: {', '.join(HOOK_NAMES)})",
            )
            return
        try:
            self._pm.register(obj, name=entry.name)
        except Exception as exc:  # pluggy refuses bad signatures: say which
            entry.fail("failed", f"registration refused: {describe(exc)}", tb_module.format_exc())
            return
        try:
            collect(self._pm, entry)
            missing = unfindable_code(entry)
            if missing:
                raise ContributionError(f"plugin {entry.name!r}: {missing}")
        except ContributionError as exc:
            self._pm.unregister(name=entry.name)
            entry.fail("failed", str(exc), exc.traceback)
            log.warning("plugin %r not loaded: %s", entry.name, exc)
            return
        entry.status = "loaded"

    def _rebuild(self) -> None:
        """Recompute the tool/model/recipe maps from loaded plugins, in load order
        (first wins on a conflicting id; the loser's record says so)."""
        self._contrib = merge(self._entries.values())

    # ----------------------------------------------------------------------------------
    # What plugins contribute
    # ----------------------------------------------------------------------------------

    def records(self) -> list[PluginRecord]:
        """A snapshot of every plugin seen, in load order."""
        with self._lock:
            return [self._record(e) for e in self._entries.values()]

    def record(self, name: str) -> PluginRecord:
        """The record of one plugin (KeyError if the host never saw it)."""
        with self._lock:
            return self._record(self._entries[name])

    def _record(self, e: Entry) -> PluginRecord:
        errors = e.errors + self._contrib.conflicts.get(e.name, []) + list(e.run_errors.values())
        won = [t.id for t in e.tools if self._contrib.tools.get(t.id) is t]
        return PluginRecord(
            name=e.name,
            version=e.version,
            source=e.source,
            status=e.status,
            error="; ".join(errors),
            traceback="\n".join(e.tracebacks),
            tools=won if e.status == "loaded" else [],
            models=[m.name for m in e.models if m in self._contrib.models] if e.status == "loaded" else [],
            recipes=[r.id for r in e.recipes if self._contrib.recipes.get(r.id) is r] if e.status == "loaded" else [],
            dist=e.dist,
            builtin=e.builtin,
            location=e.location,
        )

    def tools(self) -> dict[str, ToolSpec]:
        """Every available tool by id (``spec.plugin`` names its plugin), in load order."""
        with self._lock:
            return dict(self._contrib.tools)

    def tool(self, tool_id: str) -> ToolSpec:
        """One tool; raises :class:`UnknownToolError` (a KeyError) listing the known ids."""
        with self._lock:
            try:
                return self._contrib.tools[tool_id]
            except KeyError:
                raise UnknownToolError(tool_id, sorted(self._contrib.tools)) from None

    def models(self) -> list[ModelSpec]:
        """Model files shipped by plugins (``spec.plugin`` set)."""
        with self._lock:
            return list(self._contrib.models)

    def recipes(self) -> dict[str, RecipeSpec]:
        """Training recipes by id (``spec.plugin`` set)."""
        with self._lock:
            return dict(self._contrib.recipes)

    def resolve(self, lazy: str) -> Callable[..., Any]:
        """Import a ``"module:attr"`` string once and return the callable (cached).

        Safe to call from a worker thread. On failure raises :class:`PluginRunError`
        naming the plugin that registered the string, and notes it on that record.
        """
        with self._lock:
            cached = self._resolved.get(lazy)
            plugin = self._contrib.lazy_owner.get(lazy, "")
        if cached is not None:
            return cached
        module_name, sep, attr = lazy.partition(":")
        try:
            if not sep or not module_name or not attr:
                raise ValueError(f"{lazy!r} is not a 'module:attr' string")
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
            if not callable(obj):
                raise TypeError(f"{lazy!r} is a {type(obj).__name__}, not a callable")
        except (Exception, SystemExit) as exc:
            message = f"cannot load {lazy!r}: {describe(exc)}"
            self.note_error(plugin, message, key=lazy)
            raise PluginRunError(plugin, message, tool=self._tool_for(lazy)) from exc
        with self._lock:
            self._resolved[lazy] = obj
            if plugin in self._entries:
                self._entries[plugin].run_errors.pop(lazy, None)
        return obj  # type: ignore[no-any-return]

    def tool_function(self, tool_id: str) -> Callable[..., Any]:
        """``resolve(tool(tool_id).run)``: the tool's run function."""
        return self.resolve(self.tool(tool_id).run)

    def note_error(self, plugin: str, message: str, key: str | None = None) -> None:
        """Keep a run-time problem (a tool that raised, say) on a plugin's record so the
        Plugins dialog shows it. Repeated notes with one ``key`` replace each other."""
        with self._lock:
            entry = self._entries.get(plugin)
            if entry is not None:
                entry.run_errors[key or message] = message
        log.warning("plugin %r: %s", plugin, message)

    def _tool_for(self, lazy: str) -> str:
        with self._lock:
            for tool in self._contrib.tools.values():
                if tool.run == lazy:
                    return tool.id
        return ""

    # ----------------------------------------------------------------------------------
    # Events (each implementation on its own)
    # ----------------------------------------------------------------------------------

    def host_info(self, frontend: Literal["gui", "cli", "test"] = "gui") -> HostInfo:
        data_dir = str(paths.data_dir()) if self.user_dirs else ""
        return HostInfo(
            app_version=__version__,
            api_version=PLUGIN_API_VERSION,
            frontend=frontend,
            data_dir=data_dir,
            safe_mode=self.safe_mode,
        )

    def startup(self, frontend: Literal["gui", "cli", "test"] = "gui") -> list[PluginError]:
        """Call ``ganpaint_startup`` on every loaded plugin; returns the failures."""
        return self._call_event("ganpaint_startup", host_info=self.host_info(frontend))

    def shutdown(self) -> list[PluginError]:
        """Call ``ganpaint_shutdown`` on every loaded plugin; returns the failures."""
        return self._call_event("ganpaint_shutdown")

    def document_saved(self, path: str) -> list[PluginError]:
        """Call ``ganpaint_document_saved(path)`` on every loaded plugin; returns the failures."""
        return self._call_event("ganpaint_document_saved", path=str(path))

    def _call_event(self, hook: str, **kwargs: Any) -> list[PluginError]:
        failures: list[PluginError] = []
        with self._lock:
            loaded = [e.name for e in self._entries.values() if e.status == "loaded"]
        for name in loaded:
            for impl in impls_of(self._pm, hook, name):
                try:
                    if impl.hookwrapper or impl.wrapper:
                        raise TypeError("wrappers are not supported for event hooks")
                    impl.function(*[kwargs[arg] for arg in impl.argnames])
                except (Exception, SystemExit) as exc:
                    message = f"{hook} raised {describe(exc)}"
                    with self._lock:
                        entry = self._entries[name]
                        entry.run_errors[hook] = message
                        entry.tracebacks.append(tb_module.format_exc())
                    log.warning("plugin %r: %s", name, message)
                    failures.append(PluginError(name, message))
        return failures

    @property
    def pluggy_manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager (for tests and introspection only)."""
        return self._pm
