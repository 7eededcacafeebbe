"""Training in a worker process (issue 12, point 1): a training generator runs in a process of its
own; a cancel lets it write its checkpoint and end, and a run that does not end within the grace
period is killed (the last checkpoint stands); a crash or memory beyond the limit is one sentence.
The editor's queue (one with a worker pool) runs fine-tunes this way: a tiny real run stores its
model, and a cancelled one leaves its checkpoint. Deadlines asserted with a 3x margin."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.engine.jobs.workers import WorkerJobError, worker_generator

GENERATORS = textwrap.dedent('''
    import ctypes, os, time
    import numpy as np

    def polite(run_dir, steps, cancel):
        for i in range(steps):
            if cancel():
                open(os.path.join(run_dir, "checkpoint"), "w").write(str(i))
                yield ("cancelled", i)
                return
            time.sleep(0.02)
            yield ("step", i, np.full((2, 2), i, np.float32))
        yield ("done", steps)

    def stubborn(run_dir, cancel):
        open(os.path.join(run_dir, "checkpoint"), "w").write("0")
        yield ("step", 0)
        while True:
            time.sleep(0.05)

    def crash(cancel):
        yield ("step", 0)
        ctypes.string_at(0)

    def hog(cancel):
        yield ("step", 0)
        block = np.ones(1 << 30, np.uint8)
        time.sleep(30)
        yield ("step", int(block[0]))

    def refuses(cancel):
        from ganpaint.train import TrainError
        raise TrainError("the folder 'x' has no pictures")
        yield
''')


@pytest.fixture
def gens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "gp_train_gens.py").write_text(GENERATORS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_events_come_across_and_a_cancel_writes_the_checkpoint(gens: Path) -> None:
    stop = {"now": False}
    got = []
    t0 = 0.0
    for ev in worker_generator("gp_train_gens:polite", {"run_dir": str(gens), "steps": 10_000},
                               cancel=lambda: stop["now"]):
        got.append(ev)
        if len(got) == 3:
            stop["now"], t0 = True, time.monotonic()
    took = time.monotonic() - t0
    assert got[0][0] == "step" and np.array_equal(got[1][2], np.full((2, 2), 1, np.float32))
    assert got[-1][0] == "cancelled" and (gens / "checkpoint").read_text() == str(got[-1][1])
    assert took < 3.0
    full = list(worker_generator("gp_train_gens:polite", {"run_dir": str(gens), "steps": 3}, cancel=lambda: False))
    assert [e[0] for e in full] == ["step", "step", "step", "done"]


def test_a_run_that_ignores_cancel_is_killed_after_the_grace(gens: Path) -> None:
    stop = {"now": False}
    events = worker_generator("gp_train_gens:stubborn", {"run_dir": str(gens)}, cancel=lambda: stop["now"],
                              grace_s=1.0)
    assert next(events) == ("step", 0)
    stop["now"] = True
    t0 = time.monotonic()
    assert list(events) == []  # ended: killed after 1 s
    assert time.monotonic() - t0 < 3.0
    assert (gens / "checkpoint").read_text() == "0"  # the last checkpoint stands
    # the consumer stopping (a job cancel closes the generator) does the same
    events = worker_generator("gp_train_gens:stubborn", {"run_dir": str(gens)}, cancel=lambda: False, grace_s=1.0)
    assert next(events) == ("step", 0)
    t0 = time.monotonic()
    events.close()
    assert time.monotonic() - t0 < 3.0


@pytest.mark.parametrize(("target", "words", "opts"), [
    ("crash", "training run x crashed (signal SIGSEGV)", {}),
    ("hog", "training run x used more than 512 MB of memory", {"memory_mb": 512}),
])
def test_a_crash_or_memory_hog_is_one_sentence(gens: Path, target: str, words: str, opts: dict) -> None:
    with pytest.raises(WorkerJobError) as info:
        list(worker_generator(f"gp_train_gens:{target}", {}, cancel=lambda: False, what="training run x", **opts))
    assert str(info.value).startswith(words) and "last checkpoint stands" in str(info.value)


def test_a_users_error_comes_back_as_it_is(gens: Path) -> None:
    with pytest.raises(WorkerJobError) as info:
        list(worker_generator("gp_train_gens:refuses", {}, cancel=lambda: False))
    assert str(info.value) == "the folder 'x' has no pictures" and info.value.user_error


# ------------------------------------------------------------------ the editor's fine-tune path


def _pictures(folder: Path, n: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


@pytest.mark.slow
def test_a_finetune_runs_in_a_worker_and_a_cancel_keeps_its_checkpoint(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.jobs import finetune as ft
    from ganpaint.engine.jobs.workers import WorkerPool
    from ganpaint.engine.models.store import ModelStore

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    a, b = _pictures(tmp_path / "a", 6), _pictures(tmp_path / "b", 6, seed=3)
    tiny = {"ngf": 4, "ndf": 4, "num_downs": 5}
    store, queue = ModelStore(), JobQueue(pool=WorkerPool())
    pid = os.getpid()
    try:
        req = ft.FinetuneRequest("paired", (str(a), str(b)), steps=3, size=32, name="tiny", options=tiny,
                                 sample_every=1, checkpoint_every=1)
        job, control = ft.make_finetune_job(req, store=store, queue=queue)
        queue.submit(job)
        assert job.wait(300) and job.state is JobState.DONE, job.error
        assert job.result.kind == "done" and job.result.model_ref == "tiny@1"
        assert len(control.history) == 3 and control.grid is not None and os.getpid() == pid

        # fine-tuned from tiny@1: its weights cross to the worker too
        long = ft.FinetuneRequest("paired", (str(a), str(b)), base_model="tiny@1", steps=100_000, size=32,
                                  name="long", sample_every=0, checkpoint_every=0)
        job, control = ft.make_finetune_job(long, store=store, queue=queue)
        queue.submit(job)
        deadline = time.monotonic() + 300
        while len(control.history) < 2:
            assert time.monotonic() < deadline and not job.state.finished, job.error
            time.sleep(0.05)
        t0 = time.monotonic()
        queue.cancel(job.id)
        assert job.wait(60) and job.state is JobState.CANCELLED
        took = time.monotonic() - t0
        assert took < 45.0  # 15 s to write the checkpoint, or killed; 3x margin
        run = Path(ft.list_runs()[0].run_dir)
        assert ft.checkpoint_step(run) is not None  # the checkpoint written on cancel
        print(f"training cancel: ended {took:.2f} s after the cancel, checkpoint at step {ft.checkpoint_step(run)}")
    finally:
        queue.shutdown()
