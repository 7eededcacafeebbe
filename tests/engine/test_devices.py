"""Device choice and the OpenMP environment (subprocesses where import order matters)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ganpaint.engine.inference import devices
from ganpaint.engine.inference.devices import DeviceError, check_device_name, pick_device


def _python(code: str, env: dict[str, str] | None = None) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "KMP_BLOCKTIME", "OMP_NUM_THREADS",
                                                             "MKL_NUM_THREADS", "GANPAINT_DEVICE")}
    full.update(env or {})
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_cpu_never_imports_torch() -> None:
    out = _python("import sys\nfrom ganpaint.engine.inference.devices import pick_device\n"
                  "print(pick_device('cpu'), 'torch' in sys.modules)")
    assert out == "cpu False"


def test_unknown_device_names_are_refused() -> None:
    for bad in ("tpu", "cuda:x", "cpu:0", "mps:1"):
        with pytest.raises(DeviceError):
            check_device_name(bad)
        with pytest.raises(DeviceError):
            pick_device(bad)
    for good in (None, "auto", "CPU", "cuda", "cuda:1", "mps"):
        check_device_name(good)


@pytest.mark.slow  # imports torch
def test_auto_picks_an_available_device() -> None:
    torch = pytest.importorskip("torch")
    dev = pick_device("auto")
    if torch.cuda.is_available():
        assert dev == "cuda"
    elif torch.backends.mps.is_available():
        assert dev == "mps"
    else:
        assert dev == "cpu"


@pytest.mark.slow  # imports torch
def test_unavailable_device_is_a_clear_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="CUDA"):
        pick_device("cuda")


def test_environment_variable_overrides_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    assert pick_device(None) == "cpu"


def test_prepare_sets_passive_wait_before_torch_loads() -> None:
    code = (
        "import os, sys\n"
        "import ganpaint.__main__\n"  # the entry module must not import torch itself
        "from ganpaint.engine.inference.devices import prepare_torch_env\n"
        "prepare_torch_env()\n"
        "assert 'torch' not in sys.modules\n"
        "print(os.environ['OMP_WAIT_POLICY'], os.environ['KMP_BLOCKTIME'], os.environ['OMP_NUM_THREADS'])\n"
    )
    policy, blocktime, threads = _python(code).split()
    assert (policy, blocktime) == ("PASSIVE", "0")
    assert int(threads) == devices.usable_cores()


def test_prepare_keeps_what_the_user_set() -> None:
    code = ("import os\nfrom ganpaint.engine.inference.devices import prepare_torch_env\nprepare_torch_env()\n"
            "print(os.environ['OMP_WAIT_POLICY'], os.environ['OMP_NUM_THREADS'])")
    assert _python(code, {"OMP_WAIT_POLICY": "ACTIVE", "OMP_NUM_THREADS": "1"}) == "ACTIVE 1"


@pytest.mark.slow  # imports torch in a fresh process
def test_worker_prepares_env_and_torch_gets_the_thread_count() -> None:
    pytest.importorskip("torch")
    code = (
        "import os\n"
        "from ganpaint.engine.jobs import Job, JobQueue\n"
        "def fn(inputs, ctx):\n"
        "    import torch\n"
        "    return os.environ['OMP_WAIT_POLICY'], torch.get_num_threads()\n"
        "q = JobQueue()\n"
        "j = q.submit(Job('t', 'interactive', fn))\n"
        "j.wait(60)\n"
        "print(*j.result)\n"
        "q.shutdown()\n"
    )
    policy, threads = _python(code, {"GANPAINT_THREADS": "1"}).split()
    assert policy == "PASSIVE" and threads == "1"


def test_fast_dtype_on_cpu_follows_the_cpu_flags() -> None:
    assert devices.fast_dtype("cpu") == ("bfloat16" if devices.cpu_supports_bf16() else None)
