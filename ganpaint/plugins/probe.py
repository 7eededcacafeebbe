"""Loading each plugin in a child process before the host imports it.

A plugin whose import hangs, or crashes the interpreter (a segfault in native code,
``os._exit``), cannot be contained in the process that imports it: a thread cannot be
stopped and a crash takes the process along. So the host first has a child process
(``python -m ganpaint.plugins.probe_child``) import the plugins one after the other,
registering each in a throw-away plugin manager (which calls its contribution hooks),
and reporting ``start``/``ok``/``error`` lines. The parent gives each plugin a time limit
(the ``plugin_load_timeout_s`` setting, 10 s by default; ``GANPAINT_PLUGIN_TIMEOUT``
overrides it). A plugin that overruns it is ``not responding``; one during which the
child died is ``failed``; either way the child is ended and a fresh one goes on with the
plugins after it. Only plugins that passed are then imported in-process.

Verdicts are cached in the user's cache folder, keyed by what identifies a plugin's code
(distribution name and version, entry point, the top module file's size and mtime; a
single file's path, size and mtime), so an unchanged set of plugins pays the probe once.
Built-in plugins ship with GANPaint and are tested with it: they are never probed.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ganpaint.plugins.discovery import Candidate

log = logging.getLogger(__name__)

#: Environment variable: the per-plugin load limit in seconds (overrides the setting).
TIMEOUT_ENV = "GANPAINT_PLUGIN_TIMEOUT"
DEFAULT_TIMEOUT_S = 10.0
#: The cache file's name in ``paths.cache_dir()``.
CACHE_NAME = "plugin-probe.json"
_CACHE_FORMAT = 1
_CACHE_MAX_ENTRIES = 500
#: How long a child may take to start (interpreter + GANPaint's plugin host) or to move
#: from one plugin to the next, on top of the per-plugin limit.
BOOT_LIMIT_S = 60.0

ProbeStatus = Literal["ok", "error", "failed", "not responding"]

#: probe children still running (ended at exit: a hung one must not outlive the editor)
_LIVE: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _end_children() -> None:
    for child in list(_LIVE):
        with contextlib.suppress(OSError):
            child.kill()


@dataclass(frozen=True)
class Verdict:
    """How loading one plugin went in the probe child.

    ``ok``: imported and registered; ``error``: it raised (the in-process load reports
    the same error with its traceback); ``failed``: the child died while loading it;
    ``not responding``: it overran ``timeout`` seconds.
    """

    status: ProbeStatus
    message: str = ""
    seconds: float = 0.0
    timeout: float = 0.0

    @property
    def bad(self) -> bool:
        """The host must not import this plugin in its own process."""
        return self.status in ("failed", "not responding")


def load_timeout(settings: Any = None) -> float:
    """The per-plugin load limit: ``$GANPAINT_PLUGIN_TIMEOUT``, else the setting, else 10 s."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
            if value > 0:
                return value
        except ValueError:
            pass
        log.warning("%s=%r is not a positive number of seconds; ignored", TIMEOUT_ENV, raw)
    value = getattr(settings, "plugin_load_timeout_s", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_TIMEOUT_S


def probe_target(cand: Candidate) -> dict[str, str] | None:
    """What the child needs to load ``cand``; None when it cannot be probed."""
    if not cand.target:
        return None
    if cand.source == "file":
        return {"kind": "file", "name": cand.name, "path": cand.target, "module": cand.name}
    return {"kind": "entry point", "name": cand.name, "value": cand.target}


def code_key(cand: Candidate) -> str:
    """A string that changes when the plugin's code (as far as it can be told cheaply) does."""
    parts: list[Any] = [cand.source, cand.name, cand.dist, cand.version, cand.target, cand.location]
    if cand.source == "file":
        parts.append(_stat(cand.target))
    else:
        top = cand.target.partition(":")[0].strip().partition(".")[0]
        origin = ""
        with contextlib.suppress(Exception):  # find_spec of a top-level name imports nothing
            spec = importlib.util.find_spec(top) if top else None
            origin = (spec.origin or "") if spec is not None else ""
        parts += [origin, _stat(origin)]
    return json.dumps(parts)


def _stat(path: str) -> list[int]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return []
    return [st.st_size, st.st_mtime_ns]


# ------------------------------------------------------------------------------------ cache


class ProbeCache:
    """Verdicts by :func:`code_key`, in a JSON file (never raises: a damaged file reads empty)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self._host = f"{_host_version()} {sys.executable}"
        if path is None:
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("format") == _CACHE_FORMAT and data.get("host") == self._host:
            entries = data.get("entries")
            if isinstance(entries, dict):
                self.entries = {k: v for k, v in entries.items() if isinstance(v, dict)}

    def last(self, key: str) -> Verdict | None:
        """The verdict of the last probe of ``key``, whatever the limit is now."""
        raw = self.entries.get(key)
        if raw is None:
            return None
        try:
            verdict = Verdict(str(raw["status"]), str(raw.get("message", "")),  # type: ignore[arg-type]
                              float(raw.get("seconds", 0.0)), float(raw.get("timeout", 0.0)))
        except (KeyError, TypeError, ValueError):
            return None
        if verdict.status not in ("ok", "error", "failed", "not responding"):
            return None
        return verdict

    def get(self, key: str, timeout: float) -> Verdict | None:
        """The cached verdict, when it still holds under ``timeout``."""
        verdict = self.last(key)
        if verdict is None:
            return None
        if verdict.status == "not responding" and timeout > verdict.timeout:
            return None  # the limit was raised since: it may load in time now
        if verdict.status in ("ok", "error") and verdict.seconds > timeout:
            return None  # the limit was lowered below what it took
        return verdict

    def put(self, key: str, name: str, verdict: Verdict) -> None:
        self.entries.pop(key, None)  # re-inserted last: the oldest go first when trimming
        self.entries[key] = {"name": name, "status": verdict.status, "message": verdict.message,
                             "seconds": round(verdict.seconds, 3), "timeout": verdict.timeout}

    def save(self) -> None:
        if self.path is None:
            return
        keep = dict(list(self.entries.items())[-_CACHE_MAX_ENTRIES:])
        text = json.dumps({"format": _CACHE_FORMAT, "host": self._host, "entries": keep}, indent=1)
        try:
            from ganpaint.core.atomic import atomic_write_text

            atomic_write_text(self.path, text + "\n")
        except Exception as exc:  # noqa: BLE001 - an unwritable cache only costs the next start a probe
            log.info("plugin probe cache not written: %s", exc)


def _host_version() -> str:
    from ganpaint._version import __version__

    return __version__


def default_cache_path() -> Path | None:
    try:
        from ganpaint.core import paths

        return paths.cache_dir() / CACHE_NAME
    except Exception as exc:  # noqa: BLE001 - no cache folder: probe every start
        log.info("no cache folder for plugin probes: %s", exc)
        return None


# ------------------------------------------------------------------------------------ probe


def probe(
    candidates: Sequence[Candidate],
    timeout: float,
    *,
    cache: ProbeCache | None = None,
    use_cached: bool = True,
) -> dict[str, Verdict]:
    """Verdicts by candidate name for every candidate that could be probed.

    Cached verdicts are used when ``use_cached``; the rest are probed in child
    processes and, with a ``cache``, remembered. A candidate missing from the result
    could not be judged (no target, or the child itself could not start): the caller
    loads it as it would without a probe.
    """
    out: dict[str, Verdict] = {}
    todo: list[tuple[Candidate, dict[str, str], str]] = []
    for cand in candidates:
        target = probe_target(cand)
        if target is None:
            continue
        key = code_key(cand)
        hit = cache.get(key, timeout) if (cache is not None and use_cached) else None
        if hit is not None:
            out[cand.name] = hit
        else:
            todo.append((cand, target, key))
    if not todo:
        return out
    fresh = run_probe([t for _, t, _ in todo], timeout)
    for (cand, _target, key), verdict in zip(todo, fresh, strict=True):
        if verdict is None:
            continue
        out[cand.name] = verdict
        if cache is not None:
            cache.put(key, cand.name, verdict)
    if cache is not None:
        cache.save()
    return out


def run_probe(targets: Sequence[dict[str, str]], timeout: float) -> list[Verdict | None]:
    """Load ``targets`` in child processes, one verdict per target (None: not judged)."""
    verdicts: list[Verdict | None] = [None] * len(targets)
    start = 0
    while start < len(targets):
        resume = _one_child(targets, start, timeout, verdicts)
        if resume is None:
            break
        start = resume
    return verdicts


def _one_child(targets: Sequence[dict[str, str]], start: int, timeout: float,
               verdicts: list[Verdict | None]) -> int | None:
    """Probe ``targets[start:]`` in one child; the index to resume at after a plugin
    ended the child, or None when done (or when the child could not be used)."""
    request = json.dumps({"sys_path": list(sys.path), "targets": list(targets[start:])})
    env = dict(os.environ)
    env.pop("GANPAINT_DISABLE_PLUGINS", None)
    with tempfile.TemporaryFile() as err_file:
        try:
            child = subprocess.Popen(
                _child_command(),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err_file, env=env,
            )
        except OSError as exc:
            log.warning("cannot start the plugin probe (%s): plugins load unprobed", exc)
            return None
        _LIVE.add(child)
        lines: queue.Queue[bytes | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True,
                                  name="ganpaint-plugin-probe")
        reader.start()
        try:
            assert child.stdin is not None
            child.stdin.write(request.encode("utf-8"))
            child.stdin.close()
        except OSError:
            pass  # the child is already gone: its exit is read below
        current: int | None = None
        began = 0.0
        deadline = time.monotonic() + BOOT_LIMIT_S
        try:
            while True:
                try:
                    raw = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    if current is None:
                        log.warning("the plugin probe did not answer within %g s: plugins load unprobed",
                                    BOOT_LIMIT_S)
                        return None
                    verdicts[current] = Verdict(
                        "not responding",
                        f"not responding: loading took longer than {timeout:g} s "
                        f"(the limit: the plugin_load_timeout_s setting or {TIMEOUT_ENV})",
                        time.monotonic() - began, timeout)
                    return current + 1
                if raw is None:  # the child ended
                    rc = child.wait()
                    if current is not None:
                        verdicts[current] = Verdict(
                            "failed", f"crashed while loading ({_exit_text(rc)})",
                            time.monotonic() - began, timeout)
                        return current + 1
                    if rc != 0:
                        tail = _tail(err_file)
                        log.warning("the plugin probe ended (%s)%s: plugins load unprobed",
                                    _exit_text(rc), f": {tail}" if tail else "")
                    return None
                word, _, rest = raw.decode("utf-8", "replace").rstrip("\n").partition(" ")
                if word == "done" and current is None:
                    return None  # every plugin judged; what the child left running is killed below
                index_text, _, message = rest.partition(" ")
                try:
                    index = start + int(index_text)
                except ValueError:
                    continue  # not a protocol line
                if not start <= index < len(targets):
                    continue
                if word == "start":
                    current, began = index, time.monotonic()
                    deadline = began + timeout
                elif word in ("ok", "error") and index == current:
                    verdicts[index] = Verdict(word, message, time.monotonic() - began, timeout)  # type: ignore[arg-type]
                    current = None
                    deadline = time.monotonic() + BOOT_LIMIT_S
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            _LIVE.discard(child)
            if child.stdout is not None:
                child.stdout.close()


def _child_command() -> list[str]:
    if getattr(sys, "frozen", False):  # the bundled executable answers this itself (ganpaint/__main__.py)
        return [sys.executable, "--plugin-probe-child"]
    return [sys.executable, "-m", "ganpaint.plugins.probe_child"]


def _read_lines(stream: Any, out: queue.Queue[bytes | None]) -> None:
    try:
        for line in stream:
            out.put(line)
    except (OSError, ValueError):
        pass
    out.put(None)


def _exit_text(rc: int) -> str:
    if rc < 0:
        try:
            return f"the process was ended by {signal.Signals(-rc).name}"
        except ValueError:
            return f"the process was ended by signal {-rc}"
    if rc >= 0xC0000000:  # a Windows NTSTATUS such as 0xC0000005 (access violation)
        return f"the process ended with code {rc:#x}"
    return f"the process exited with status {rc}"


def _tail(err_file: Any) -> str:
    try:
        err_file.seek(0)
        text = err_file.read()[-400:].decode("utf-8", "replace")
    except OSError:
        return ""
    return " ".join(text.split())[-300:]
