"""engine.jobs.finetune: data check, presets, a tiny fine-tune through the job queue (pause,
resume, new store version, resumable runs), and refusal of a second training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.engine.jobs import finetune as ft

TINY = {"ngf": 4, "ndf": 4, "num_downs": 5}


def _pictures(folder: Path, n: int, size=(40, 40), mode="RGB", seed=0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        arr = rng.integers(0, 255, (size[1], size[0], len(mode)), dtype=np.uint8)
        Image.fromarray(arr[..., 0] if mode == "L" else arr, mode).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_check_data_counts_sizes_modes_and_lists_unreadable(tmp_path):
    d = _pictures(tmp_path / "a", 3)
    _pictures(tmp_path / "a" / "sub", 1, size=(64, 32), mode="L", seed=1)
    _pictures(tmp_path / "a" / "alpha", 2, size=(20, 30), mode="RGBA", seed=2)
    (d / "notes.txt").write_text("not a picture")
    good = (d / "p0.png").read_bytes()
    (d / "cut.png").write_bytes(good[: len(good) // 2])
    rep = ft.check_data([d], "inpaint", preset="standard")
    assert rep.ok and rep.usable == 6
    assert {Path(p).name for p, _ in rep.unreadable} == {"notes.txt", "cut.png"}
    assert rep.greyscale == 1 and rep.transparent == 2
    assert rep.min_size == (20, 30) and rep.max_size == (64, 40)
    text = rep.summary()
    assert "only 6 pictures; the 'standard' preset wants at least 50" in text
    assert "mixed sizes" in text and "notes.txt" in text


def test_check_data_empty_folder_and_missing_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("x")
    rep = ft.check_data([empty], "inpaint")
    assert not rep.ok and rep.usable == 0
    assert any("no readable pictures" in e for e in rep.errors)
    rep = ft.check_data([tmp_path / "nope"], "inpaint")
    assert not rep.ok and "does not exist" in rep.errors[0]
    rep = ft.check_data([empty], "paired")  # needs two folders
    assert not rep.ok and "2 folder" in rep.errors[0]


def test_check_data_paired_counts_pairs_by_name(tmp_path):
    a = _pictures(tmp_path / "a", 5)
    b = _pictures(tmp_path / "b", 3)
    rep = ft.check_data([a, b], "paired")
    assert rep.usable == 3 and any("no partner" in w for w in rep.warnings)


def test_presets_differ_per_family_and_request_resolves():
    assert ft.preset_values("inpaint", "quick")["steps"] < ft.preset_values("inpaint", "long")["steps"]
    req = ft.FinetuneRequest("paired", ("a", "b"), preset="standard", steps=7)
    r = req.resolved()
    assert r["steps"] == 7 and r["batch"] == ft.preset_values("paired", "standard")["batch"]
    assert "stylegan2" in ft.families() and "stylegan2" not in ft.families(["pix2pix"])


@pytest.mark.slow
def test_tiny_finetune_pause_resume_and_new_version(data_dir, tmp_path):
    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.models.store import ModelStore

    a, b = _pictures(tmp_path / "a", 6), _pictures(tmp_path / "b", 6, seed=3)
    store, queue = ModelStore(), JobQueue()
    try:
        req = ft.FinetuneRequest("paired", (str(a), str(b)), steps=3, size=32, name="tiny", options=TINY,
                                 sample_every=1, checkpoint_every=1)
        job, control = ft.make_finetune_job(req, store=store, queue=queue)
        queue.submit(job)
        assert job.wait(120) and job.state is JobState.DONE, job.error
        first = job.result
        assert first.kind == "done" and first.model_ref == "tiny@1" and first.metric_name
        assert len(control.history) == 3 and control.grid is not None

        # fine-tune tiny@1 -> tiny@2, paused at once, then resumed after a "restart"
        req2 = ft.FinetuneRequest("paired", (str(a), str(b)), base_model="tiny@1", steps=4, size=32,
                                  sample_every=2, checkpoint_every=2)
        job, control = ft.make_finetune_job(req2, store=store, queue=queue)
        control.pause()
        queue.submit(job)
        assert job.wait(120) and job.state is JobState.DONE, job.error
        assert job.result.kind == "paused" and job.result.step == 0
        runs = ft.list_runs()
        assert [r.run_dir for r in runs] == [job.result.run_dir] and runs[0].base_model == "tiny@1"
        job, control = ft.resume_job(runs[0].run_dir, store=store, queue=queue)
        queue.submit(job)
        assert job.wait(120) and job.state is JobState.DONE, job.error
        out = job.result
        assert out.kind == "done" and out.model_ref == "tiny@2" and out.base_model == "tiny@1"
        card = store.get("tiny@2").card
        info = card.extra["finetune"]
        assert info["base_model"] == "tiny@1" and info["data_folders"] == [str(a), str(b)]
        assert info["pictures"]["pairs"] == 6 and card.extra["training"]["steps"] == 4
        assert card.metrics and card.tool == "translate"
        assert ft.list_runs() == []  # stored runs are not offered again
    finally:
        queue.shutdown()


def test_second_training_is_refused(data_dir, tmp_path):
    import threading

    from ganpaint.engine.jobs import Job, JobQueue
    from ganpaint.engine.models.store import ModelStore

    queue = JobQueue()
    gate = threading.Event()
    try:
        running = Job(ft.KIND, ft.LANE, lambda inputs, ctx: gate.wait(10), title="Training x")
        queue.submit(running)
        a = _pictures(tmp_path / "a", 2)
        with pytest.raises(ft.FinetuneError, match="already going"):
            ft.make_finetune_job(ft.FinetuneRequest("inpaint", (str(a),)), store=ModelStore(), queue=queue)
    finally:
        gate.set()
        queue.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize(
    "family, options, size, tool, metric",
    [
        ("sketch", {"ngf": 4, "ndf": 4, "num_downs": 5}, 32, "translate", "l1"),  # no sketch plugin: 3-ch pix2pix
        ("inpaint", {"width": 4, "ndf": 4, "dilations": (2,)}, 32, "inpaint", "hole_psnr"),
        ("stylegan2", {"style_dim": 16, "n_mlp": 1, "widths": "16,16,16"}, 16, "stylemix", "d_feature_fd"),
    ],
)
def test_one_folder_families_from_scratch(data_dir, tmp_path, family, options, size, tool, metric):
    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.models.store import ModelStore

    a = _pictures(tmp_path / "photos", 5, size=(36, 44))
    store, queue = ModelStore(), JobQueue()
    try:
        req = ft.FinetuneRequest(family, (str(a),), steps=2, size=size, batch=2, options=options, sample_every=1)
        job, _ = ft.make_finetune_job(req, store=store, queue=queue)
        queue.submit(job)
        assert job.wait(120) and job.state is JobState.DONE, job.error
        out = job.result
        assert out.model_ref == f"{family}-mine@1" and out.tool == tool and out.metric_name == metric
        assert out.metric is not None and np.isfinite(out.metric)
        card = store.get(out.model_ref).card
        assert card.metrics[metric] == out.metric and card.extra["finetune"]["family"] == family
        if family == "sketch":  # pairs made from the photos: XDoG line art (grey) and the photo
            pairs = Path(out.run_dir) / ft.PAIRS_DIR
            assert sorted(p.name for p in (pairs / "A").iterdir()) == sorted(p.name for p in (pairs / "B").iterdir())
            line = np.asarray(Image.open(next((pairs / "A").iterdir())))
            assert line.shape == (44, 36, 3) and np.array_equal(line[..., 0], line[..., 1])
    finally:
        queue.shutdown()


@pytest.mark.slow
def test_disk_full_during_checkpoint_fails_clearly_and_keeps_the_last_one(data_dir, tmp_path, monkeypatch):
    import errno

    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.train import checkpoints as ck

    a = _pictures(tmp_path / "photos", 4)
    real_write = ck._write_all
    calls = {"n": 0}

    def write(f, data):
        if f.name.endswith("checkpoint.safetensors.tmp"):
            calls["n"] += 1
            if calls["n"] >= 2:  # the first checkpoint lands, the second finds the disk full
                raise OSError(errno.ENOSPC, "No space left on device")
        real_write(f, data)

    monkeypatch.setattr(ck, "_write_all", write)
    store, queue = ModelStore(), JobQueue()
    try:
        req = ft.FinetuneRequest("inpaint", (str(a),), steps=4, size=32, batch=2, checkpoint_every=1,
                                 options={"width": 4, "ndf": 4, "dilations": (2,)})
        job, control = ft.make_finetune_job(req, store=store, queue=queue)
        queue.submit(job)
        assert job.wait(120) and job.state is JobState.FAILED
        assert "No space left on device" in job.error and "last checkpoint is kept" in job.error
        run = Path(job.inputs["run_dir"])
        assert ft.checkpoint_step(run) == 1 and [e for e in store.list() if not e.readonly] == []
        assert [r.run_dir for r in ft.list_runs()] == [str(run)]  # resumable once there is room
    finally:
        queue.shutdown()
