"""Install the torch that fits this machine into the venv that runs this script (make install/run).

PyPI's Linux torch wheels are CUDA builds: without a choice, pip brings about 3 GB of NVIDIA
libraries even where no NVIDIA GPU exists. This script picks:

* **cpu**: no NVIDIA GPU found. torch (and torchvision) exactly as pinned in the bundle's lock
  (packaging/constraints-bundle.txt, ``torch==X+cpu``): the build the desktop bundle ships. pip
  takes it from where it already looks (a find-links folder, a local index) and, where it is not
  there, from PyTorch's CPU index (``GANPAINT_TORCH_CPU_INDEX``, default
  https://download.pytorch.org/whl/cpu).
* **cuda**: an NVIDIA GPU or its driver is present: the Makefile's ``TORCH_SPEC`` (``--cuda``),
  the torch the test suite runs, CUDA libraries included.

A venv that already has a torch keeps it (the detection never swaps one build for another, e.g.
the test suite's torch after ``make install-test``); ``GANPAINT_TORCH=cpu|cuda`` replaces it.

``GANPAINT_TORCH=cpu|cuda`` overrides the detection (``auto``, the default, detects). The
detection is cheap and never imports torch: ``/proc/driver/nvidia/version`` or ``/dev/nvidia0``
(a loaded driver), ``nvidia-smi -L`` listing a GPU, or ``lspci -n -d 10de:`` listing an NVIDIA
display controller (PCI class 03xx; a GPU without its driver still counts: the driver can come
later). Off Linux the plain PyPI wheel of the lock's version is used (macOS and Windows wheels
carry no CUDA libraries).

Before anything is downloaded, pip resolves the install (``--dry-run --report``) and the script
prints how many files and megabytes it will fetch (local files and HTTP Content-Length; pip's cache
may make it less). ``--constraints-out FILE`` writes the installed torch/torchvision pins so that the
install of GANPaint that follows cannot swap them for another build.

    python tools/install_torch.py --lock packaging/constraints-bundle.txt \
        --cuda "torch==2.14.1 torchvision==0.29.1" --constraints-out .venv/torch-constraints.txt
    python tools/install_torch.py ... --plan     # say what would be installed and how big; no install
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: what is pinned for each variant
PACKAGES = ("torch", "torchvision")


@dataclass(frozen=True)
class Probes:
    """Where the detection looks; tests point these at fakes."""

    proc_driver: Path = Path("/proc/driver/nvidia/version")
    dev_node: Path = Path("/dev/nvidia0")
    which: Callable[[str], str | None] = shutil.which
    run: Callable[[list[str]], tuple[int, str]] = field(default=None)  # type: ignore[assignment]
    platform: str = sys.platform

    def call(self, cmd: list[str]) -> tuple[int, str]:
        if self.run is not None:
            return self.run(cmd)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 1, str(exc)
        return p.returncode, p.stdout


@dataclass(frozen=True)
class Choice:
    variant: str  # "cpu" | "cuda" | "pypi" (off Linux: PyPI's wheel, which has no CUDA libraries)
    reason: str
    forced: bool = False  # chosen with GANPAINT_TORCH, not detected


def nvidia_display_controllers(lspci_n: str) -> list[str]:
    """The NVIDIA (vendor 10de) devices of class 03xx (VGA, 3D, display) in ``lspci -n`` output."""
    found = []
    for line in lspci_n.splitlines():
        m = re.match(r"\s*(\S+)\s+(?:Class\s+)?([0-9a-fA-F]{4}):\s+10de:([0-9a-fA-F]{4})", line)
        if m and m.group(2).startswith("03"):
            found.append(f"{m.group(1)} 10de:{m.group(3)}")
    return found


def detect(env: Mapping[str, str], probes: Probes | None = None) -> Choice:
    """cpu or cuda for this machine (see the module docstring); ``GANPAINT_TORCH`` overrides."""
    probes = probes or Probes()
    want = env.get("GANPAINT_TORCH", "auto").strip().lower() or "auto"
    if want in ("cpu", "cuda"):
        return Choice(want, f"GANPAINT_TORCH={want}", forced=True)
    if want != "auto":
        raise SystemExit(f"install_torch: GANPAINT_TORCH must be auto, cpu or cuda, not {want!r}")
    if not probes.platform.startswith("linux"):
        return Choice("pypi", f"{probes.platform}: PyPI's torch wheel has no CUDA libraries here")
    if probes.proc_driver.exists():
        return Choice("cuda", f"NVIDIA driver loaded ({probes.proc_driver})")
    if probes.dev_node.exists():
        return Choice("cuda", f"NVIDIA device node {probes.dev_node}")
    if probes.which("nvidia-smi"):
        rc, out = probes.call(["nvidia-smi", "-L"])
        if rc == 0 and "GPU" in out:
            return Choice("cuda", "nvidia-smi lists " + out.strip().splitlines()[0])
    if probes.which("lspci"):
        rc, out = probes.call(["lspci", "-n", "-d", "10de:"])
        gpus = nvidia_display_controllers(out) if rc == 0 else []
        if gpus:
            return Choice("cuda", f"lspci lists an NVIDIA display controller ({gpus[0]}; no driver loaded yet)")
    return Choice("cpu", "no NVIDIA GPU found: no driver in /proc/driver/nvidia, no GPU from nvidia-smi, "
                         "no NVIDIA display controller in lspci")


def lock_pins(lock_text: str, names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """{name: version} of the given distributions in a ``name==version`` lock."""
    pins = {}
    for raw in lock_text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)", line)
        if m and m.group(1).lower() in names:
            pins[m.group(1).lower()] = m.group(2)
    if "torch" not in pins:
        raise SystemExit("install_torch: the lock pins no torch")
    return pins


def requirements(choice: Choice, lock_text: str, cuda_spec: str) -> list[str]:
    """The pip requirements of the chosen variant."""
    if choice.variant == "cuda":
        return cuda_spec.split()
    pins = lock_pins(lock_text)
    if choice.variant == "pypi":  # the same release without the local label (+cpu)
        return [f"{n}=={v.split('+', 1)[0]}" for n, v in pins.items()]
    return [f"{n}=={v}" for n, v in pins.items()]


def url_size(url: str, timeout: float = 15.0) -> int | None:
    """Bytes behind a file:// or http(s):// URL (HEAD's Content-Length), None when unknown."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        try:
            return os.path.getsize(urllib.request.url2pathname(parts.path))
        except OSError:
            return None
    if parts.scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout) as r:
                n = r.headers.get("Content-Length")
                return int(n) if n is not None else None
        except (OSError, ValueError):
            return None
    return None


def download_summary(report: Mapping, size_of: Callable[[str], int | None] = url_size) -> tuple[list[tuple[str, int | None]], str]:
    """[(name version, bytes or None)] of what a pip report installs, and one line saying the total."""
    items = []
    for entry in report.get("install", []):
        meta = entry.get("metadata", {})
        url = entry.get("download_info", {}).get("url", "")
        items.append((f"{meta.get('name', '?')} {meta.get('version', '?')}", size_of(url) if url else None))
    known = sum(n for _, n in items if n is not None)
    unknown = sum(1 for _, n in items if n is None)
    line = f"{len(items)} files, {known / 1e6:,.0f} MB to download"
    if unknown:
        line += f" (+ {unknown} of unknown size)"
    if items:
        line += " (less where pip's cache already holds some)"
    return items, line


def installed_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return out


def satisfied(reqs: list[str], installed: Mapping[str, str]) -> bool:
    """Whether every ``name==version`` requirement is installed at exactly that version."""
    for r in reqs:
        name, _, version = r.partition("==")
        if installed.get(name.lower()) != version:
            return False
    return True


def pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]


def resolve(reqs: list[str], extra: list[str]) -> dict | None:
    """pip's dry-run report for installing ``reqs`` with ``extra`` arguments, None if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        p = subprocess.run(pip("install", "--dry-run", "--quiet", "--report", str(report), *extra, *reqs),
                           capture_output=True, text=True, check=False)
        if p.returncode != 0 or not report.exists():
            return None
        return json.loads(report.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lock", type=Path, required=True, help="the bundle's lock (torch==X+cpu)")
    ap.add_argument("--cuda", required=True, help="requirements for machines with an NVIDIA GPU")
    ap.add_argument("--constraints-out", type=Path, help="write the installed torch pins here")
    ap.add_argument("--plan", action="store_true", help="say what would be installed; install nothing")
    args = ap.parse_args(argv)

    choice = detect(os.environ)
    reqs = requirements(choice, args.lock.read_text(), args.cuda)
    label = {"cpu": "CPU build", "cuda": "CUDA build", "pypi": "PyPI build"}[choice.variant]
    print(f"torch: {label}, {' '.join(reqs)} [{choice.reason}; GANPAINT_TORCH=cpu|cuda overrides]")
    have = installed_versions()
    if satisfied(reqs, have):
        print("torch: already installed, nothing to download")
    elif "torch" in have and not choice.forced:
        # a venv that has a torch (e.g. the test suite's, from make install-test) keeps it: auto
        # never swaps one build for another; GANPAINT_TORCH=cpu|cuda does
        print(f"torch: the venv already has torch {have['torch']}, kept (GANPAINT_TORCH=cpu|cuda replaces it)")
    else:
        extras: list[list[str]] = [[]]
        if choice.variant == "cpu":
            extras.append(["--extra-index-url", os.environ.get("GANPAINT_TORCH_CPU_INDEX", CPU_INDEX)])
        report, extra = None, []
        for extra in extras:
            report = resolve(reqs, extra)
            if report is not None:
                break
        if report is None:
            print(f"install_torch: pip cannot find {' '.join(reqs)} (tried: {extras})", file=sys.stderr)
            return 1
        items, line = download_summary(report)
        print(f"torch: {line}:")
        for name, size in sorted(items, key=lambda x: -(x[1] or 0))[:5]:
            print(f"  {name:40s} {'?' if size is None else f'{size / 1e6:,.0f} MB':>10s}")
        if args.plan:
            return 0
        rc = subprocess.call(pip("install", *extra, *reqs))
        if rc != 0:
            return rc
    if args.constraints_out and not args.plan:
        importlib.invalidate_caches()
        pins = installed_versions()
        args.constraints_out.write_text(
            "# written by tools/install_torch.py: the torch build that fits this machine\n"
            + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
