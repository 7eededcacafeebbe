"""Edit > Train… fine-tunes the tool's current model by default: the model the Tools panel
has selected for the active tool, else the tool's default model; "From scratch" stays
offered (last) and a choice of it is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from ganpaint.qt.dialogs.train_form import SCRATCH


@dataclass
class Entry:
    name: str
    version: int
    tool: str
    readonly: bool = False
    architecture: str = "unet_generator"
    components: tuple[str, ...] = ("forward",)
    card: SimpleNamespace = field(init=False)

    def __post_init__(self) -> None:
        self.card = SimpleNamespace(architecture=self.architecture, components=self.components,
                                    title=self.name, config={}, licence="")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tools(self) -> tuple[str, ...]:
        return (self.tool,)


class FakeStore:
    """ModelStore.list as the form and the window use it (no files, no torch)."""

    def __init__(self, *entries: Entry) -> None:
        self.entries = list(entries)

    def list(self, tool=None, *, all_versions=False):
        out = [e for e in self.entries if tool is None or tool in e.tools]
        if not all_versions:
            latest: dict[str, Entry] = {}
            for e in out:
                if e.name not in latest or e.version > latest[e.name].version:
                    latest[e.name] = e
            out = list(latest.values())
        return sorted(out, key=lambda e: (e.readonly, e.name, -e.version))


def _store() -> FakeStore:
    return FakeStore(
        Entry("sketch-default", 0, "sketch", readonly=True),
        Entry("my-sketch", 1, "sketch"), Entry("my-sketch", 2, "sketch"),
        Entry("inpaint-default", 0, "inpaint", readonly=True, architecture="inpaint_gated"),
        Entry("my-inpaint", 1, "inpaint", architecture="inpaint_gated"),
        Entry("my-inpaint", 2, "inpaint", architecture="inpaint_gated"),
        Entry("p2p", 1, "translate"),
        Entry("cyc", 1, "translate", architecture="resnet_generator", components=("forward", "reverse")),
    )


@pytest.fixture
def form(qtbot):
    from ganpaint.engine.jobs.finetune import families
    from ganpaint.qt.dialogs.train_form import TrainForm

    f = TrainForm(_store(), families())
    qtbot.addWidget(f)
    return f


def test_the_form_starts_from_a_model_not_from_scratch(form):
    assert form.family_id() == "sketch"
    assert form.start_model() == "sketch-default"  # the family's shipped model
    assert form.request().base_model == "sketch-default"
    assert form.model.itemText(form.model.count() - 1) == "From scratch"  # still offered
    form.set_family("inpaint")
    assert form.start_model() == "inpaint-default"
    # the tool's default model (from its ToolSpec) wins over other models
    form.default_models = {"inpaint": "my-inpaint"}
    form.set_family("sketch")
    form.set_family("inpaint")
    assert form.start_model() == "my-inpaint@2"  # a bare name: its latest version


def test_from_scratch_is_kept_once_chosen_and_a_family_without_models_starts_from_scratch(form):
    assert form.set_start_model(SCRATCH)
    form.refresh_models()  # e.g. after a model was stored
    assert form.start_model() == SCRATCH and form.request().base_model == ""
    form.set_family("paired")  # only p2p fits (cyc has a reverse generator)
    assert form.start_model() == "p2p@1"
    form.store = FakeStore()
    form.refresh_models()
    assert form.start_model() == SCRATCH and form.model.count() == 1


def test_prefer_picks_the_tools_family_and_selected_model(form):
    assert form.prefer("inpaint", "my-inpaint")
    assert form.family_id() == "inpaint" and form.start_model() == "my-inpaint@2"
    assert form.prefer("sketch", "my-sketch@1")
    assert form.family_id() == "sketch" and form.start_model() == "my-sketch@1"
    # translate is trained by two families: the one whose list has the model
    assert form.prefer("translate", "cyc")
    assert form.family_id() == "unpaired" and form.start_model() == "cyc@1"
    assert form.prefer("translate", "p2p")
    assert form.family_id() == "paired" and form.start_model() == "p2p@1"
    assert not form.prefer("blur", "")  # no family trains it: nothing changes
    assert form.family_id() == "paired"


@pytest.fixture
def gan_window(qtbot, answers):
    import ganpaint_inpaint
    import ganpaint_sketch

    from ganpaint.engine.jobs import JobQueue
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.mainwindow import MainWindow

    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_sketch, "sketch")
    pm.register(ganpaint_inpaint, "inpaint")
    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, model_store=_store())
    qtbot.addWidget(win)
    yield win
    dlg = getattr(win, "_train_dialog", None)
    if dlg is not None:
        dlg.close()
    win.close()
    queue.shutdown()


def test_edit_train_starts_from_the_active_tools_selected_model(qtbot, gan_window):
    win = gan_window
    pp = win.tools_panel.set_plugin_tool("inpaint")
    pp.set_values({**pp.values(), "model": "my-inpaint"})
    win.action_map["train"].trigger()
    dlg = win._train_dialog
    f = dlg.form
    assert f.family_id() == "inpaint" and f.start_model() == "my-inpaint@2"
    assert f.default_models == {"sketch": "sketch-default", "inpaint": "inpaint-default"}  # the ToolSpecs'


    # the user's own choice stays when the dialog is opened again for the same tool...
    f.set_start_model(SCRATCH)
    dlg.close()
    win.action_map["train"].trigger()
    assert f.family_id() == "inpaint" and f.start_model() == SCRATCH
    # ...and another tool's model is offered after the user switched tools
    dlg.close()
    win.tools_panel.set_plugin_tool("sketch")  # its default model is selected in the panel
    win.action_map["train"].trigger()
    assert f.family_id() == "sketch" and f.start_model() == "sketch-default"

