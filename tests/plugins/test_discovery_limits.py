"""Loading plugins under a time limit (issue 12, point 2): a plugin whose import hangs,
crashes the interpreter (segfault, os._exit) or raises is marked and named; the others
load; verdicts are cached; safe mode names the plugins that hung or crashed last time;
``ganpaint plugins`` and ``ganpaint run invert`` go on past a hanging plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.core import paths
from ganpaint.plugins import PluginManager, probe
from ganpaint.plugins.report import startup_problems
from ganpaint.testing import write_dist_info

LIMIT = 1.0  # seconds per plugin in these tests

GOOD = '''
from ganpaint import ToolSpec, ToolResult, hookimpl
GANPAINT_API_VERSION = 1
print("ok 0")  # a plugin's print must not pass for the probe's protocol

@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="{tool}", title="{tool}", run="{module}:run")]

def run(request, ctx):
    return ToolResult(image=request.image)
'''
HANG = "print('ok 0', flush=True)\nimport time\ntime.sleep(1000)\n"
SEGV = "import ctypes\nctypes.string_at(0)\n"
EXIT = "import os\nos._exit(3)\n"
RAISE = "raise RuntimeError('boom at import')\n"
HANG_IN_HOOK = '''
from ganpaint import hookimpl
GANPAINT_API_VERSION = 1

@hookimpl
def ganpaint_register_tools():
    import time
    time.sleep(1000)
'''

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(probe.TIMEOUT_ENV, str(LIMIT))


def _file_plugin(name: str, source: str) -> Path:
    path = paths.plugins_dir() / f"{name}.py"
    path.write_text(source.format(tool=name.replace("_", "-"), module=name), encoding="utf-8")
    return path


def _bad_set() -> None:
    _file_plugin("tp_lim_hang", HANG)
    _file_plugin("tp_lim_segv", SEGV)
    _file_plugin("tp_lim_exit", EXIT)
    _file_plugin("tp_lim_raise", RAISE)
    _file_plugin("tp_lim_hook", HANG_IN_HOOK)
    _file_plugin("tp_lim_good", GOOD)


def test_hanging_crashing_and_raising_plugins_are_marked_and_the_others_load() -> None:
    _bad_set()
    host = PluginManager(discover=False, user_dirs=True)
    assert host.load_timeout == LIMIT
    start = time.monotonic()
    host.load()
    took = time.monotonic() - start
    rec = {r.name: r for r in host.records()}
    assert rec["tp_lim_hang"].status == "not responding"
    assert f"longer than {LIMIT:g} s" in rec["tp_lim_hang"].error
    assert rec["tp_lim_hook"].status == "not responding"  # a contribution hook that hangs counts too
    assert rec["tp_lim_segv"].status == "failed" and "crashed while loading" in rec["tp_lim_segv"].error
    if os.name == "posix":
        assert "SIGSEGV" in rec["tp_lim_segv"].error
    assert rec["tp_lim_exit"].status == "failed" and "exited with status 3" in rec["tp_lim_exit"].error
    assert rec["tp_lim_raise"].status == "failed" and "boom at import" in rec["tp_lim_raise"].error
    assert rec["tp_lim_raise"].traceback  # imported here too: the same record as without a probe
    assert rec["tp_lim_good"].status == "loaded" and host.tools().keys() == {"tp-lim-good"}
    # the ones that hung or crashed were never imported into this process
    assert not {"tp_lim_hang", "tp_lim_segv", "tp_lim_exit", "tp_lim_hook"} & set(sys.modules)
    # two plugins ran into the limit: the whole load stays within 3x of what that costs
    assert took < 3 * (2 * LIMIT + 3), took
    text = startup_problems(host.records())
    for name in ("tp_lim_hang", "tp_lim_segv", "tp_lim_exit", "tp_lim_raise", "tp_lim_hook"):
        assert name in text
    assert "tp_lim_hang (not responding)" in text and "--safe-mode" in text
    assert "tp_lim_good" not in text


def test_entry_point_plugin_whose_import_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "tp_lim_ep_hang"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(HANG)
    write_dist_info(tmp_path, "tp-lim-ep-hang", "1.0", {"ephang": "tp_lim_ep_hang"})
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginManager(discover=True, user_dirs=False)
    host.load()
    assert host.record("ephang").status == "not responding"
    assert host.record("classic").status == "loaded" and "invert" in host.tools()  # built-ins are not probed
    assert "tp_lim_ep_hang" not in sys.modules


def test_verdicts_are_cached_until_the_plugin_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    _file_plugin("tp_lim_hang", HANG)
    _file_plugin("tp_lim_good", GOOD)
    PluginManager(discover=False, user_dirs=True).load()
    assert (paths.cache_dir() / probe.CACHE_NAME).is_file()

    calls: list[int] = []
    real = probe.run_probe

    def counting(targets, timeout):  # noqa: ANN001, ANN202
        calls.append(len(targets))
        return real(targets, timeout)

    monkeypatch.setattr(probe, "run_probe", counting)
    again = PluginManager(discover=False, user_dirs=True)
    again.load()
    assert calls == []  # nothing changed: no child process at all
    assert again.record("tp_lim_hang").status == "not responding"
    assert again.record("tp_lim_good").status == "loaded"

    # the author fixes the plugin: its file changes, so it is probed (alone) and loads
    _file_plugin("tp_lim_hang", GOOD + "\n# fixed\n")
    fixed = PluginManager(discover=False, user_dirs=True)
    fixed.load()
    assert calls == [1]
    assert fixed.record("tp_lim_hang").status == "loaded" and "tp-lim-hang" in fixed.tools()


def test_a_raised_limit_probes_a_not_responding_plugin_again(tmp_path: Path) -> None:
    cache = probe.ProbeCache(tmp_path / "c.json")
    cache.put("k", "p", probe.Verdict("not responding", "slow", 1.0, 1.0))
    cache.put("q", "ok-one", probe.Verdict("ok", "", 4.0, 10.0))
    cache.save()
    again = probe.ProbeCache(tmp_path / "c.json")
    assert again.get("k", 1.0) is not None and again.get("k", 0.5) is not None
    assert again.get("k", 5.0) is None  # it may load within 5 s
    assert again.last("k") is not None  # ... but safe mode still knows it hung
    assert again.get("q", 10.0) is not None and again.get("q", 2.0) is None  # took longer than the new limit
    (tmp_path / "c.json").write_text("{damaged")
    assert probe.ProbeCache(tmp_path / "c.json").entries == {}


def test_re_enabling_a_plugin_probes_it_before_importing_it() -> None:
    _file_plugin("tp_lim_hang", HANG)
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    host.set_enabled("tp_lim_hang", False)
    assert host.record("tp_lim_hang").status == "disabled"
    start = time.monotonic()
    rec = host.set_enabled("tp_lim_hang", True)  # must not hang the caller (the Plugins dialog)
    assert rec.status == "not responding" and time.monotonic() - start < 3 * (LIMIT + 3)
    assert "tp_lim_hang" not in sys.modules


def test_safe_mode_names_the_plugins_that_hung_or_crashed_last_time() -> None:
    _file_plugin("tp_lim_hang", HANG)
    _file_plugin("tp_lim_segv", SEGV)
    _file_plugin("tp_lim_good", GOOD)
    PluginManager(discover=False, user_dirs=True).load()
    safe = PluginManager(discover=False, user_dirs=True, safe_mode=True)
    safe.load()
    rec = {r.name: r for r in safe.records()}
    assert all(r.status == "disabled" for r in rec.values())
    assert "when last tried: not responding" in rec["tp_lim_hang"].error
    assert "when last tried: crashed while loading" in rec["tp_lim_segv"].error
    assert "when last tried" not in rec["tp_lim_good"].error
    hint = startup_problems(safe.records(), safe_mode=True)
    assert hint.startswith("Safe mode")
    assert "'tp_lim_hang'" in hint and "'tp_lim_segv'" in hint and "tp_lim_good" not in hint


def test_load_from_another_thread_answers_records_meanwhile() -> None:
    import threading

    _file_plugin("tp_lim_hang", HANG)
    _file_plugin("tp_lim_good", GOOD)
    host = PluginManager(discover=False, user_dirs=True)
    thread = threading.Thread(target=host.load, daemon=True)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    seen = {r.name: r.status for r in host.records()}  # does not wait for the probe
    assert time.monotonic() - start < 0.5
    assert not host.is_loaded and seen.get("tp_lim_hang") == "loading"
    assert host.wait_loaded(30) and host.is_loaded
    assert host.load() and host.record("tp_lim_hang").status == "not responding"  # a second load waits, no redo
    thread.join(5)


# --------------------------------------------------------------------------- the command line


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GANPAINT_DATA_DIR": str(paths.data_dir()), probe.TIMEOUT_ENV: str(LIMIT)}
    return subprocess.run([sys.executable, "-m", "ganpaint", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


def test_cli_plugins_names_them_and_run_invert_goes_past_a_hanging_import(tmp_path: Path) -> None:
    _bad_set()
    out = _cli("plugins")
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("tp_lim_")}
    assert "not responding" in lines["tp_lim_hang"] and "failed" in lines["tp_lim_segv"]
    assert "crashed while loading" in out.stdout and "loaded" in lines["tp_lim_good"]

    picture = tmp_path / "in.png"
    rgb = np.random.default_rng(1).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(picture)
    start = time.monotonic()
    ran = _cli("run", "invert", str(picture), "-o", str(tmp_path / "out.png"))
    assert ran.returncode == 0, ran.stderr
    assert time.monotonic() - start < 60
    result = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    np.testing.assert_array_equal(result, 255 - rgb)
    assert "tp_lim_hang (not responding)" in ran.stderr and "--safe-mode" in ran.stderr

    safe = _cli("--safe-mode", "run", "invert", str(picture), "-o", str(tmp_path / "safe.png"))
    assert safe.returncode == 0, safe.stderr
    assert "Safe mode" in safe.stderr and "'tp_lim_hang'" in safe.stderr and "'tp_lim_segv'" in safe.stderr


def test_the_limit_is_a_setting_with_a_10_s_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.core.settings import Settings

    monkeypatch.delenv(probe.TIMEOUT_ENV)
    assert Settings().plugin_load_timeout_s == 10.0
    assert PluginManager(discover=False, user_dirs=True).load_timeout == 10.0
    Settings(plugin_load_timeout_s=2.5).save()
    assert PluginManager(discover=False, user_dirs=True).load_timeout == 2.5
    assert PluginManager(discover=False, user_dirs=False, settings=Settings.load()).load_timeout == 2.5
    bad = Settings.from_dict({"plugin_load_timeout_s": -3})
    assert bad.plugin_load_timeout_s == 10.0 and bad.notes
    monkeypatch.setenv(probe.TIMEOUT_ENV, "0.5")
    assert PluginManager(discover=False, user_dirs=True).load_timeout == 0.5


def test_a_plugin_switched_off_while_loading_stays_off() -> None:
    import threading

    _file_plugin("tp_lim_hang", HANG)
    _file_plugin("tp_lim_good", GOOD)
    host = PluginManager(discover=False, user_dirs=True)
    thread = threading.Thread(target=host.load, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not host.records() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not host.is_loaded
    host.set_enabled("tp_lim_good", False)  # the Plugins dialog, while the probe runs
    assert host.wait_loaded(30)
    assert host.record("tp_lim_good").status == "disabled" and "tp-lim-good" not in host.tools()
    assert "tp_lim_good" not in sys.modules
    thread.join(5)


def test_a_plugin_that_leaves_a_thread_running_does_not_hold_the_probe() -> None:
    # a non-daemon thread that lives on in the probe child only (here it ends at once)
    _file_plugin("tp_lim_thread", "import sys, threading, time\n"
                 "secs = 1000 if 'probe_child' in sys.argv[0] else 0\n"
                 "threading.Thread(target=time.sleep, args=(secs,)).start()\n" + GOOD)
    host = PluginManager(discover=False, user_dirs=True)
    start = time.monotonic()
    host.load()
    assert host.record("tp_lim_thread").status == "loaded"
    assert time.monotonic() - start < 3 * (LIMIT + 3)  # the probe's 60 s wait for the child's exit is not paid
