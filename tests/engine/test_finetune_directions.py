"""A StyleGAN2 fine-tune recomputes the faces sliders' directions for the new generator (the
code path of `ganpaint directions compute`), reports it, honours cancel, and a failure there
keeps the trained model; `ganpaint train stylegan2 --as` does the same unless --no-directions.
Tiny 16 px generators, two training steps, 64 labelled samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.engine.jobs import finetune as ft

TINY_BASE = "tiny-gan"  # ganpaint.testing.tiny_stylegan.TINY_STYLEGAN
SCRATCH = {"style_dim": 16, "n_mlp": 1, "widths": "16,16,16"}
FAST_DIRECTIONS = {"samples": 64, "components": 3}


def _pictures(folder: Path, n: int = 5, size=(36, 44), seed=0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    return tmp_path / "data"


@pytest.fixture
def store(data_dir):
    """The user's store (models_dir(), where the faces tool looks for directions) holding the
    tiny 16 px generator as tiny-gan@1."""
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store

    root = data_dir / "models"
    root.mkdir(parents=True)
    make_tiny_stylegan_store(root, TINY_BASE)
    return ModelStore()


def _run_job(store, req):
    """Run a fine-tune job on a real queue; returns (job, control, progress messages)."""
    from ganpaint.engine.jobs import JobQueue

    queue = JobQueue()
    messages: list[str] = []
    try:
        job, control = ft.make_finetune_job(req, store=store, queue=queue)
        queue.events.job_progress.connect(lambda m: messages.append(m.message) if m.job_id == job.id else None)
        queue.submit(job)
        assert job.wait(120)
    finally:
        queue.shutdown()
    return job, control, messages


def _faces_run(model: str, path: str, **sliders):
    faces = pytest.importorskip("ganpaint_faces")
    from ganpaint_faces.tool import run

    from ganpaint.core.specs import ToolRequest
    from ganpaint.testing import RecordingContext

    spec = faces.ganpaint_register_tools()[0]
    req = ToolRequest(spec.id, {}, spec.resolve_params({"model": model, "seed": 7, **sliders}), canvas=(16, 16))
    return run(req, RecordingContext(models={(model, "faces"): path}))


@pytest.mark.slow
def test_stylegan2_finetune_recomputes_the_slider_directions(store, tmp_path):
    from ganpaint.core.specs import ToolError
    from ganpaint.engine.jobs import JobState
    from ganpaint.engine.models.directions import DirectionSet, load_directions, save_directions

    base = store.get(TINY_BASE)
    # directions of the base generator, as `ganpaint directions compute` left them: they must not
    # survive for the fine-tuned generator (another sha256)
    stale = DirectionSet(TINY_BASE, base.card.sha256, 16)
    stale.add("smile", np.eye(16, dtype=np.float32)[2], kind="boundary", scale=2.0)
    save_directions(stale)

    req = ft.FinetuneRequest("stylegan2", (str(_pictures(tmp_path / "photos")),), base_model=TINY_BASE, steps=2,
                             size=16, batch=2, sample_every=1, directions=FAST_DIRECTIONS)
    job, control, messages = _run_job(store, req)
    assert job.state is JobState.DONE, job.error
    out = job.result
    assert out.kind == "done" and out.model_ref == f"{TINY_BASE}@2" and out.directions_error == ""
    assert control.stored == out and control.phase == "done"

    # progress went through the job: the loop's steps, then the directions stage
    first_dir = next(i for i, m in enumerate(messages) if m.startswith(ft.DIRECTIONS_MESSAGE))
    assert any(m.startswith("step 2/2") for m in messages[:first_dir])
    assert any("labelling samples" in m for m in messages[first_dir:]), messages[first_dir:]

    # the directions are stored for the new version and carry its generator's hash
    new = store.get(TINY_BASE)
    assert new.version == 2 and new.card.sha256 != base.card.sha256
    ds = load_directions(TINY_BASE, sha256=new.card.sha256, style_dim=16)
    assert ds is not None and ds.generator_sha256 == new.card.sha256
    assert set(ds.vectors) == set(out.directions)
    assert {"smile", "pc0", "pc2", "sefa0", "sefa2"} <= set(ds.vectors) and "pc3" not in ds.vectors
    assert ds.info["smile"]["kind"] == "boundary" and ds.info["smile"]["samples"] == 64
    assert not np.allclose(ds.vectors["smile"], stale.vectors["smile"])
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in ds.vectors.values())
    # ... and the outcome and the run's record say so
    assert "Slider directions recomputed" in out.directions_note and "smile" in out.directions_note
    info = json.loads((Path(out.run_dir) / ft.FINETUNE_INFO).read_text())
    assert info["stored"] is True and info["directions"]["generator_sha256"] == new.card.sha256
    assert sorted(info["directions"]["computed"]) == sorted(out.directions)
    assert info["request"]["directions"] == FAST_DIRECTIONS

    # the faces tool accepts them for the fine-tuned model: a moved slider moves the picture
    plain = _faces_run(TINY_BASE, str(new.path))
    smiled = _faces_run(TINY_BASE, str(new.path), smile=2.0)
    assert smiled.metadata["generator_sha256"] == new.card.sha256 and smiled.metadata["sliders"] == {"smile": 2.0}
    assert not np.allclose(plain.image, smiled.image)
    # while the base version (another generator) is refused them
    base_path = str(store.get(TINY_BASE, 1).path)
    with pytest.raises(ToolError, match="computed for another generator"):
        _faces_run(TINY_BASE, base_path, smile=1.0)


@pytest.mark.slow
def test_failing_direction_computation_keeps_the_trained_model(data_dir, tmp_path):
    from ganpaint.engine.jobs import JobState
    from ganpaint.engine.models.loading import load_model
    from ganpaint.engine.models.store import ModelStore

    store = ModelStore()
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / "directions").write_text("a file where the directions folder should be")
    req = ft.FinetuneRequest("stylegan2", (str(_pictures(tmp_path / "photos")),), steps=2, size=16, batch=2,
                             options=SCRATCH, directions=FAST_DIRECTIONS)
    job, control, messages = _run_job(store, req)
    assert job.state is JobState.DONE, job.error  # the job itself did not fail: the model is the result
    out = job.result
    assert out.model_ref == "stylegan2-mine@1" and out.directions == ()
    assert out.directions_error and "directions" in out.directions_error
    note = out.directions_note
    assert "not recomputed" in note and "the model is stored" in note
    assert "ganpaint directions compute --model stylegan2-mine" in note
    assert any(m.startswith(ft.DIRECTIONS_MESSAGE) for m in messages)
    # the trained model is in the store and loads
    entry = ModelStore().get("stylegan2-mine")
    assert entry.ref == out.model_ref and load_model(entry.path, component="g_ema").style_dim == 16
    info = json.loads((Path(out.run_dir) / ft.FINETUNE_INFO).read_text())
    assert info["stored"] is True and info["directions"] == {"error": out.directions_error}
    assert ft.list_runs() == []  # a stored run is not offered for resuming


@pytest.mark.slow
def test_cancel_while_recomputing_keeps_the_model_and_saves_no_directions(store, tmp_path):
    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.models.directions import directions_path

    queue = JobQueue()
    req = ft.FinetuneRequest("stylegan2", (str(_pictures(tmp_path / "photos")),), base_model=TINY_BASE, steps=2,
                             size=16, batch=2, directions=FAST_DIRECTIONS)
    try:
        job, control = ft.make_finetune_job(req, store=store, queue=queue)

        def on_progress(msg):
            if msg.job_id == job.id and msg.message.startswith(ft.DIRECTIONS_MESSAGE):
                queue.cancel(job.id)

        queue.events.job_progress.connect(on_progress)
        queue.submit(job)
        assert job.wait(120)
    finally:
        queue.shutdown()
    assert job.state is JobState.CANCELLED
    stored = control.stored  # the dialog learns from here that the model is stored all the same
    assert stored is not None and stored.model_ref == f"{TINY_BASE}@2" and stored.directions == ()
    assert store.get(TINY_BASE).version == 2
    assert not directions_path(TINY_BASE).exists()  # stopped before saving anything
    info = json.loads((Path(stored.run_dir) / ft.FINETUNE_INFO).read_text())
    assert info["stored"] is True and info["directions"] == {"error": "cancelled"}


def test_request_directions_none_skips_and_cli_defaults_match_the_engine():
    from ganpaint.cli import directions as cli_directions
    from ganpaint.engine.models import directions as D

    assert (cli_directions.DEFAULT_SAMPLES, cli_directions.DEFAULT_COMPONENTS) == (D.DEFAULT_SAMPLES,
                                                                                  D.DEFAULT_COMPONENTS)
    assert ft.FinetuneRequest("stylegan2", ("x",)).directions == {}
    o = ft.FinetuneOutcome("done", "run", 2, 2, "faces@3", directions=("smile", "pc0", "pc1", "sefa0"))
    assert o.directions_note == ("Slider directions recomputed for the new generator: smile + 2 GANSpace and "
                                 "1 SeFa axes.")
    assert ft.FinetuneOutcome("done", "run", 2, 2, "faces@3").directions_note == ""


@pytest.mark.slow
def test_cli_train_stylegan2_computes_directions_unless_told_not_to(data_dir, tmp_path, monkeypatch, capsys):
    from ganpaint.cli.main import main
    from ganpaint.engine.models import directions as D
    from ganpaint.engine.models.directions import directions_path, load_directions
    from ganpaint.engine.models.store import ModelStore

    # the CLI computes with `ganpaint directions compute`'s defaults; fewer samples keep this test fast
    monkeypatch.setattr(D, "DEFAULT_SAMPLES", 64)
    monkeypatch.setattr(D, "DEFAULT_COMPONENTS", 3)
    pics = str(_pictures(tmp_path / "photos"))
    tiny = ["--size", "16", "--batch", "2", "--set", "style_dim=16", "--set", "n_mlp=1", "--set", "widths=16,16,16",
            "--no-progress"]
    assert main(["train", "stylegan2", "--data", pics, "--steps", "1", "--as", "sg", *tiny]) == 0
    out = capsys.readouterr().out
    entry = ModelStore().get("sg")
    ds = load_directions("sg", sha256=entry.card.sha256, style_dim=16)
    assert ds is not None and {"pc0", "sefa2"} <= set(ds.vectors) and "pc3" not in ds.vectors
    assert "stored as sg@1" in out and "slider directions: sg:" in out

    assert main(["train", "stylegan2", "--data", pics, "--steps", "1", "--as", "sg2", "--no-directions",
                 "--run-dir", str(tmp_path / "run2"), *tiny]) == 0
    assert ModelStore().get("sg2").version == 1 and not directions_path("sg2").exists()

    (ModelStore().root / "directions").rename(tmp_path / "moved")  # a file in the way: saving fails
    (ModelStore().root / "directions").write_text("not a folder")
    rc = main(["train", "stylegan2", "--data", pics, "--steps", "1", "--as", "sg3", "--run-dir",
               str(tmp_path / "run3"), *tiny])
    err = capsys.readouterr().err
    assert rc == 1 and "sg3@1 is stored, but its slider directions could not be computed" in err
    assert "ganpaint directions compute --model sg3" in err and ModelStore().get("sg3").version == 1
