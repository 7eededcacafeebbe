"""``ganpaint`` on the command line: in-process ``main([...])`` and real subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def make_picture(path: Path, w: int = 16, h: int = 10, alpha: bool = False) -> np.ndarray:
    rng = np.random.default_rng(len(path.name))
    px = rng.integers(0, 256, (h, w, 4 if alpha else 3), dtype=np.uint8)
    if alpha:
        px[..., 3] = 200
    Image.fromarray(px).save(path)
    return px


def read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.fixture
def picture(tmp_path: Path) -> tuple[Path, np.ndarray]:
    p = tmp_path / "in.png"
    return p, make_picture(p)


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("ganpaint: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------------------ start-up


def test_version_and_import_are_light(sub) -> None:  # type: ignore[no-untyped-def]
    from ganpaint import __version__

    r = sub("--version")
    assert r.code == 0 and r.out.strip() == f"ganpaint {__version__}"
    code = (
        "import sys\n"
        "import ganpaint\n"
        "light = not any(m in sys.modules for m in ('torch', 'PySide6'))\n"
        "from ganpaint.__main__ import main\n"
        "rc = main(['--version'])\n"
        "print(rc, light, not any(m in sys.modules for m in ('torch', 'PySide6')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split()[-3:] == ["0", "True", "True"], proc.stderr


def test_run_does_not_import_qt_or_torch_for_a_classic_tool(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "a.png"
    make_picture(src)
    code = (
        "import sys\nfrom ganpaint.__main__ import main\n"
        f"rc = main(['run', 'invert', {str(src)!r}, '-o', {str(tmp_path / 'b.png')!r}, '-q'])\n"
        "print(rc, [m for m in ('torch', 'PySide6') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stderr


def test_gui_path_gets_the_file(env) -> None:  # type: ignore[no-untyped-def]
    from ganpaint.cli.main import main

    seen = []
    assert main(["--debug", "pic.png"], gui=lambda path, args: seen.append((path, args.debug)) or 0) == 0
    assert seen == [("pic.png", True)]
    assert main([], gui=lambda path, args: seen.append(path) or 3) == 3
    assert seen[-1] is None
    assert main(["--device", "tpu"], gui=lambda path, args: seen.append(path) or 0) == 2
    assert main(["--device", "cpu", "x.png"], gui=lambda path, args: seen.append(args.device) or 0) == 0
    assert seen[-1] == "cpu"


def test_main_never_raises_system_exit(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--help")
    assert r.code == 0 and "run" in r.out and "convert" in r.out
    r = cli("run", "--help")
    assert r.code == 0 and "--mask" in r.out


# ------------------------------------------------------------------------------ run


def test_run_invert_exact_pixels(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, px = picture
    out = tmp_path / "out.png"
    r = cli("run", "invert", src, "-o", out)
    assert r.code == 0, r.err
    got = read(out)
    np.testing.assert_array_equal(got[..., :3], 255 - px)
    assert (got[..., 3] == 255).all()
    assert "invert" in r.err  # the progress bar is on stderr


def test_run_through_a_soft_mask_keeps_alpha(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "a.png"
    px = make_picture(src, 16, 10, alpha=True)
    mask = np.zeros((10, 16), np.uint8)
    mask[:, :4] = 255
    mask[:, 4:8] = 128
    Image.fromarray(mask, "L").save(tmp_path / "m.png")
    out = tmp_path / "out.png"
    r = cli("run", "invert", src, "-o", out, "--mask", tmp_path / "m.png")
    assert r.code == 0, r.err
    got = read(out).astype(int)
    np.testing.assert_array_equal(got[:, :4, :3], 255 - px[:, :4, :3])
    np.testing.assert_array_equal(got[:, 8:, :3], px[:, 8:, :3])
    m = 128 / 255
    expected = np.rint((255 - px[:, 4:8, :3]) / 255 * m * 255 + px[:, 4:8, :3] * (1 - m))
    assert np.abs(got[:, 4:8, :3] - expected).max() <= 1
    assert (got[..., 3] == 200).all()  # straight alpha restored


def test_run_set_params_and_model(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, px = picture
    r0 = cli("run", "desaturate", src, "-o", tmp_path / "d0.png", "--set", "amount=0")
    r1 = cli("run", "desaturate", src, "-o", tmp_path / "d1.png", "--set", "amount=1")
    assert r0.code == 0 and r1.code == 0
    assert np.abs(read(tmp_path / "d0.png")[..., :3].astype(int) - px).max() <= 1
    grey = read(tmp_path / "d1.png")
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    r = cli("run", "blur", src, "-o", tmp_path / "x.png", "--model", "m1")
    assert r.code == 2 and "takes no model" in one_line(r.err)


def test_run_ora_output_keeps_original_and_result(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ganpaint.core.ora")
    from ganpaint.cli.common import read_document
    from ganpaint.core.layers import LayerKind

    src, px = picture
    out = tmp_path / "out.ora"
    r = cli("run", "invert", src, "-o", out)
    assert r.code == 0, r.err
    doc = read_document(out)
    assert len(doc.layers) == 2
    orig, res = doc.layers
    np.testing.assert_array_equal(orig.pixels[..., :3], px)
    np.testing.assert_array_equal(res.pixels[..., :3], 255 - px)
    assert res.kind is LayerKind.RESULT and res.result is not None and res.result.tool_id == "invert"


def test_batch_folder(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in"
    src.mkdir()
    pics = {name: make_picture(src / name) for name in ("a.png", "b.bmp")}
    (src / "notes.txt").write_text("not a picture, skipped")
    out = tmp_path / "out"
    r = cli("run", "invert", src, "-o", out)
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.bmp"]
    for name, px in pics.items():
        np.testing.assert_array_equal(read(out / name)[..., :3], 255 - px)


def test_batch_with_a_bad_file_does_the_rest_and_fails(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in"
    src.mkdir()
    make_picture(src / "good.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    r = cli("run", "invert", src, "-o", out, "--format", "webp")
    assert r.code == 1
    assert [p.name for p in out.iterdir()] == ["good.webp"]
    assert "broken.png" in r.err and "1 of 2 pictures failed" in r.err


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["run", "nope", "{src}", "-o", "{out}"], 2, "unknown tool 'nope'"),
        (["run", "blur", "{src}", "-o", "{out}", "--frobnicate"], 2, "unrecognized arguments"),
        (["--frobnicate"], 2, "unrecognized arguments"),
        (["run", "blur", "{src}"], 2, "-o/--output"),
        (["run", "blur", "{src}", "-o", "{out}", "--set", "radius=-4"], 2, "below the minimum"),
        (["run", "blur", "{src}", "-o", "{out}", "--set", "radius=soft"], 2, "parameter radius"),
        (["run", "blur", "{src}", "-o", "{out}", "--set", "size=3"], 2, "unknown parameter 'size'"),
        (["run", "blur", "{src}", "-o", "{out}", "--set", "radius"], 2, "NAME=VALUE"),
        (["run", "blur", "{src}", "-o", "{tmp}/out.xyz"], 2, "unknown picture type"),
        (["run", "blur", "{src}", "-o", "{out}", "--device", "tpu"], 2, "unknown device"),
        (["run", "blur", "-o", "{out}"], 2, "needs an INPUT"),
        (["tools", "nope"], 2, "unknown tool"),
        (["frobnicate"], 2, "unknown command"),
        (["run", "blur", "{tmp}/missing.png", "-o", "{out}"], 1, "missing.png"),
        (["run", "blur", "{bad}", "-o", "{out}"], 1, "bad.png"),
        (["run", "blur", "{trunc}", "-o", "{out}"], 1, "trunc.png"),
        (["run", "blur", "{empty}", "-o", "{out}"], 1, "empty.png"),
        (["run", "blur", "{src}", "-o", "{out}", "--mask", "{small}"], 1, "mask"),
        (["run", "crash", "{src}", "-o", "{out}"], 1, "plugin 'gp_cli_faults', tool 'crash'"),
        (["run", "refuse", "{src}", "-o", "{out}"], 1, "too small for the tool"),
        (["run", "nan", "{src}", "-o", "{out}"], 1, "NaN"),
        (["run", "brokenimport", "{src}", "-o", "{out}"], 1, "gp_no_such_module_xyz"),
        (["run", "modelled", "{src}", "-o", "{out}", "--model", "nosuchmodel"], 1, "nosuchmodel"),
        (["convert", "{bad}", "{out}"], 1, "bad.png"),
        (["convert", "{src}", "{tmp}/nofolder/x.png"], 1, "x.png"),
    ],
)
def test_exit_codes(cli, picture, tmp_path: Path, argv, code, needle) -> None:  # type: ignore[no-untyped-def]
    src, _ = picture
    (tmp_path / "bad.png").write_bytes(b"this is not a picture")
    good = (tmp_path / "good.png")
    make_picture(good, 64, 64)
    data = good.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    make_picture(tmp_path / "small.png", 3, 3)
    out = tmp_path / "out.png"
    names = dict(src=src, out=out, tmp=tmp_path, bad=tmp_path / "bad.png", trunc=tmp_path / "trunc.png",
                 empty=tmp_path / "empty.png", small=tmp_path / "small.png")
    r = cli(*[a.format(**names) for a in argv])
    assert r.code == code, r.err
    assert needle in r.err
    if code == 1:
        one_line(r.err)
    assert not out.exists()  # a failed run writes nothing


def test_debug_shows_the_traceback(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, _ = picture
    r = cli("--debug", "run", "crash", src, "-o", tmp_path / "o.png")
    assert r.code == 1 and "Traceback" in r.err and "the plugin fell over" in r.err
    r = cli("run", "crash", src, "-o", tmp_path / "o.png", "--debug")  # after the command too
    assert r.code == 1 and "Traceback" in r.err


def test_failed_run_leaves_existing_output_intact(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, _ = picture
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    for tool in ("crash", "nan", "refuse"):
        assert cli("run", tool, src, "-o", out).code == 1
        assert out.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no temp litter


def test_unwritable_destination_keeps_the_old_file(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() == 0:
        pytest.skip("root can write into read-only folders")
    src, _ = picture
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "o.png").write_bytes(b"old")
    folder.chmod(0o555)
    try:
        r = cli("run", "invert", src, "-o", folder / "o.png")
    finally:
        folder.chmod(0o755)
    assert r.code == 1 and "permission denied" in one_line(r.err)
    assert (folder / "o.png").read_bytes() == b"old"


# ------------------------------------------------------------------------------ subprocess


def test_subprocess_run_and_errors(sub, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, px = picture
    r = sub("run", "invert", src, "-o", tmp_path / "o.png")
    assert r.code == 0, r.err
    np.testing.assert_array_equal(read(tmp_path / "o.png")[..., :3], 255 - px)
    r = sub("run", "nope", src, "-o", tmp_path / "o2.png")
    assert r.code == 2 and "unknown tool" in r.err
    r = sub("run", "crash", src, "-o", tmp_path / "o2.png")
    assert r.code == 1 and "Traceback" not in r.err and not (tmp_path / "o2.png").exists()


def test_ctrl_c_cancels_cleanly(env, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, _ = picture
    marker = tmp_path / "started"
    out = tmp_path / "o.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganpaint", "run", "slow", str(src), "-o", str(out), "--set", f"marker={marker}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as in a terminal: a test run started in the background of a shell (nohup ... &) ignores
        # SIGINT, every child inherits that, and Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the tool never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "nothing was written" in err and "Traceback" not in err
    assert not out.exists()


def test_ctrl_c_while_submit_returns_still_cancels(cli, picture, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+C can land while submit() is still returning (the tool already running): the job
    is cancelled and the command ends at once, not after the tool's own 60 s."""
    from ganpaint.engine.jobs import JobQueue, JobState

    src, _ = picture
    marker = tmp_path / "started"
    submitted = []
    real_submit = JobQueue.submit

    def submit_then_interrupt(self, job):  # type: ignore[no-untyped-def]
        real_submit(self, job)
        submitted.append(job)
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(JobQueue, "submit", submit_then_interrupt)
    t0 = time.monotonic()
    r = cli("run", "slow", src, "-o", tmp_path / "o.png", "--set", f"marker={marker}")
    assert r.code == 130 and "nothing was written" in r.err
    assert time.monotonic() - t0 < 20
    assert submitted and submitted[0].state is JobState.CANCELLED
    assert not (tmp_path / "o.png").exists()


# ------------------------------------------------------------------------------ other commands


def test_convert_between_formats(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, px = picture
    for ext in ("bmp", "tif", "webp", "png"):
        out = tmp_path / f"c.{ext}"
        r = cli("convert", src, out)
        assert r.code == 0, r.err
        if ext != "webp":
            np.testing.assert_array_equal(read(out)[..., :3], px)
    r = cli("convert", src, tmp_path / "c.jpg")
    assert r.code == 0 and np.abs(read(tmp_path / "c.jpg")[..., :3].astype(int) - px).mean() < 40


def test_convert_ora_round_trip(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ganpaint.core.ora")
    src, px = picture
    assert cli("convert", src, tmp_path / "d.ora").code == 0
    assert cli("convert", tmp_path / "d.ora", tmp_path / "flat.png").code == 0
    np.testing.assert_array_equal(read(tmp_path / "flat.png")[..., :3], px)


def test_tools_and_plugins(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("tools")
    assert r.code == 0 and all(t in r.out for t in ("blur", "sharpen", "desaturate", "invert", "crash"))
    r = cli("tools", "blur")
    assert r.code == 0 and "radius" in r.out and "float" in r.out and "0..100" in r.out
    r = cli("plugins")
    assert r.code == 0 and "classic" in r.out and "gp_cli_faults" in r.out
    r = cli("--safe-mode", "tools")
    assert r.code == 0 and "blur" in r.out and "crash" not in r.out


def test_tool_without_input_uses_size(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "g.png"
    r = cli("run", "generate", "-o", out, "--size", "8x6")
    assert r.code == 0, r.err
    got = read(out)
    assert got.shape == (6, 8, 4) and (got[..., :3] == 128).all() and (got[..., 3] == 255).all()
    assert cli("run", "generate", "-o", out, "--size", "8by6").code == 2


def test_picture_size_limit_refuses_bombs(cli, picture, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    src, _ = picture  # 16x10 = 160 pixels
    monkeypatch.setenv("GANPAINT_MAX_PIXELS", "100")
    r = cli("run", "invert", src, "-o", tmp_path / "o.png")
    assert r.code == 1 and "in.png" in one_line(r.err)
    assert not (tmp_path / "o.png").exists()


def test_wrong_extension_still_reads(cli, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, px = picture
    fake = tmp_path / "really_png.jpg"
    fake.write_bytes(src.read_bytes())
    r = cli("run", "invert", fake, "-o", tmp_path / "o.png")
    assert r.code == 0, r.err
    np.testing.assert_array_equal(read(tmp_path / "o.png")[..., :3], 255 - px)


def test_full_disk_keeps_the_old_file(cli, picture, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    import ganpaint.core.atomic as atomic

    src, _ = picture
    out = tmp_path / "o.png"
    out.write_bytes(b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    r = cli("run", "invert", src, "-o", out)
    assert r.code == 1 and "disk full" in one_line(r.err)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "o.png"]


def test_missing_or_broken_subcommand_modules_are_skipped(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import types

    import ganpaint.cli.main as climain

    broken = types.ModuleType("ganpaint.cli.gp_raising_cmd")

    def add_parser(sub) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("bad add_parser")

    broken.add_parser = add_parser  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ganpaint.cli.gp_raising_cmd", broken)
    monkeypatch.setattr(climain, "SUBCOMMANDS", [*climain.SUBCOMMANDS, "gp_absent_cmd", "gp_raising_cmd"])
    r = cli("--help")
    assert r.code == 0 and "tools" in r.out and "gp_absent_cmd" not in r.out + r.err
    assert "'gp_raising_cmd' command is unavailable" in r.err and "gp_raising_cmd" not in r.out
    r = cli("gp_absent_cmd")
    assert r.code == 2 and "not available" in r.err
    r = cli("tools")
    assert r.code == 0 and "blur" in r.out
