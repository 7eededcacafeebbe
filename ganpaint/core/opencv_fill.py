"""OpenCV contrib's hole fills (``cv2.xphoto.inpaint``) on 8-bit pictures, torch-free, and a
child process that runs one fill alone.

Why a child process: OpenCV's shift-map is not repeatable inside a busy process. Measured
(OpenCV 5.1, 63 x 65 picture, 30 runs each): in a fresh process it gives the same fill every
time, whatever the process did before and however loaded the machine; called on other threads
it gave 2-4 different fills, 9-21 of 30 runs differed when FSR or a torch convolution ran
beside it, and under pytest even the main thread's fill differed from a plain script's. A tool
must give the same pixels for the same input (the inpaint tool's tests check that no hidden
pixel reaches the result by comparing runs), so shift-map runs in a fresh process of its own
(``fill_u8_isolated``). Starting one costs ~0.15 s in a
virtual environment. It also keeps a crash of OpenCV (shift-map dies with SIGSEGV on a
picture without a hole, which :func:`fill_u8` guards) out of the caller's process.

OpenCV is an optional import: without opencv-contrib every fill is None and callers fall
back (ganpaint.nn.inpaint_guide).
"""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from typing import Any

import numpy as np

#: the fills: FSR (frequency selective reconstruction, Seiler et al. 2015) and shift-map (He
#: and Sun 2012: every hole pixel copied from an offset chosen by graph cut)
FILLS = {"fsr": "INPAINT_FSR_FAST", "shiftmap": "INPAINT_SHIFTMAP"}
#: the fills that run in a child process (fill_u8_isolated): those not repeatable in a busy one
ISOLATED = frozenset({"shiftmap"})
#: how long a child may take before it is killed and the fill counts as failed
CHILD_TIMEOUT_S = 120.0


@functools.cache
def _xphoto() -> Any | None:
    try:
        import cv2
    except ImportError:
        return None
    return getattr(cv2, "xphoto", None)


def available() -> bool:
    """Whether opencv-contrib (``cv2.xphoto``) is installed."""
    return _xphoto() is not None


def fill_u8(kind: str, picture: np.ndarray, hole: np.ndarray) -> np.ndarray | None:
    """The ``kind`` fill (a key of FILLS) of one (H, W, 3) uint8 picture where ``hole``
    (H, W, bool) is True, in this process; the known pixels come back unchanged. None when it
    cannot run (no opencv-contrib, or a picture it refuses: nothing known, or OpenCV raised)."""
    if kind not in FILLS:
        raise ValueError(f"unknown inpainting fill {kind!r}; known: {', '.join(repr(k) for k in FILLS)}")
    xp = _xphoto()
    if xp is None or not (~hole).any():
        return None
    if not hole.any():  # (shift-map also crashes the process on a picture without a hole)
        return picture.copy()
    import cv2

    src = np.ascontiguousarray(np.where(hole[..., None], 0, picture).astype(np.uint8))
    dst = np.zeros_like(src)
    try:
        xp.inpaint(src, np.ascontiguousarray((~hole).astype(np.uint8) * 255), dst, getattr(xp, FILLS[kind]))
    except cv2.error:
        return None
    return np.where(hole[..., None], dst, picture).astype(np.uint8)  # both nudge known pixels


def child_command() -> list[str]:
    """The command that runs :func:`child_main` (the frozen app answers it itself)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--opencv-fill-child"]
    return [sys.executable, "-m", "ganpaint.core.opencv_fill"]


def fill_u8_isolated(kind: str, picture: np.ndarray, hole: np.ndarray,
                     timeout: float = CHILD_TIMEOUT_S) -> np.ndarray | None:
    """:func:`fill_u8` in a fresh child process (see the module's docstring); None when the
    child fails, crashes or takes longer than ``timeout`` seconds (it is then killed)."""
    if kind not in FILLS:
        raise ValueError(f"unknown inpainting fill {kind!r}; known: {', '.join(repr(k) for k in FILLS)}")
    if not available() or not (~hole).any():
        return None
    if not hole.any():
        return picture.copy()
    buf = io.BytesIO()
    np.savez(buf, kind=np.array(kind), picture=np.ascontiguousarray(picture, np.uint8),
             hole=np.ascontiguousarray(hole, bool))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(child_command(), input=buf.getvalue(), capture_output=True, timeout=timeout,
                              env=env, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        out = np.load(io.BytesIO(done.stdout), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if out.shape != picture.shape or out.dtype != np.uint8:
        return None
    return out


def child_main() -> int:
    """Read (kind, picture, hole) as .npz from stdin, write the fill as .npy to stdout; exit 3
    when the fill cannot be made, 2 on unreadable input."""
    try:
        with np.load(io.BytesIO(sys.stdin.buffer.read()), allow_pickle=False) as z:
            kind, picture, hole = str(z["kind"]), z["picture"], z["hole"].astype(bool)
    except (ValueError, OSError, KeyError, EOFError):
        return 2
    if kind not in FILLS or picture.ndim != 3 or picture.shape[2] != 3 or hole.shape != picture.shape[:2]:
        return 2
    out = fill_u8(kind, picture.astype(np.uint8), hole)
    if out is None:
        return 3
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    sys.stdout.buffer.write(buf.getvalue())
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(child_main())
