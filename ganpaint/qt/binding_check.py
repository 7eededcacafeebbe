"""Is the installed Qt binding safe to run for hours? A probe for leaked references to None.

PySide6/shiboken6 6.12.0 drop one reference to ``None`` on each Qt call that returns nothing.
On Python 3.12 and newer ``None`` is immortal and nothing happens; on 3.11 its reference count
reaches zero after some 20,000 such calls and the interpreter aborts ("Fatal Python error:
none_dealloc"), taking unsaved work with it. pyproject.toml keeps those releases out, but a
distribution package or a hand-made environment can still bring one in, so:

    leak = none_leak_per_call()          # ~0 on a sound binding, ~1.0 on a leaking one
    guard_against_leaking_binding()      # at start-up: acts only where the probe leaks

The guard logs one clear line and gives ``None`` so many references that the count can never
reach zero, so a leaking binding costs nothing worse than a warning. ``ganpaint --smoke-test`` fails on a leak.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QRect

log = logging.getLogger(__name__)

__all__ = ["guard_against_leaking_binding", "none_is_mortal", "none_leak_per_call", "void_calls"]


def none_is_mortal() -> bool:
    """True where a leaked reference to None can bring the count to zero (CPython < 3.12)."""
    return platform.python_implementation() == "CPython" and sys.version_info < (3, 12)


def void_calls() -> list[Callable[[], None]]:
    """A few Qt calls that return nothing, on objects of three kinds (QObject, value types)."""
    obj = QObject()
    point = QPoint()
    rect = QRect()
    return [
        lambda: obj.setObjectName("probe"),
        lambda: point.setX(1),
        lambda: rect.setWidth(2),
    ]


def _give_back(references: int, singleton: object = None) -> None:
    """Add ``references`` to a static singleton's reference count (ob_refcnt, the first field of a
    CPython object). Only for None, True and False, which the interpreter never frees."""
    assert singleton is None or singleton is True or singleton is False
    if references > 0:
        count = ctypes.c_ssize_t.from_address(id(singleton))
        count.value += references


def none_leak_per_call(calls: int = 300) -> float:
    """References to None lost per void Qt call, measured over ``calls`` calls.

    Returns 0.0 where None is immortal (the count cannot be read meaningfully, nor can it fall).
    A sound binding gives about 0; a leaking one about 1. What the probe loses it gives back.
    """
    if not none_is_mortal():
        return 0.0
    fns = void_calls()
    per_fn = max(1, calls // len(fns))
    before = sys.getrefcount(None)
    for fn in fns:
        for _ in range(per_fn):
            fn()
    lost = before - sys.getrefcount(None)
    _give_back(lost)  # the probe itself must cost nothing
    return max(0.0, lost / (per_fn * len(fns)))


# Enough references that a binding leaking one per call could run for millennia (2**60 calls).
CUSHION = 1 << 60


def guard_against_leaking_binding(leak: float | None = None) -> bool:
    """Probe the binding; where it leaks on a mortal None, log it and give None a cushion.

    Returns True where the cushion was given. None is never freed by the interpreter (it is a
    static object), so a count that merely stays high is harmless; only reaching zero aborts.
    """
    if not none_is_mortal():
        return False
    leak = none_leak_per_call() if leak is None else leak
    if leak < 0.5:
        return False
    import PySide6

    log.warning(
        "PySide6 %s leaks a reference to None on every Qt call that returns nothing (%.2f per call); "
        "on Python %d.%d that would abort the editor after minutes of use. GANPaint works around it, "
        "but please install a release GANPaint supports (PySide6-Essentials<6.12 on Python < 3.12).",
        PySide6.__version__, leak, *sys.version_info[:2])
    # the same release was seen to under-count True/False too (an abort at exit): cushion all three
    for singleton in (None, True, False):
        _give_back(CUSHION, singleton)
    return True
