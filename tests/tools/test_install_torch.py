"""tools/install_torch.py: which torch `make install` picks for the machine, and the download size it reports."""

from __future__ import annotations

import http.server
import importlib.util
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    name = "install_torch_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "install_torch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


T = _load()

LSPCI_NVIDIA = """00:02.0 0300: 8086:3e92
01:00.0 0300: 10de:2684 (rev a1)
01:00.1 0403: 10de:22ba (rev a1)
"""
LSPCI_NVIDIA_AUDIO_ONLY = "01:00.1 0403: 10de:22ba (rev a1)\n"
LSPCI_H100 = "Slot:\t0000:1b:00.0\n1b:00.0 0302: 10de:2330 (rev a1)\n"


def probes(tmp_path, *, driver=False, node=False, tools=None, outputs=None, platform="linux"):
    """Fake probes: a /proc file and a device node in tmp_path, commands answered from ``outputs``."""
    proc = tmp_path / "proc-driver-nvidia-version"
    dev = tmp_path / "dev-nvidia0"
    if driver:
        proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.00\n")
    if node:
        dev.write_text("")
    tools = tools or {}
    outputs = outputs or {}
    calls = []

    def run(cmd):
        calls.append(cmd)
        return outputs.get(cmd[0], (1, ""))

    p = T.Probes(proc_driver=proc, dev_node=dev, which=lambda n: tools.get(n), run=run, platform=platform)
    return p, calls


def test_no_nvidia_anywhere_is_cpu(tmp_path):
    p, calls = probes(tmp_path, tools={"lspci": "/usr/bin/lspci"}, outputs={"lspci": (0, "")})
    c = T.detect({}, p)
    assert c.variant == "cpu" and not c.forced
    assert calls == [["lspci", "-n", "-d", "10de:"]]


def test_nothing_to_ask_is_cpu(tmp_path):
    p, calls = probes(tmp_path)
    assert T.detect({"GANPAINT_TORCH": "auto"}, p).variant == "cpu"
    assert calls == []


def test_loaded_driver_is_cuda_without_running_anything(tmp_path):
    p, calls = probes(tmp_path, driver=True, tools={"nvidia-smi": "x", "lspci": "y"})
    c = T.detect({}, p)
    assert c.variant == "cuda" and "driver" in c.reason
    assert calls == []


def test_device_node_is_cuda(tmp_path):
    p, _ = probes(tmp_path, node=True)
    assert T.detect({}, p).variant == "cuda"


def test_nvidia_smi_listing_a_gpu_is_cuda(tmp_path):
    p, _ = probes(tmp_path, tools={"nvidia-smi": "/usr/bin/nvidia-smi"},
                  outputs={"nvidia-smi": (0, "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n")})
    c = T.detect({}, p)
    assert c.variant == "cuda" and "H100" in c.reason


def test_failing_nvidia_smi_alone_is_cpu(tmp_path):
    p, _ = probes(tmp_path, tools={"nvidia-smi": "/usr/bin/nvidia-smi"},
                  outputs={"nvidia-smi": (9, "NVIDIA-SMI has failed because it couldn't communicate")})
    assert T.detect({}, p).variant == "cpu"


def test_lspci_nvidia_display_controller_is_cuda(tmp_path):
    p, _ = probes(tmp_path, tools={"lspci": "/usr/bin/lspci"}, outputs={"lspci": (0, LSPCI_NVIDIA)})
    c = T.detect({}, p)
    assert c.variant == "cuda" and "10de:2684" in c.reason


def test_lspci_nvidia_audio_function_only_is_cpu(tmp_path):
    p, _ = probes(tmp_path, tools={"lspci": "/usr/bin/lspci"}, outputs={"lspci": (0, LSPCI_NVIDIA_AUDIO_ONLY)})
    assert T.detect({}, p).variant == "cpu"


def test_display_controller_parsing():
    assert T.nvidia_display_controllers(LSPCI_NVIDIA) == ["01:00.0 10de:2684"]
    assert T.nvidia_display_controllers(LSPCI_H100) == ["1b:00.0 10de:2330"]
    assert T.nvidia_display_controllers("00:02.0 0300: 8086:3e92\n") == []


@pytest.mark.parametrize("want", ["cpu", "cuda"])
def test_override_wins_over_detection(tmp_path, want):
    p, calls = probes(tmp_path, driver=(want == "cpu"))
    c = T.detect({"GANPAINT_TORCH": want.upper()}, p)
    assert (c.variant, c.forced) == (want, True)
    assert calls == []


def test_bad_override_is_refused(tmp_path):
    p, _ = probes(tmp_path)
    with pytest.raises(SystemExit, match="auto, cpu or cuda"):
        T.detect({"GANPAINT_TORCH": "rocm"}, p)


def test_off_linux_takes_pypi_wheel(tmp_path):
    p, _ = probes(tmp_path, platform="darwin")
    assert T.detect({}, p).variant == "pypi"


LOCK = """# a lock
numpy==2.4.6
torch==2.13.0+cpu
torchvision==0.28.0
"""


def test_requirements_come_from_the_lock_or_the_cuda_spec():
    cpu = T.requirements(T.Choice("cpu", ""), LOCK, "torch==2.14.1 torchvision==0.29.1")
    assert cpu == ["torch==2.13.0+cpu", "torchvision==0.28.0"]
    assert T.requirements(T.Choice("pypi", ""), LOCK, "x") == ["torch==2.13.0", "torchvision==0.28.0"]
    assert T.requirements(T.Choice("cuda", ""), LOCK, "torch==2.14.1 torchvision==0.29.1") == [
        "torch==2.14.1", "torchvision==0.29.1"]


def test_the_real_lock_pins_a_cpu_torch():
    reqs = T.requirements(T.Choice("cpu", ""), (ROOT / "packaging" / "constraints-bundle.txt").read_text(), "")
    assert any(r.startswith("torch==") and r.endswith("+cpu") for r in reqs)


def test_lock_without_torch_is_refused():
    with pytest.raises(SystemExit):
        T.lock_pins("numpy==2.4.6\n")


def test_satisfied():
    assert T.satisfied(["torch==2.13.0+cpu"], {"torch": "2.13.0+cpu"})
    assert not T.satisfied(["torch==2.13.0+cpu"], {"torch": "2.14.1"})
    assert not T.satisfied(["torch==2.13.0+cpu", "torchvision==0.28.0"], {"torch": "2.13.0+cpu"})


class _Sized(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):  # noqa: N802
        if self.path.endswith("nolength.whl"):
            self.send_response(200)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2500000")
        self.end_headers()

    def log_message(self, *a):
        pass


def test_download_summary_sizes_local_and_http(tmp_path):
    wheel = tmp_path / "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"\0" * 1_500_000)
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Sized)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    try:
        report = {"install": [
            {"metadata": {"name": "torch", "version": "2.13.0+cpu"}, "download_info": {"url": wheel.as_uri()}},
            {"metadata": {"name": "sympy", "version": "1.14.0"}, "download_info": {"url": f"{base}/sympy.whl"}},
            {"metadata": {"name": "odd", "version": "1"}, "download_info": {"url": f"{base}/nolength.whl"}},
        ]}
        items, line = T.download_summary(report)
    finally:
        srv.shutdown()
    assert items == [("torch 2.13.0+cpu", 1_500_000), ("sympy 1.14.0", 2_500_000), ("odd 1", None)]
    assert line.startswith("3 files, 4 MB to download (+ 1 of unknown size)")


def test_makefile_install_goes_through_the_helper():
    mk = (ROOT / "Makefile").read_text()
    rule = mk.split("$(VENV)/.installed-app:", 1)[1].split("\n\n", 1)[0]
    assert "tools/install_torch.py" in rule
    assert rule.index("install_torch.py") < rule.index("$(EDITABLES)")
    assert "-c $(VENV)/torch-constraints.txt" in rule
