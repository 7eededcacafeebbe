"""Seed thumbnails: the job that calls a ParamSpec's thumbnails function, and the StyleGAN2 one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganpaint.core.specs import JobCancelled, ParamSpec, ToolError, ToolSpec
from ganpaint.engine.jobs import JobQueue, JobState
from ganpaint.engine.jobs.thumbnails import (
    ThumbnailError,
    make_thumbnail_job,
    render_thumbnails,
    thumbnail_params,
)
from ganpaint.testing import RecordingContext

SELF = __name__
STYLEGAN = "ganpaint.latent.stylegan_thumbnails:thumbnails"
CALLS: list[tuple[dict, tuple[int, ...], int, str]] = []


def flat(params, seeds, size, ctx):  # a plain colour per seed: seed / 100 in red
    CALLS.append((dict(params), tuple(seeds), size, ctx.tool_id))
    ctx.progress(0.5, "half")
    return [np.full((size, size, 3), (s / 100, 0.5, 1.0), np.float32) for s in seeds]


def too_few(params, seeds, size, ctx):
    return [np.zeros((size, size, 3), np.float32)]


def grey(params, seeds, size, ctx):
    return [np.zeros((size, size), np.float32) for _ in seeds]


def test_chunks_are_delivered_as_uint8_with_progress() -> None:
    CALLS.clear()
    ctx = RecordingContext()
    got: list[tuple[tuple[int, ...], list[np.ndarray]]] = []
    out = render_thumbnails(f"{SELF}:flat", {"psi": 0.5}, [3, 4, 5, 6, 7], 6, ctx, tool_id="gen",
                            deliver=lambda s, p: got.append((s, p)), chunk=2)
    assert [s for s, _ in got] == [(3, 4), (5, 6), (7,)]
    assert len(out) == 5 and all(a.dtype == np.uint8 and a.shape == (6, 6, 3) for a in out)
    assert out[2][0, 0].tolist() == [round(0.05 * 255), 128, 255]
    assert [c[1:] for c in CALLS] == [((3, 4), 6, "gen"), ((5, 6), 6, "gen"), ((7,), 6, "gen")]
    fractions = [f for f, _ in ctx.calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert (0.2, "half") in ctx.calls  # the function's own progress, mapped into its chunk


def test_cancel_takes_effect_between_chunks() -> None:
    got: list[tuple[int, ...]] = []
    with pytest.raises(JobCancelled):
        render_thumbnails(f"{SELF}:flat", {}, range(12), 4, RecordingContext(cancel_after=3),
                          deliver=lambda s, p: got.append(s), chunk=4)
    assert got == [(0, 1, 2, 3)]


@pytest.mark.parametrize(("ref", "message"), [
    (f"{SELF}:too_few", "returned 1 for 4 seeds"),
    (f"{SELF}:grey", "expected \\(h, w, 3\\)"),
    (f"{SELF}:missing", "cannot load the thumbnails function"),
    ("no_such_module_here:fn", "No module named"),
])
def test_broken_functions_raise_a_clear_error(ref: str, message: str) -> None:
    with pytest.raises(ThumbnailError, match=message) as info:
        render_thumbnails(ref, {}, range(4), 8, RecordingContext())
    assert isinstance(info.value, ToolError)  # shown to the user as is


def test_thumbnail_params_default_to_everything_but_the_picked_seeds() -> None:
    spec = ToolSpec(id="gen", title="Gen", run="m:f", params=(
        ParamSpec("seed", "seed", thumbnails=f"{SELF}:flat"),
        ParamSpec("seed_b", "seed", thumbnails=f"{SELF}:flat", thumbnail_params=("psi",)),
        ParamSpec("noise_seed", "seed"),
        ParamSpec("psi", "float", default=1.0),
    ))
    values = spec.default_params()
    assert thumbnail_params(spec, "seed", values) == {"noise_seed": 0, "psi": 1.0}
    assert thumbnail_params(spec, spec.param("seed_b"), values) == {"psi": 1.0}


def test_the_job_runs_on_the_queue() -> None:
    got: list[tuple[int, ...]] = []
    queue = JobQueue()
    try:
        job = queue.submit(make_thumbnail_job(f"{SELF}:flat", {"psi": 1.0}, [1, 2], 4, tool_id="gen",
                                              deliver=lambda s, p: got.append(s)))
        assert job.wait(10) and job.state is JobState.DONE, job.error
        assert got == [(1, 2)] and job.result is None and job.lane == "interactive"
        bad = queue.submit(make_thumbnail_job(f"{SELF}:too_few", {}, [1, 2], 4))
        assert bad.wait(10) and bad.state is JobState.FAILED and "returned 1 for 2 seeds" in bad.error
    finally:
        queue.shutdown(wait=True, timeout=10)


# ------------------------------------------------------------------ StyleGAN2


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from ganpaint.testing.tiny_stylegan import TINY_STYLEGAN, make_tiny_stylegan_store

    store = make_tiny_stylegan_store(Path(tmp_path_factory.mktemp("models")))
    return TINY_STYLEGAN, str(store.get(TINY_STYLEGAN).path)


def test_stylegan_thumbnails_are_the_pictures_the_tools_generate(tiny: tuple[str, str]) -> None:
    import torch

    from ganpaint.engine.jobs.thumbnails import ThumbnailContext
    from ganpaint.latent.stylegan_thumbnails import thumbnails
    from ganpaint.latent.stylegan_tools import load_generator
    from ganpaint.nn import stylegan_sampling as S

    name, path = tiny
    ctx = ThumbnailContext(RecordingContext(models={(name, "gen"): path}), "gen")
    pics = thumbnails({"model": name, "psi": 0.7}, [5, 9], 16, ctx)
    assert len(pics) == 2 and pics[0].shape == (16, 16, 3) and pics[0].dtype == np.float32
    assert 0.0 <= pics[0].min() and pics[0].max() <= 1.0 and not np.allclose(pics[0], pics[1])
    G = load_generator(ctx, name, "gen").G
    with torch.inference_mode():  # one seed alone, as the tools do it
        w = S.truncate(S.z_to_w(G, S.sample_z(G, 1, 9)), S.w_avg(G), 0.7)
        alone = S.to_pictures(S.synthesize(G, S.broadcast(G, w), noise="const"))[0]
    assert np.abs(pics[1] - alone).max() < 1e-4
    small = thumbnails({"model": name, "psi": 0.7}, [5], 8, ctx)[0]
    assert small.shape == (8, 8, 3)
    assert np.abs(small.mean(axis=(0, 1)) - pics[0].mean(axis=(0, 1))).max() < 0.05
    other = thumbnails({"model": name, "psi": 0.2}, [5], 16, ctx)[0]
    assert not np.allclose(other, pics[0])


def test_stylegan_thumbnails_say_when_there_is_no_model(tiny: tuple[str, str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.engine.jobs.thumbnails import ThumbnailContext
    from ganpaint.latent.stylegan_thumbnails import thumbnails

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))  # an empty user store
    with pytest.raises(ToolError, match="no StyleGAN2 model is available for gen"):
        thumbnails({"model": "", "psi": 1.0}, [0], 16, ThumbnailContext(RecordingContext(), "gen"))
    with pytest.raises(ToolError):
        thumbnails({"model": "nope", "psi": 1.0}, [0], 16, ThumbnailContext(RecordingContext(), "gen"))
