"""The settings half of the Train dialog: family, starting model, folders, preset and the
advanced fields. ``TrainForm.request()`` builds the engine's FinetuneRequest; ``changed``
fires on any edit (the dialog then asks for a new data check).

The starting model defaults to fine-tuning, not "From scratch" (always offered last): the
model the editor has selected for one of the family's tools (``preferred_models``), else
that tool's default model (``default_models``), else a model shipped for the family, else
the first model listed. ``prefer(tool, model)`` picks the family of a tool and its model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganpaint.engine.jobs.finetune import PRESET_NAMES, Family, FinetuneRequest, preset_values

SCRATCH = ""  # the start-model combo's data for "from scratch"
_STARTABLE = {"unet_generator", "resnet_generator", "inpaint_gated", "stylegan2"}


class TrainForm(QWidget):
    changed = Signal()

    def __init__(self, store: Any, families: dict[str, Family], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.families = families
        self.family = QComboBox()
        for fam in families.values():
            self.family.addItem(fam.title, fam.id)
        self.family_help = QLabel()
        self.family_help.setWordWrap(True)
        self.family_help.setProperty("role", "hint")
        self.model = QComboBox()
        self.model.setToolTip("The model training starts from; a new version of it is stored at the end")
        self.folder_edits: list[QLineEdit] = []
        self.folder_labels: list[QLabel] = []
        self.folder_rows: list[QWidget] = []
        self.preset = QComboBox()
        for name in PRESET_NAMES:
            self.preset.addItem(name.capitalize(), name)
        self.name = QLineEdit()
        self.name.setPlaceholderText("the starting model's name (a new version)")
        self.steps, self.batch, self.size = QSpinBox(), QSpinBox(), QSpinBox()
        self.steps.setRange(1, 10_000_000)
        self.batch.setRange(1, 256)
        self.size.setRange(16, 2048)
        self.size.setSingleStep(16)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-5)
        self.bf16 = QCheckBox("bf16 (faster on CPUs/GPUs with bf16, at larger sizes)")
        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        adv = QFormLayout(self.advanced)
        adv.addRow("Steps", self.steps)
        adv.addRow("Batch", self.batch)
        adv.addRow("Learning rate", self.lr)
        adv.addRow("Size (px)", self.size)
        adv.addRow("", self.bf16)
        #: extra recipe options (tests use tiny networks; not shown in the form)
        self.extra_options: dict[str, Any] = {}
        self.sample_every = 10  # steps between sample grids
        self.checkpoint_every = 100  # steps between checkpoints (also on pause, cancel and at the end)
        #: StyleGAN2: options of the slider directions recomputed after storing ({} = the CLI's defaults)
        self.directions_options: dict[str, Any] = {}
        #: tool id -> the model the editor has selected for it / the tool's default model
        self.preferred_models: dict[str, str] = {}
        self.default_models: dict[str, str] = {}
        self._shipped: set[str] = set()  # combo data of the read-only (shipped) models listed

        form = QFormLayout()
        form.addRow("Family", self.family)
        form.addRow("", self.family_help)
        form.addRow("Start from", self.model)
        for i in range(2):
            edit = QLineEdit()
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, e=edit: self._browse(e))
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            h.addWidget(edit, 1)
            h.addWidget(browse)
            label = QLabel(f"Folder {i + 1}")
            form.addRow(label, row)
            edit.textChanged.connect(self.changed)
            self.folder_edits.append(edit)
            self.folder_labels.append(label)
            self.folder_rows.append(row)
        form.addRow("Preset", self.preset)
        form.addRow("Store as", self.name)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.advanced)
        self.family.currentIndexChanged.connect(self._family_changed)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        for w in (self.model, self.preset):
            w.currentIndexChanged.connect(self.changed)
        for s in (self.steps, self.batch, self.size):
            s.valueChanged.connect(self.changed)
        self._family_changed()

    # ------------------------------------------------------------------ state
    def family_id(self) -> str:
        return str(self.family.currentData())

    def set_family(self, family_id: str) -> None:
        i = self.family.findData(family_id)
        if i >= 0:
            self.family.setCurrentIndex(i)

    def set_folders(self, *folders: str) -> None:
        for edit, f in zip(self.folder_edits, folders, strict=False):
            edit.setText(str(f))

    def folders(self) -> tuple[str, ...]:
        n = len(self.families[self.family_id()].folders)
        return tuple(e.text().strip() for e in self.folder_edits[:n])

    def set_start_model(self, ref: str) -> bool:
        i = self.model.findData(ref)
        if i >= 0:
            self.model.setCurrentIndex(i)
        return i >= 0

    def start_model(self) -> str:
        return str(self.model.currentData() or SCRATCH)

    def _find_model(self, ref: str | None) -> int:
        """Index of ``ref`` in the start-model list; a bare name finds its latest version."""
        if not ref:
            return -1
        i = self.model.findData(ref)
        if i >= 0 or "@" in ref:
            return i
        for j in range(self.model.count()):  # versions are listed newest first
            if str(self.model.itemData(j) or "").startswith(f"{ref}@"):
                return j
        return -1

    def _default_index(self) -> int:
        fam = self.families[self.family_id()]
        for table in (self.preferred_models, self.default_models):
            for tool in fam.tools:
                i = self._find_model(table.get(tool))
                if i >= 0:
                    return i
        for j in range(self.model.count()):
            if self.model.itemData(j) in self._shipped:
                return j
        return 0  # the first model listed; "From scratch" when there is none

    def prefer(self, tool_id: str, model: str = "") -> bool:
        """Start from ``model`` (default: the tool's default model) of ``tool_id``: selects the
        first family training that tool whose list has the model. False (nothing changed)
        when no family trains the tool."""
        if model:
            self.preferred_models[tool_id] = model
        fams = [f.id for f in self.families.values() if tool_id in f.tools]
        fams.sort(key=lambda f: self.families[f].tools.index(tool_id))  # the tool's own family first
        if not fams:
            return False
        wanted = model or self.default_models.get(tool_id, "")
        for fam_id in fams:
            self._select_family(fam_id)
            found = self._find_model(wanted)
            if found >= 0 and found == self.model.currentIndex():
                return True
        self._select_family(fams[0])
        return True

    def _select_family(self, family_id: str) -> None:
        if self.family_id() == family_id:
            self.refresh_models(keep=False)
        else:
            self.set_family(family_id)  # -> _family_changed -> refresh_models(keep=False)

    def refresh_models(self, keep: bool = True) -> None:
        """List the family's models; keep the selection (``keep``) if it is still listed,
        else select the default starting model (see the module's docstring)."""
        fam = self.families[self.family_id()]
        current = self.start_model() if keep and self.model.count() else None
        self.model.blockSignals(True)
        self.model.clear()
        self._shipped = set()
        seen: set[str] = set()
        entries: list[Any] = []
        if self.store is not None:
            for tool in fam.tools:
                try:
                    entries += self.store.list(tool, all_versions=True)
                except Exception:  # noqa: BLE001 - a broken store offers only "from scratch"
                    pass
        for e in entries:
            if e.card.architecture not in _STARTABLE or (e.card.architecture == "stylegan2") != (fam.id == "stylegan2"):
                continue
            if (fam.id == "paired" and "reverse" in e.card.components) or (
                    fam.id == "unpaired" and e.card.architecture != "resnet_generator"):
                continue
            ref = e.name if e.readonly else e.ref
            if ref in seen:
                continue
            seen.add(ref)
            kind = "default" if e.readonly else f"version {e.version}"
            self.model.addItem(f"{e.card.title or e.name} ({kind}, {e.tool})", ref)
            if e.readonly:
                self._shipped.add(ref)
        if fam.scratch:
            self.model.addItem("From scratch", SCRATCH)
        self.model.blockSignals(False)
        if current is None or not self.set_start_model(current):
            self.model.setCurrentIndex(self._default_index())
        self.changed.emit()

    def request(self) -> FinetuneRequest:
        adv = self.advanced.isChecked()
        return FinetuneRequest(
            family=self.family_id(), folders=self.folders(), base_model=self.start_model(),
            preset=str(self.preset.currentData()),
            steps=self.steps.value() if adv else None, batch=self.batch.value() if adv else None,
            lr=self.lr.value() if adv else None, size=self.size.value() if adv else None,
            bf16=self.bf16.isChecked() if adv else False, name=self.name.text().strip(),
            options=dict(self.extra_options), sample_every=self.sample_every, checkpoint_every=self.checkpoint_every,
            directions=dict(self.directions_options),
        )

    # ------------------------------------------------------------------ slots
    def _family_changed(self) -> None:
        fam = self.families[self.family_id()]
        self.family_help.setText(fam.help)
        for i, (label, row) in enumerate(zip(self.folder_labels, self.folder_rows, strict=True)):
            visible = i < len(fam.folders)
            label.setVisible(visible)
            row.setVisible(visible)
            if visible:
                label.setText(fam.folders[i])
        self._preset_changed()
        self.refresh_models(keep=False)  # another family: its default starting model

    def _preset_changed(self) -> None:
        p = preset_values(self.family_id(), str(self.preset.currentData()))
        for w in (self.steps, self.batch, self.size, self.lr):
            w.blockSignals(True)
        self.steps.setValue(p["steps"])
        self.batch.setValue(p["batch"])
        self.size.setValue(p["size"])
        self.lr.setValue(p["lr"])
        for w in (self.steps, self.batch, self.size, self.lr):
            w.blockSignals(False)
        self.changed.emit()

    def _browse(self, edit: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, "Picture folder", edit.text())
        if path:
            edit.setText(path)
