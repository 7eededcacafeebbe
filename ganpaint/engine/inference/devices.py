"""Device choice and the process settings torch needs before it loads.

torch is imported lazily (only :func:`pick_device` with ``"auto"``/``"cuda"``/
``"mps"`` and :func:`configure_torch` import it), so the editor starts without it.

Why :func:`prepare_torch_env`: with OpenMP's default spin-waiting, one other busy
process on this 2-core machine made a 2-thread ResNet run 3x slower
(0.60 s -> 1.81 s, slower than one thread). ``OMP_WAIT_POLICY=PASSIVE`` makes idle
OpenMP threads sleep instead of spinning, which removes that cliff. OpenMP reads
it once, when the runtime starts (when torch is imported), so it has to be set
before that: at the top of ``ganpaint.__main__`` and in every job worker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


class DeviceError(ValueError):
    """A requested device is unknown or not available on this machine."""


def usable_cores() -> int:
    """CPU cores this process may run on (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _running_now() -> int | None:
    """Runnable tasks on the machine right now (the 4th field of /proc/loadavg), or None."""
    try:
        field = Path("/proc/loadavg").read_text().split()[3]
        return int(field.split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def free_cores(samples: int = 5, interval_s: float = 0.001) -> int:
    """Cores not kept busy by other programs at this moment (at least 1).

    Why: a thread pool that partitions work statically (oneDNN inside OpenVINO; OpenVINO's
    own threads ignore ``OMP_WAIT_POLICY``) runs at the pace of its slowest thread, so with
    one busy program on a 2-core machine 2 threads took 5.1 s where 1 thread took 3.4 s
    (docs/performance.md). The median of a few instantaneous run-queue readings, minus this
    process's own task, says how many cores others are using; costs ~5 ms. Where
    /proc/loadavg does not exist every usable core counts as free."""
    import statistics
    import time

    cores = usable_cores()
    readings = []
    for i in range(samples):
        n = _running_now()
        if n is None:
            return cores
        readings.append(n)
        if i + 1 < samples:
            time.sleep(interval_s)
    others = int(statistics.median(readings)) - 1  # the reading thread itself is running
    return max(1, min(cores, cores - max(0, others)))


def default_threads() -> int:
    """Intra-op threads for torch: ``$GANPAINT_THREADS`` or the usable core count.

    One thread per usable core; more only adds contention, and with the passive
    wait policy a competing process no longer makes the extra threads harmful.
    """
    env = os.environ.get("GANPAINT_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return usable_cores()


def prepare_torch_env() -> None:
    """Set the OpenMP environment torch reads at import, unless the user set it.

    Idempotent and cheap; has no effect on an already imported torch (then the
    thread count is still applied through :func:`configure_torch`).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("KMP_BLOCKTIME", "0")  # Intel OpenMP's spin time, in ms
    threads = str(default_threads())
    for var in _THREAD_VARS:
        os.environ.setdefault(var, threads)
    if "torch" in sys.modules:
        configure_torch()


def configure_torch() -> None:
    """Apply the thread count to a loaded torch (imports it)."""
    import torch

    wanted = os.environ.get("OMP_NUM_THREADS", "")
    n = int(wanted) if wanted.isdigit() and int(wanted) > 0 else default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _normalise(preference: str | None) -> str:
    pref = (preference or "auto").strip().lower()
    base = pref.split(":", 1)[0]
    if base not in DEVICE_CHOICES:
        raise DeviceError(f"unknown device {preference!r} (choose from {', '.join(DEVICE_CHOICES)})")
    if ":" in pref and (base != "cuda" or not pref.split(":", 1)[1].isdigit()):
        raise DeviceError(f"unknown device {preference!r} (only cuda takes an index, e.g. cuda:1)")
    return pref


def check_device_name(preference: str | None) -> None:
    """Raise :class:`DeviceError` for a device name we do not know (without importing torch)."""
    _normalise(preference)


def explicit_device(preference: str | None) -> str | None:
    """The device asked for by name (``preference``, else ``$GANPAINT_DEVICE``) when it is one
    that may be missing (``cuda``, ``cuda:N``, ``mps``), else None (``auto`` and ``cpu`` always
    work). A front end resolves such a name with :func:`pick_device` before any tool runs, so
    a machine without the device is reported by the host in one sentence, not as the failure
    of the first tool that asks ``ctx.device``. No torch import."""
    pref = _normalise(preference or os.environ.get("GANPAINT_DEVICE"))
    return None if pref in ("auto", "cpu") else pref


def torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def pick_device(preference: str | None = None) -> str:
    """The torch device string to run on.

    ``preference``: ``None``/``"auto"`` (CUDA, then Apple MPS, then CPU), ``"cpu"``,
    ``"cuda"``, ``"cuda:N"`` or ``"mps"``. Falls back to ``"cpu"`` when torch is not
    importable. Raises :class:`DeviceError` for an unknown name or an explicitly
    requested device that is not available.
    """
    pref = _normalise(preference or os.environ.get("GANPAINT_DEVICE"))
    if pref == "cpu":
        return "cpu"
    prepare_torch_env()
    try:
        import torch
    except Exception:  # torch missing or broken: the CPU is always there
        if pref == "auto":
            return "cpu"
        raise DeviceError(f"device {pref!r} needs torch, which could not be imported") from None
    configure_torch()
    has_cuda = bool(torch.cuda.is_available())
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if pref == "auto":
        return "cuda" if has_cuda else ("mps" if has_mps else "cpu")
    if pref.startswith("cuda"):
        if not has_cuda:
            raise DeviceError("CUDA was requested but this machine has no CUDA device that torch can use")
        if ":" in pref and int(pref.split(":")[1]) >= torch.cuda.device_count():
            raise DeviceError(f"{pref} was requested but only {torch.cuda.device_count()} CUDA device(s) exist")
        return pref
    if not has_mps:
        raise DeviceError("Apple MPS was requested but is not available on this machine")
    return "mps"


def cuda_device_count() -> int:
    """How many CUDA devices torch sees (0 without torch or CUDA): the Train dialog offers a
    multi-GPU run (torchrun) from 2."""
    try:
        import torch

        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - torch missing or broken: no GPU to offer
        return 0


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 instructions (AVX512-BF16 or AMX), so the
    "fast" precision can use bf16 on the CPU."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def fast_dtype(device: str) -> str | None:
    """The reduced-precision dtype name for ``precision="fast"`` on ``device``
    (``"float16"``, ``"bfloat16"``) or None when full precision is the only safe choice."""
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "bfloat16" if cpu_supports_bf16() else None
