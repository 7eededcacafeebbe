"""The seed grid: thumbnails drawn by a job (the window never waits), picking seeds by their
picture, pages, re-drawing when a parameter the pictures depend on changes, and errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from ganpaint.core.specs import ParamSpec, ToolError, ToolSpec
from ganpaint.engine.jobs import JobState
from ganpaint.qt.params import ParamPanel
from ganpaint.qt.seed_grid import PAGE, SeedGrid

SELF = __name__
CALLS: list[tuple[dict, tuple[int, ...]]] = []
GATE = threading.Event()


def colours(params, seeds, size, ctx):
    CALLS.append((dict(params), tuple(seeds)))
    return [np.full((size, size, 3), ((s % 10) / 10, float(params.get("psi", 1.0)) / 2, 0.5), np.float32)
            for s in seeds]


def gated(params, seeds, size, ctx):
    GATE.wait(10)
    return colours(params, seeds, size, ctx)


def failing(params, seeds, size, ctx):
    raise ToolError("no model for these pictures")


def _spec(ref: str, *, two: bool = True) -> ToolSpec:
    seeds = [ParamSpec("seed", "seed", label="Seed A", thumbnails=ref, thumbnail_params=("psi",))]
    if two:
        seeds.append(ParamSpec("seed_b", "seed", label="Seed B", default=1, thumbnails=ref,
                               thumbnail_params=("psi",)))
    return ToolSpec(id="gen", title="Generator", run=f"{SELF}:colours", params=(  # a real module: checked
        *seeds,
        ParamSpec("psi", "float", default=1.0, minimum=0.0, maximum=1.5, step=0.05),
        ParamSpec("crossover", "int", default=3, minimum=0, maximum=8),
    ))


@pytest.fixture
def make_grid(qtbot, engine):
    _queue, bridge = engine
    CALLS.clear()
    GATE.set()

    grids: list[SeedGrid] = []

    def make(ref: str = f"{SELF}:colours", two: bool = True, name: str = "seed") -> tuple[ParamPanel, SeedGrid]:
        panel = ParamPanel(_spec(ref, two=two), jobs=bridge)
        qtbot.addWidget(panel)
        grid = panel.seed_pickers.open(name)
        grids.append(grid)
        return panel, grid

    yield make
    GATE.set()
    for grid in grids:
        grid.close()


def drawn(grid: SeedGrid) -> list[int]:
    return [s for s in grid.seeds() if grid.picture(s) is not None]


def test_seed_params_with_thumbnails_get_a_grid_button(qtbot, engine) -> None:
    panel = ParamPanel(_spec(f"{SELF}:colours", two=False), jobs=engine[1])
    qtbot.addWidget(panel)
    assert set(panel.seed_pickers.buttons) == {"seed"}
    qtbot.mouseClick(panel.seed_pickers.buttons["seed"], Qt.MouseButton.LeftButton)
    grid = panel.seed_pickers.grid("seed")
    assert grid is not None and grid.isVisible() and not grid.isModal()
    qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE, timeout=10_000)
    grid.close()
    bare = ParamPanel(_spec(f"{SELF}:colours"))  # no job queue: the buttons cannot draw
    qtbot.addWidget(bare)
    assert not bare.seed_pickers.buttons["seed"].isEnabled()


def test_pictures_arrive_while_the_window_keeps_working(make_grid, qtbot) -> None:
    GATE.clear()
    panel, grid = make_grid(f"{SELF}:gated")
    qtbot.wait(100)  # the event loop runs while the job waits
    assert drawn(grid) == [] and grid.is_busy()
    assert [t.text() for t in grid.tiles[:3]] == ["0 · A", "1 · B", "2"]
    GATE.set()
    qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE, timeout=10_000)
    qtbot.waitUntil(lambda: not grid.is_busy(), timeout=5_000)
    assert [c[1] for c in CALLS] == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11)]  # a chunk at a time
    assert CALLS[0][0] == {"psi": 1.0}  # only the parameters the pictures depend on
    assert grid.picture(3).width() >= 16


def test_clicking_a_picture_sets_the_chosen_seed(make_grid, qtbot) -> None:
    panel, grid = make_grid()
    qtbot.mouseClick(grid.tiles[5], Qt.MouseButton.LeftButton)
    assert panel.values()["seed"] == 5 and panel.values()["seed_b"] == 1
    assert grid.tiles[5].isChecked() and grid.tiles[5].text() == "5 · A" and not grid.tiles[0].isChecked()
    grid.target_buttons["seed_b"].click()
    assert grid.target() == "seed_b" and "Seed B" in grid.hint.text()
    with qtbot.waitSignal(grid.picked) as sig:
        qtbot.mouseClick(grid.tiles[7], Qt.MouseButton.LeftButton)
    assert sig.args == ["seed_b", 7] and panel.values()["seed_b"] == 7 and panel.values()["seed"] == 5
    menu = grid._tile_menu(9)  # the right-click menu offers every seed parameter
    assert [a.text() for a in menu.actions()] == ["Use seed 9 for Seed A", "Use seed 9 for Seed B"]
    menu.actions()[0].trigger()
    assert panel.values()["seed"] == 9 and grid.tiles[9].text() == "9 · A"
    panel.fields["seed_b"].set(9)  # typed in the panel: the grid follows
    assert grid.tiles[9].text() == "9 · A B"
    # the other seed's button opens the same grid, aimed at that seed
    assert panel.seed_pickers.open("seed") is grid and grid.target() == "seed"


def test_pages_change_the_seeds_and_come_back_from_the_cache(make_grid, qtbot) -> None:
    panel, grid = make_grid()
    qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE, timeout=10_000)
    assert not grid.prev_button.isEnabled()
    grid.next_button.click()
    assert grid.seeds() == list(range(PAGE, 2 * PAGE)) and grid.page_label.text() == f"Seeds {PAGE}–{2 * PAGE - 1}"
    assert [t.seed for t in grid.tiles] == grid.seeds()
    qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE, timeout=10_000)
    assert sorted(s for c in CALLS for s in c[1]) == list(range(2 * PAGE))
    qtbot.mouseClick(grid.tiles[2], Qt.MouseButton.LeftButton)
    assert panel.values()["seed"] == PAGE + 2
    n = len(CALLS)
    grid.prev_button.click()
    assert len(drawn(grid)) == PAGE and not grid.is_busy()  # drawn before: no job
    qtbot.wait(100)
    assert len(CALLS) == n
    panel.fields["seed"].set(40)
    grid.close()
    panel.seed_pickers.open("seed")  # reopening turns to the page of the seed
    assert grid.seeds()[0] == 36 and grid.tiles[4].text() == "40 · A"


def test_only_the_parameters_the_pictures_depend_on_redraw(make_grid, qtbot) -> None:
    panel, grid = make_grid()
    qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE and not grid.is_busy(), timeout=10_000)
    n = len(CALLS)
    panel.set_values({"crossover": 6})
    qtbot.wait(400)  # past the panel's debounce
    assert len(CALLS) == n and len(drawn(grid)) == PAGE
    panel.set_values({"psi": 0.5})
    qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE and not grid.is_busy(), timeout=10_000)
    assert len(CALLS) == n + 3 and CALLS[-1][0] == {"psi": 0.5}
    assert grid.picture(0).toImage().pixelColor(0, 0).green() == round(0.25 * 255)


def test_a_failing_function_shows_a_message_in_the_grid(make_grid, qtbot) -> None:
    panel, grid = make_grid(f"{SELF}:failing")
    qtbot.waitUntil(lambda: grid.message.isVisible(), timeout=10_000)
    assert "no model for these pictures" in grid.message.text()
    assert drawn(grid) == [] and not grid.is_busy()
    qtbot.mouseClick(grid.tiles[3], Qt.MouseButton.LeftButton)  # picking still works
    assert panel.values()["seed"] == 3


def test_closing_the_grid_cancels_its_job(make_grid, qtbot, engine) -> None:
    queue, _ = engine
    GATE.clear()
    _panel, grid = make_grid(f"{SELF}:gated")
    job_id = grid._job_id
    assert job_id is not None
    grid.close()
    assert not grid.is_busy()
    GATE.set()
    job = queue.get(job_id)
    assert job is None or (job.wait(10) and job.state is JobState.CANCELLED)


# ------------------------------------------------------------------ with a real (tiny) StyleGAN2


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    from ganpaint.testing.tiny_stylegan import make_tiny_stylegan_store

    return make_tiny_stylegan_store(Path(tmp_path_factory.mktemp("models")))


def _stylegan_spec() -> ToolSpec:
    ref = "ganpaint.latent.stylegan_thumbnails:thumbnails"
    return ToolSpec(id="stylemix", title="Style mixing", run="m:f", params=(  # the tiny model's tool
        ParamSpec("model", "model"),
        ParamSpec("seed", "seed", thumbnails=ref, thumbnail_params=("model", "psi")),
        ParamSpec("psi", "float", default=0.7, minimum=0.0, maximum=1.5, step=0.05),
    ))


@pytest.mark.parametrize("with_model", [True, False])
def test_stylegan_pictures_of_a_tiny_generator(qtbot, tiny_store, with_model: bool) -> None:
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.bridge import JobBridge
    from ganpaint.testing.tiny_stylegan import TINY_STYLEGAN

    queue = JobQueue(model_resolver=tiny_store.path_for)
    bridge = JobBridge(queue)
    try:
        models = [(TINY_STYLEGAN, "Tiny")] if with_model else []
        panel = ParamPanel(_stylegan_spec(), list_models=lambda tool: models, jobs=bridge)
        qtbot.addWidget(panel)
        grid = panel.seed_pickers.open("seed")
        if with_model:
            qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE or grid.message.isVisible(), timeout=30_000)
            assert not grid.message.isVisible(), grid.message.text()
            a, b = (grid.picture(s).toImage() for s in (0, 1))
            assert a.width() >= 16 and a != b
        else:  # the user's store is empty: the grid says how to get a model
            qtbot.waitUntil(lambda: grid.message.isVisible(), timeout=30_000)
            assert "no StyleGAN2 model is available for stylemix" in grid.message.text()
        grid.close()
    finally:
        queue.shutdown(wait=True, timeout=30)
        bridge.close()


def test_the_editor_draws_through_its_own_job_queue(qtbot, answers) -> None:
    from types import SimpleNamespace

    from ganpaint import hookimpl
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.mainwindow import MainWindow

    plugin = SimpleNamespace(GANPAINT_API_VERSION=1,
                             ganpaint_register_tools=hookimpl(lambda: [_spec(f"{SELF}:colours")]))
    pm = PluginManager(discover=False, user_dirs=False)
    assert pm.register(plugin, "gen-plugin").status == "loaded"
    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None)
    qtbot.addWidget(win)
    try:
        panel = win.tools_panel.set_plugin_tool("gen")
        assert panel.seed_pickers.jobs is win.bridge
        grid = panel.seed_pickers.open("seed_b")
        qtbot.waitUntil(lambda: len(drawn(grid)) == PAGE, timeout=10_000)
        qtbot.mouseClick(grid.tiles[4], Qt.MouseButton.LeftButton)
        assert panel.values()["seed_b"] == 4
        grid.close()
    finally:
        win.controller.document.history.mark_clean()
        win.close()
        queue.shutdown(wait=True, timeout=10)
