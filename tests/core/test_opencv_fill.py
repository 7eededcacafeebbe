"""ganpaint.core.opencv_fill: OpenCV's fills in this process and in a child process (shift-map
is repeatable only in a process of its own), and the child's failures."""

from __future__ import annotations

import io
import subprocess
import sys
import threading

import numpy as np
import pytest

from ganpaint.core import opencv_fill

needs_cv = pytest.mark.skipif(not opencv_fill.available(), reason="opencv-contrib (cv2.xphoto) is not installed")


def _case(h: int = 63, w: int = 65) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pic = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 5)], -1) + rng.normal(0, 0.03, (h, w, 3))
    hole = np.zeros((h, w), bool)
    hole[20:41, 22:47] = True
    return np.clip(np.rint(pic * 255), 0, 255).astype(np.uint8), hole


@needs_cv
@pytest.mark.parametrize("kind", sorted(opencv_fill.FILLS))
def test_the_child_fills_the_hole_and_keeps_the_rest(kind: str) -> None:
    pic, hole = _case()
    child = opencv_fill.fill_u8_isolated(kind, pic, hole)
    assert child is not None and child.shape == pic.shape and child.dtype == np.uint8
    assert np.array_equal(child[~hole], pic[~hole])
    assert child[hole].std() > 10  # filled (the input's hole pixels are zeroed before the fill)
    if kind == "fsr":  # FSR is repeatable anywhere: the child agrees with this process
        assert np.array_equal(child, opencv_fill.fill_u8(kind, pic, hole))


@needs_cv
def test_shift_map_through_the_child_is_repeatable_from_any_thread() -> None:
    """The reason for the child: shift-map called on other threads varies (2-4 fills in 30
    fresh threads here, and under pytest even its main thread's differs from a script's);
    through the child every call, from any thread, gets the same fill."""
    pic, hole = _case()
    want = opencv_fill.fill_u8_isolated("shiftmap", pic, hole)
    assert want is not None
    got: list[np.ndarray | None] = []
    threads = [threading.Thread(target=lambda: got.append(opencv_fill.fill_u8_isolated("shiftmap", pic, hole)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got.append(opencv_fill.fill_u8_isolated("shiftmap", pic, hole))
    assert len(got) == 5 and all(g is not None and np.array_equal(g, want) for g in got)


@needs_cv
@pytest.mark.parametrize("command", [
    [sys.executable, "-c", "import sys; sys.exit(1)"],                      # fails
    [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],  # crashes
    [sys.executable, "-c", "import sys; sys.stdout.write('not an array')"],  # garbage
    [sys.executable, "-c", "import numpy as np, sys; np.save(sys.stdout.buffer, np.zeros((2, 2, 3), np.uint8))"],
])
def test_a_failing_child_gives_none(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setattr(opencv_fill, "child_command", lambda: command)
    pic, hole = _case()
    assert opencv_fill.fill_u8_isolated("shiftmap", pic, hole) is None


@needs_cv
def test_a_hanging_child_is_killed_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opencv_fill, "child_command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    pic, hole = _case()
    assert opencv_fill.fill_u8_isolated("shiftmap", pic, hole, timeout=1.0) is None


def test_no_child_without_opencv_or_without_a_hole(monkeypatch: pytest.MonkeyPatch) -> None:
    pic, hole = _case()
    monkeypatch.setattr(opencv_fill, "child_command", lambda: pytest.fail("no child expected"))
    if opencv_fill.available():
        assert np.array_equal(opencv_fill.fill_u8_isolated("shiftmap", pic, np.zeros_like(hole)), pic)
        assert opencv_fill.fill_u8_isolated("shiftmap", pic, np.ones_like(hole)) is None  # nothing known
    monkeypatch.setattr(opencv_fill, "_xphoto", lambda: None)
    assert opencv_fill.fill_u8_isolated("shiftmap", pic, hole) is None
    with pytest.raises(ValueError, match="unknown inpainting fill"):
        opencv_fill.fill_u8_isolated("patchmatch", pic, hole)


def test_the_child_refuses_unreadable_input() -> None:
    for data in (b"", b"garbage", _npz(kind="fsr", picture=np.zeros((4, 4), np.uint8), hole=np.zeros((4, 4), bool))):
        done = subprocess.run(opencv_fill.child_command(), input=data, capture_output=True, timeout=60, check=False)
        assert done.returncode == 2 and done.stdout == b""


@needs_cv
def test_the_frozen_apps_entry_answers_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen build runs ``ganpaint --opencv-fill-child``; ganpaint/__main__.py answers it."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert opencv_fill.child_command() == [sys.executable, "--opencv-fill-child"]
    monkeypatch.delattr(sys, "frozen")
    pic, hole = _case(24, 30)
    hole[:] = False
    hole[5:15, 8:20] = True
    done = subprocess.run([sys.executable, "-m", "ganpaint", "--opencv-fill-child"],
                          input=_npz(kind="fsr", picture=pic, hole=hole), capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert np.array_equal(np.load(io.BytesIO(done.stdout)), opencv_fill.fill_u8("fsr", pic, hole))


def _npz(**arrays: object) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()
