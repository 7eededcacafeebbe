"""``ganpaint run TOOL IN_DIR -o OUT_DIR --jobs N`` (issue 18, point 4): the pictures spread over N
worker processes of the tool's plugin, each with its share of the threads; the same outputs as
``--jobs 1``; finished outputs skipped unless ``--overwrite``; a bad picture fails alone, by name;
Ctrl+C ends everything cleanly, leaving no temp files nor shared-memory blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import plugin_env

PLUGIN = textwrap.dedent('''
    import os, time
    import numpy as np
    from ganpaint import ParamSpec, ToolError, ToolResult, ToolSpec, hookimpl

    GANPAINT_API_VERSION = 1
    M = __name__

    @hookimpl
    def ganpaint_register_tools():
        return [ToolSpec(id="record", title="Record", run=f"{M}:record",
                         params=(ParamSpec("log", "string"), ParamSpec("wait", "float", default=0.0, maximum=10.0))),
                ToolSpec(id="slow", title="Slow", run=f"{M}:slow",
                         params=(ParamSpec("log", "string"), ParamSpec("only_tall", "bool", default=False)))]

    def record(request, ctx):
        """Notes its worker, its threads and when it ran; refuses white pictures."""
        t0 = time.time()
        if float(request.image.mean()) > 0.99:
            raise ToolError("this picture is blank")
        time.sleep(request.params["wait"])
        with open(os.path.join(request.params["log"], f"{os.getpid()}-{time.monotonic_ns()}"), "w") as fh:
            fh.write(f"{os.getpid()} {os.environ.get('OMP_NUM_THREADS')} {t0} {time.time()}")
        return ToolResult(image=1.0 - request.image)

    def slow(request, ctx):
        h, w = request.image.shape[:2]
        if request.params["only_tall"] and h <= w:
            return ToolResult(image=request.image)
        with open(os.path.join(request.params["log"], str(os.getpid())), "w") as fh:
            fh.write(str(os.getpid()))
        end = time.monotonic() + 60
        while time.monotonic() < end:
            ctx.progress(0.5, "working")
            time.sleep(0.02)
        return ToolResult(image=request.image)
''')


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # GANPAINT_THREADS: the cores to share, so each of 2 workers gets 2 threads whatever this machine has
    return plugin_env(tmp_path, "gp_cli_jobs", PLUGIN, GANPAINT_THREADS="4")


def ganpaint(env: dict[str, str], *argv: object, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ganpaint", *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=timeout)


def pictures(folder: Path, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        px = rng.integers(0, 256, (20 + 3 * i, 30 + i, 3), np.uint8)
        Image.fromarray(px).save(folder / f"p{i}.png")
        out[f"p{i}.png"] = px
    return out


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


def leftovers(pid: int) -> list[str]:
    from ganpaint.engine.jobs.shm import PREFIX

    prefix = f"{PREFIX}{pid:x}_"
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)] if os.path.isdir("/dev/shm") else []


def temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_jobs_2_gives_the_outputs_of_jobs_1_from_two_workers(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in"
    pictures(src, 6)
    outs = {}
    for jobs in (1, 2):
        for tool in ("blur", "invert"):  # built-in classic tools: deterministic
            r = ganpaint(env, "run", tool, src, "-o", tmp_path / f"{tool}{jobs}", "--jobs", jobs, "-q")
            assert r.returncode == 0, r.stderr
            outs[tool, jobs] = {p.name: read(p) for p in sorted((tmp_path / f"{tool}{jobs}").iterdir())}
    for tool in ("blur", "invert"):
        assert sorted(outs[tool, 1]) == sorted(outs[tool, 2]) == [f"p{i}.png" for i in range(6)]
        for name, px in outs[tool, 1].items():
            np.testing.assert_array_equal(outs[tool, 2][name], px)  # bit-identical pixels
    # the plugin's tool: two worker processes at once, each with half of the 4 threads
    log = tmp_path / "log"
    log.mkdir()
    r = ganpaint(env, "run", "record", src, "-o", tmp_path / "rec", "--jobs", 2, "-q",
                 "--set", f"log={log}", "--set", "wait=0.8")
    assert r.returncode == 0, r.stderr
    runs = [f.read_text().split() for f in log.iterdir()]
    assert len(runs) == 6
    pids = {pid for pid, *_ in runs}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    assert {threads for _, threads, *_ in runs} == {"2"}
    spans = sorted((float(a), float(b)) for *_, a, b in runs)
    assert any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1)), f"never at once: {spans}"
    assert not temps(tmp_path / "rec")


def test_finished_outputs_are_skipped_unless_overwrite(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, out = tmp_path / "in", tmp_path / "out"
    px = pictures(src, 4)
    out.mkdir()
    black = np.zeros((5, 5, 3), np.uint8)
    Image.fromarray(black).save(out / "p1.png")  # "finished" by an earlier run
    r = ganpaint(env, "run", "invert", src, "-o", out, "--jobs", 2, "-q")
    assert r.returncode == 0, r.stderr
    assert "1 of 4 pictures already have an output" in r.stderr and "--overwrite" in r.stderr
    np.testing.assert_array_equal(read(out / "p1.png")[..., :3], black)  # left alone
    for name in ("p0.png", "p2.png", "p3.png"):
        np.testing.assert_array_equal(read(out / name)[..., :3], 255 - px[name])
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    r = ganpaint(env, "run", "invert", src, "-o", out, "--jobs", 2, "-q")  # all finished: nothing to do
    assert r.returncode == 0 and "4 of 4 pictures already" in r.stderr, r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    r = ganpaint(env, "run", "invert", src, "-o", out, "--jobs", 2, "-q", "--overwrite")
    assert r.returncode == 0 and "already" not in r.stderr, r.stderr
    for name, p in px.items():
        np.testing.assert_array_equal(read(out / name)[..., :3], 255 - p)
    assert not temps(out)


def test_a_corrupt_picture_and_a_tool_error_fail_alone(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, out, log = tmp_path / "in", tmp_path / "out", tmp_path / "log"
    px = pictures(src, 4)
    log.mkdir()
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    Image.fromarray(np.full((8, 8, 3), 255, np.uint8)).save(src / "white.png")  # the tool refuses it
    proc = subprocess.Popen([sys.executable, "-m", "ganpaint", "run", "record", str(src), "-o", str(out),
                             "--jobs", "2", "-q", "--set", f"log={log}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 2, err
    assert any("broken.png" in line and "damaged" in line for line in errors), err
    assert any("white.png" in line and "this picture is blank" in line for line in errors), err
    assert "2 of 6 pictures failed" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == sorted(px)
    for name, p in px.items():
        np.testing.assert_array_equal(read(out / name)[..., :3], 255 - p)
    assert not leftovers(proc.pid)


def test_ctrl_c_ends_every_worker_and_writes_nothing(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import psutil

    src, out, log = tmp_path / "in", tmp_path / "out", tmp_path / "log"
    pictures(src, 5)
    log.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganpaint", "run", "slow", str(src), "-o", str(out), "--jobs", "2",
         "--set", f"log={log}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        deadline = time.monotonic() + 90
        while len(list(log.iterdir())) < 2:  # both workers are running the tool
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the tools never started"
            time.sleep(0.05)
        workers = [int(f.name) for f in log.iterdir()]
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: 0 of 5 pictures written" in err and "Traceback" not in err
    assert took < 5.0, f"Ctrl+C took {took:.2f} s"
    assert list(out.iterdir()) == []  # nothing half-written, no temp files
    assert not leftovers(proc.pid)
    deadline = time.monotonic() + 5
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in workers):
        assert time.monotonic() < deadline, "a worker outlived the command"
        time.sleep(0.1)
    print(f"Ctrl+C with 2 workers busy: the command ended {took:.2f} s later")


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_keeps_the_finished_pictures_and_says_how_many(env, tmp_path: Path, jobs: int) -> None:  # type: ignore[no-untyped-def]
    src, out, log = tmp_path / "in", tmp_path / "out", tmp_path / "log"
    pictures(src, 7)  # p6 is the only one taller than wide: the tool takes 60 s on it, no time on the rest
    log.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganpaint", "run", "slow", str(src), "-o", str(out), "--jobs", str(jobs), "-q",
         "--set", f"log={log}", "--set", "only_tall=true"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 90
        while not (any(log.iterdir()) and out.is_dir() and len(list(out.iterdir())) == 6):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the batch never got to the slow picture"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: 6 of 7 pictures written" in err and "Traceback" not in err, err
    assert sorted(p.name for p in out.iterdir()) == [f"p{i}.png" for i in range(6)]  # no temp files
    assert not leftovers(proc.pid)
    r = ganpaint(env, "run", "invert", src, "-o", out, "--jobs", jobs, "-q")  # run again: only p6 is done
    assert r.returncode == 0 and "6 of 7 pictures already have an output" in r.stderr, r.stderr
    assert (out / "p6.png").is_file()


def test_jobs_must_be_a_positive_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ganpaint.__main__ import main

    for bad in ("0", "-2", "many"):
        code = main(["run", "invert", str(tmp_path), "-o", str(tmp_path / "o"), "--jobs", bad])
        assert code == 2 and "--jobs" in capsys.readouterr().err


def test_the_batch_benchmark_times_whole_commands(tmp_path: Path) -> None:
    """benchmarks/bench_batch.py's measurement on 3 tiny pictures: the outputs are made, the
    wall and CPU seconds are plausible (the CPU of the command and its workers, not of this process)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_batch.py"
    spec = importlib.util.spec_from_file_location("gp_bench_batch_under_test", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    src = tmp_path / "in"
    bench.make_pictures(src, n=3, size=32)
    assert len({(src / f"p{i:03d}.png").read_bytes() for i in range(3)}) == 3
    t0 = time.process_time()
    wall, cpu = bench.time_batch("invert", src, tmp_path / "out", 2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p{i:03d}.png" for i in range(3)]
    assert 0 < wall < 180 and cpu > 0.1  # at least the interpreter's start-up
    assert time.process_time() - t0 < cpu  # not this process's own time
