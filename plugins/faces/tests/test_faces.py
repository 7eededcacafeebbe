"""The Face attribute sliders: directions by name, refused mismatches, sliders during inversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ganpaint_faces import SLIDERS, ganpaint_register_tools
from ganpaint_faces.tool import run

from ganpaint.core.specs import JobCancelled, Role, ToolError, ToolRequest
from ganpaint.engine.models.directions import DirectionSet, directions_path, save_directions
from ganpaint.engine.models.store import ModelStore
from ganpaint.latent import stylegan_tools
from ganpaint.testing import RecordingContext

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-gan"  # stored by conftest.tiny_store


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    return tmp_path


def _request(params: dict, image: np.ndarray | None = None) -> ToolRequest:
    images = {} if image is None else {Role.IMAGE: image}
    return ToolRequest(SPEC.id, images, SPEC.resolve_params({"model": TINY, **params}), canvas=(16, 16))


def _save(tiny_store: ModelStore, sha: str | None = None) -> DirectionSet:
    entry = tiny_store.get(TINY)
    ds = DirectionSet(TINY, sha or entry.card.sha256, 16)
    v = np.zeros(16, np.float32)
    v[2] = 1.0
    ds.add("smile", v, kind="boundary", scale=2.0)
    save_directions(ds, directions_path(TINY).parent.parent)
    return ds


def test_sliders_are_live_and_named_after_the_default_attributes() -> None:
    live = [p.name for p in SPEC.params if p.live]
    assert live[:-1] == list(SLIDERS) == ["smile", "eyes", "glasses", "hair_length", "age", "beard", "turn",
                                          "hair_light", "hair_red", "skin_tone", "background"]
    assert live[-1] == "amount"  # the "other direction" slider
    assert SPEC.param("psi").default == 0.7 and not SPEC.inputs[0].required


def test_missing_direction_gets_a_clear_message(ctx: RecordingContext, data_dir: Path) -> None:
    plain = run(_request({"seed": 7}), ctx)  # no directions needed while every slider is 0
    assert plain.image.shape == (16, 16, 3) and plain.metadata["sliders"] == {}
    with pytest.raises(ToolError, match=r"no direction for smile .*ganpaint directions compute --model tiny-gan"):
        run(_request({"seed": 7, "smile": 1.5}), ctx)


def test_slider_moves_the_latent_along_its_direction(ctx: RecordingContext, data_dir: Path,
                                                     tiny_store: ModelStore) -> None:
    _save(tiny_store)
    base = np.load(__import__("io").BytesIO(run(_request({"seed": 7}), ctx).attachments["latent.npy"]))
    res = run(_request({"seed": 7, "smile": 1.5}), ctx)
    moved = np.load(__import__("io").BytesIO(res.attachments["latent.npy"]))
    delta = moved - base
    assert np.allclose(delta[..., 2], 3.0, atol=1e-5) and np.abs(np.delete(delta, 2, -1)).max() < 1e-5
    assert res.metadata["sliders"] == {"smile": 1.5}
    with pytest.raises(ToolError, match="no direction for age"):
        run(_request({"seed": 7, "age": 1.0}), ctx)


def test_directions_of_another_generator_are_refused(ctx: RecordingContext, data_dir: Path,
                                                    tiny_store: ModelStore) -> None:
    _save(tiny_store, sha="0" * 64)
    with pytest.raises(ToolError, match="computed for another generator"):
        run(_request({"seed": 1, "smile": 1.0}), ctx)
    assert run(_request({"seed": 1}), ctx).image.shape == (16, 16, 3)  # sliders at 0 still work


def test_slider_dragged_during_an_inversion_resumes_it(data_dir: Path, tiny_store: ModelStore) -> None:
    """The latest-wins queue cancels the running job when a slider moves: the next run resumes
    the same picture's inversion instead of starting over, and the slider applies to it."""
    _save(tiny_store)
    stylegan_tools.CACHE.clear()
    path = str(tiny_store.get(TINY).path)
    models = {(TINY, "faces"): path}
    rng = np.random.default_rng(3)
    pic = rng.uniform(0, 1, (16, 16, 3)).astype(np.float32)
    first = RecordingContext(models=models, cancel_after=4)  # cancelled while reporting step 4 (done)
    with pytest.raises(JobCancelled):
        run(_request({"steps": 8, "smile": 0.5}, image=pic), first)
    second = RecordingContext(models=models)
    res = run(_request({"steps": 8, "smile": 1.0}, image=pic), second)
    steps_run = [m for _, m in second.calls if m.startswith("inverting")]
    assert steps_run[0] == "inverting: step 5/8" and len(steps_run) == 4
    assert res.metadata["source"] == "inverted" and res.metadata["source_steps"] == 8
    assert res.image.shape == (16, 16, 3)
    third = RecordingContext(models=models)  # a finished inversion is reused at once
    run(_request({"steps": 8, "smile": -1.0}, image=pic), third)
    assert not [m for _, m in third.calls if m.startswith("inverting")]


def test_command_line_directions_and_run(data_dir: Path, tiny_store: ModelStore, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`ganpaint directions import/compute`, then `ganpaint run faces ... --set smile=1.5` with
    the model of the user's store (named: the default is the plugin's own model)."""
    import shutil

    from PIL import Image

    from ganpaint.cli.main import main

    models = data_dir / "models"
    models.mkdir()
    shutil.copy(tiny_store.get(TINY).path, models / f"{TINY}.safetensors")
    np.save(tmp_path / "wrong.npy", np.ones((1, 512), np.float32))
    assert main(["directions", "import", str(tmp_path / "wrong.npy"), "--for", TINY, "--as", "smile"]) == 1
    assert "boundary of shape (1, 512)" in capsys.readouterr().err
    assert main(["directions", "compute", "--model", TINY, "--samples", "200", "--components", "3",
                 "--labels", "none"]) == 0
    np.save(tmp_path / "smile.npy", np.linspace(-1, 1, 16, dtype=np.float32)[None])
    assert main(["directions", "import", str(tmp_path / "smile.npy"), "--for", TINY, "--as", "smile"]) == 0
    out = tmp_path / "face.png"
    assert main(["run", "faces", "-o", str(out), "--size", "32x32", "-q", "--set", "seed=7",
                 "--set", "smile=1.5", "--set", f"model={TINY}"]) == 0
    assert Image.open(out).size == (32, 32)
    assert main(["directions", "list", "--model", TINY]) == 0
    listing = capsys.readouterr().out
    assert "smile" in listing and "imported" in listing and "pc2" in listing and "sefa2" in listing


def _draft_request(params: dict, image: np.ndarray | None = None, canvas: tuple[int, int] = (16, 16)) -> ToolRequest:
    images = {} if image is None else {Role.IMAGE: image}
    return ToolRequest(SPEC.id, images, SPEC.resolve_params({"model": TINY, **params}), canvas=canvas, preview=True)


def test_a_draft_is_synthesised_smaller_and_placed_on_the_canvas(ctx: RecordingContext, data_dir: Path,
                                                                 tiny_store: ModelStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``request.preview``: the generator stops at PREVIEW_SIZE (8 px here, the tiny one makes 16);
    the draft still covers the canvas; a final run is the full picture, as before."""
    _save(tiny_store)
    final = run(_request({"seed": 7, "smile": 1.0}), ctx)
    assert "draft_size" not in final.metadata and "draft_note" not in final.metadata
    same = run(_draft_request({"seed": 7, "smile": 1.0}), ctx)  # PREVIEW_SIZE >= 16: the full picture
    assert np.allclose(same.image, final.image, atol=1e-5) and same.metadata["draft_size"] == 16
    monkeypatch.setattr(stylegan_tools, "PREVIEW_SIZE", 8)
    draft = run(_draft_request({"seed": 7, "smile": 1.0}, canvas=(40, 24)), ctx)
    assert draft.image.shape == (24, 40, 3) and draft.alpha is not None and draft.alpha.shape == (24, 40)
    assert draft.metadata["draft_size"] == 8 and draft.metadata["sliders"] == {"smile": 1.0}
    small = run(_draft_request({"seed": 7, "smile": 1.0}), ctx)
    assert small.image.shape == (16, 16, 3)
    assert not np.allclose(small.image, final.image, atol=1e-3)  # an 8 px picture, enlarged


def test_a_draft_never_starts_an_inversion(data_dir: Path, tiny_store: ModelStore) -> None:
    """Dragging a slider over a picture not inverted yet: the draft shows the picture with a
    note (no optimisation); over a half-done inversion it uses it as far as it got; the
    final run then resumes that inversion."""
    _save(tiny_store)
    stylegan_tools.CACHE.clear()
    models = {(TINY, "faces"): str(tiny_store.get(TINY).path)}
    pic = np.random.default_rng(5).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    ctx = RecordingContext(models=models)
    draft = run(_draft_request({"steps": 20, "smile": 1.0}, image=pic), ctx)
    assert not [m for _, m in ctx.calls if m.startswith("inverting")]
    assert np.array_equal(draft.image, pic) and draft.metadata["source"] == "pending"
    assert "not inverted yet" in draft.metadata["draft_note"]
    # a run cancelled after 6 of 20 steps (a replaced job) leaves a resumable state
    with pytest.raises(JobCancelled):
        run(_request({"steps": 20}, image=pic), RecordingContext(models=models, cancel_after=6))
    ctx = RecordingContext(models=models)
    draft = run(_draft_request({"steps": 20, "smile": 1.0}, image=pic), ctx)
    assert not [m for _, m in ctx.calls if m.startswith("inverting")]
    assert draft.metadata["source"] == "inverted" and draft.metadata["source_steps"] == 6
    assert "6/20" in draft.metadata["draft_note"] and not np.array_equal(draft.image, pic)
    ctx = RecordingContext(models=models)
    final = run(_request({"steps": 20, "smile": 1.0}, image=pic), ctx)
    steps_run = [m for _, m in ctx.calls if m.startswith("inverting")]
    assert steps_run[0] == "inverting: step 7/20" and len(steps_run) == 14
    assert final.metadata["source_steps"] == 20 and "draft_note" not in final.metadata


def test_a_replaced_inversion_job_keeps_its_steps(data_dir: Path, tiny_store: ModelStore) -> None:
    """Through the job queue: an inversion running under a live key is replaced (latest wins)
    part-way; the next job on the same picture continues from the steps already done."""
    import threading

    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.jobs.runner import make_tool_job

    _save(tiny_store)
    stylegan_tools.CACHE.clear()
    models = {(TINY, "faces"): str(tiny_store.get(TINY).path)}
    pic = np.random.default_rng(6).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    seen: list[tuple[str, int]] = []  # (which job, inversion step reported)
    third_step = threading.Event()

    def tool(req: ToolRequest, job_ctx):  # type: ignore[no-untyped-def]
        name = "first" if req.params["smile"] == 0 else "second"

        class Ctx(RecordingContext):
            def progress(self, fraction: float, message: str = "", preview=None) -> None:  # type: ignore[no-untyped-def]
                if message.startswith("inverting: step "):
                    seen.append((name, int(message.split()[2].split("/")[0])))
                    if seen[-1] == ("first", 3):
                        third_step.set()
                job_ctx.progress(fraction, message)  # raises JobCancelled once replaced

            def cancelled(self) -> bool:
                return bool(job_ctx.cancelled())

        return run(req, Ctx(models=models))

    q = JobQueue()
    try:
        first = q.submit(make_tool_job(SPEC, _request({"steps": 30}, image=pic), fn=tool, key="live:x"),
                         mode="replace")
        assert third_step.wait(60), (first.state, first.error)
        second = q.submit(make_tool_job(SPEC, _request({"steps": 30, "smile": 1.0}, image=pic), fn=tool,
                                        key="live:x"), mode="replace")
        assert first.wait(60) and second.wait(120)
    finally:
        q.shutdown()
    assert first.state is JobState.CANCELLED and second.state is JobState.DONE
    firsts = [n for who, n in seen if who == "first"]
    seconds = [n for who, n in seen if who == "second"]
    assert 3 <= firsts[-1] < 30, "cancelled part-way"
    assert seconds == list(range(firsts[-1] + 1, 31)), "resumed from the steps already done"
    assert second.result.metadata["source_steps"] == 30


def test_other_direction_by_name(ctx: RecordingContext, data_dir: Path, tiny_store: ModelStore) -> None:
    entry = tiny_store.get(TINY)
    ds = DirectionSet(TINY, entry.card.sha256, 16)
    ds.add("pc0", np.eye(16, dtype=np.float32)[1], kind="ganspace", scale=2.0)
    save_directions(ds, directions_path(TINY).parent.parent)
    plain = run(_request({"seed": 7}), ctx)
    moved = run(_request({"seed": 7, "direction": "pc0", "amount": 1.0}), ctx)
    assert moved.metadata["sliders"] == {"pc0": 1.0}
    lat = [np.load(__import__("io").BytesIO(r.attachments["latent.npy"])) for r in (plain, moved)]
    np.testing.assert_allclose(lat[1] - lat[0], np.broadcast_to(2.0 * np.eye(16, dtype=np.float32)[1], lat[0].shape),
                               atol=1e-5)
    with pytest.raises(ToolError, match="no direction for sefa3"):
        run(_request({"seed": 7, "direction": "sefa3", "amount": 1.0}), ctx)
