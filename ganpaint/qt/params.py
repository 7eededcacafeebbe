"""The parameter panel of a plugin tool, built from its ToolSpec (plugin authors write no Qt).

One editor per ParamSpec kind (see ``param_fields``: float/int sliders, a seed with a dice
button, bool, choice, colour, file, model, string) and one layer picker per InputSpec,
offering the layers that fit the role first. Every label and field shows the parameter's
help as its tooltip; parameters marked ``advanced`` sit in a collapsible "Advanced" section,
closed at first. Values always leave the panel through
``ParamSpec.coerce``, so the GUI and the command line accept exactly the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.core.specs import ParamSpec, Role, ToolSpec
from ganpaint.qt.icons import icon
from ganpaint.qt.param_fields import (
    SEED_MAX,
    ListModels,
    ModelField,
    ParamField,
    SeedField,
    make_field,
    param_tooltip,
)

__all__ = ["DEBOUNCE_MS", "PREVIEW_MS", "SEED_MAX", "SELECTION", "ParamField", "ParamPanel", "RolePicker",
           "SeedField"]

DEBOUNCE_MS = 150
#: While a live slider is held down: a draft request at the first move, then at most one per
#: this many ms with the latest values. Shorter than a draft run, so the runner always has
#: fresh values when a draft ends; a debounce restarted on every move would never fire
#: during a steady drag (mouse moves come every 8-16 ms).
PREVIEW_MS = 35
#: The mask picker's entry meaning "use the document's selection" (not in role_layers()).
SELECTION = "__selection__"
_ROLE_KIND = {Role.SKETCH: "SKETCH", Role.HINTS: "HINTS", Role.MASK: "MASK"}
#: what a layer picker is called, and its tooltip, when the InputSpec gives no label / help
ROLE_TITLES = {Role.IMAGE: "Picture", Role.MASK: "Area", Role.SKETCH: "Sketch", Role.HINTS: "Colour hints",
               Role.IMAGE_B: "Second picture"}
ROLE_HELP = {
    Role.IMAGE: "The layer the tool works on.",
    Role.MASK: "Where the tool acts: the selection, or a mask layer.",
    Role.SKETCH: "The layer with the line drawing: dark lines on white.",
    Role.HINTS: "A layer with dots of colour that steer the colours of the result.",
    Role.IMAGE_B: "A second layer the tool takes something from (a style, a reference).",
}


#: labels longer than this wrap (shorter ones keep one line; a wrapping QLabel asks for less
#: width than the panel has and breaks "Your picture (optional)" for no reason)
_WRAP_CHARS = 32


def _stacked_form(parent: QWidget | None = None) -> QFormLayout:
    """A form whose labels sit above their fields: in a narrow dock every field, and so
    every slider, gets the panel's whole width; long labels wrap instead of widening it."""
    form = QFormLayout(parent) if parent is not None else QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


#: ``hidden_params(spec, values) -> names``: the parameters to hide for these values (the host
#: answers from the tool's ``ToolSpec.hidden_params`` hook, containing its faults)
HiddenParams = Callable[[ToolSpec, dict[str, Any]], Iterable[str]]


def _add_param_row(form: QFormLayout, spec: ParamSpec, field: ParamField) -> QWidget:
    """One parameter's row; returns what names it (the label; a bool's check box carries
    its own text). Both show the parameter's tooltip."""
    tip = param_tooltip(spec)
    box = getattr(field, "box", None)
    if spec.kind == "bool" and isinstance(box, QCheckBox):
        box.setText(spec.title)
        box.setToolTip(tip)
        form.addRow(field)
        return box
    label = QLabel(spec.title + ":")
    label.setWordWrap(len(spec.title) > _WRAP_CHARS)
    label.setToolTip(tip)
    label.setBuddy(field)
    form.addRow(label, field)
    return label


def _kind_name(layer: Any) -> str:
    kind = getattr(layer, "kind", "RASTER")
    return str(getattr(kind, "name", kind)).upper()


class RolePicker(QComboBox):
    """Picks the layer for one tool input; layers that fit the role come first.

    sketch -> SKETCH layers first; hints -> HINTS layers first; mask -> "Selection" then
    MASK layers; image -> every layer, the active one by default; image_b -> the first
    layer that is not the active one. An optional input also offers "(none)", which is the
    default of an optional picture (image, image_b).
    ``layer_id()`` is a layer id, ``SELECTION`` or None.
    """

    def __init__(self, input_spec: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input = input_spec
        self.role: Role = input_spec.role
        self.user_chose = False  # once the user picks, refreshes keep their choice
        self.activated.connect(self._on_activated)

    def _on_activated(self, _index: int) -> None:
        self.user_chose = True

    def layer_id(self) -> str | None:
        data = self.currentData()
        return None if data in (None, "") else str(data)

    def refresh(self, document: Any) -> None:
        # the user's pick survives a refresh, "(none)" included (its data is None)
        chose = self.user_chose
        keep = self.layer_id() if chose else None
        layers = list(getattr(document, "layers", []) or [])[::-1]  # top first, as in the panel
        active = getattr(document, "active_layer", None)
        active_id = getattr(active, "id", None)
        fit_kind = _ROLE_KIND.get(self.role)
        fit = [la for la in layers if fit_kind and _kind_name(la) == fit_kind]
        rest = [la for la in layers if la not in fit]
        with QSignalBlocker(self):
            self.clear()
            if not self.input.required:
                self.addItem("(none)", None)
            if self.role is Role.MASK:
                self.addItem("Selection", SELECTION)
                entries = fit  # only masks make sense as a mask
            else:
                entries = fit + rest
            for la in entries:
                badge = _kind_name(la).lower()
                text = la.name if badge in ("raster",) else f"{la.name}  [{badge}]"
                self.addItem(text, la.id)
            if fit and rest and self.role is not Role.MASK:
                self.insertSeparator(self.findData(rest[0].id))
            if chose and keep is not None and self.findData(keep) < 0:
                chose = self.user_chose = False  # the chosen layer is gone: the default again
            target = keep if chose else self._default(fit, layers, active_id)
            i = self.findData(target) if target is not None else -1
            self.setCurrentIndex(i if i >= 0 else 0)

    def _default(self, fit: list[Any], layers: list[Any], active_id: str | None) -> Any:
        if self.role is Role.MASK:
            return SELECTION
        if not self.input.required and self.role in (Role.IMAGE, Role.IMAGE_B):
            # an optional picture is opted into: a generator (faces, style mixing) generates by
            # default instead of spending 10-20 s inverting whatever layer happens to be active
            return None
        if self.role is Role.IMAGE:
            return active_id
        if self.role is Role.IMAGE_B:
            others = [la.id for la in layers if la.id != active_id]
            return others[0] if others else active_id
        if fit:
            return fit[0].id
        return None if not self.input.required else active_id


class ParamPanel(QWidget):
    """The panel of one plugin tool.

    ``ParamPanel(spec, document=None, list_models=None, parent=None)``
      spec         the ToolSpec; one editor per ParamSpec, one layer picker per InputSpec;
      document     a ganpaint.core Document (layer pickers follow its layers), or None;
      list_models  ``list_models(tool_id) -> [(name, title), ...]`` for "model" parameters;
      jobs         the JobBridge that draws seed thumbnails (``ParamSpec.thumbnails``), or None;
      hidden_params  ``hidden_params(spec, values) -> names`` to hide (``ToolSpec.hidden_params``:
                   the sliders the chosen model cannot drive), or None. Asked when the panel is
                   built and whenever a ``model`` parameter or the model list changes; a hidden
                   field goes back to its default. ``hidden`` holds the names hidden now.
    ``labels[name]`` / ``input_labels[role]`` name the fields on screen; ``advanced_button`` and
    ``advanced_box`` are the "Advanced" section (None when no parameter is ``advanced``),
    ``set_advanced_open(bool)`` / ``advanced_open()`` open it and say whether it is open.
    Signals:
      ``valuesChanged(dict)``   debounced (150 ms) after any change; the coerced values;
      ``liveChanged(dict, bool preview)``  a ``live`` parameter changed: re-run the result
                                with ``mode="replace"``. While a live slider is held down:
                                ``preview=True`` at most every PREVIEW_MS (drafts), then
                                one ``preview=False`` on release (the final values). Other
                                changes (keys, wheel, typing, a click on the groove):
                                debounced (150 ms), ``preview=False``; ten rapid moves -> one;
      ``runRequested(str, dict, dict)``  tool id, values(), role_layers() (the Run button).
    """

    valuesChanged = Signal(object)
    liveChanged = Signal(object, bool)
    runRequested = Signal(str, object, object)

    def __init__(
        self,
        spec: ToolSpec,
        document: Any = None,
        list_models: ListModels | None = None,
        parent: QWidget | None = None,
        *,
        jobs: Any = None,
        hidden_params: HiddenParams | None = None,
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self._hidden_params = hidden_params if spec.hidden_params else None
        #: the parameters hidden for the current values (``hidden_params``)
        self.hidden: frozenset[str] = frozenset()
        self._rows: dict[str, QFormLayout] = {}
        self.document: Any = None
        self.fields: dict[str, ParamField] = {}
        self.pickers: dict[Role, RolePicker] = {}
        self._live_dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit_debounced)
        #: live fields whose slider is held down, and whether a live value moved in this drag
        self._held: set[str] = set()
        self._drag_moved = False
        self._preview_due = False  # a draft with newer values than the last one is owed
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_MS)
        self._preview_timer.timeout.connect(self._emit_preview)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        title = QLabel(f"<b>{spec.title}</b>")
        outer.addWidget(title)
        if spec.description:
            desc = QLabel(spec.description)
            desc.setWordWrap(True)
            desc.setProperty("role", "hint")
            outer.addWidget(desc)
        form = _stacked_form()
        outer.addLayout(form)
        #: what names each field on screen (its label; a bool's check box), by parameter name
        self.labels: dict[str, QWidget] = {}
        #: the label of each layer picker, by role
        self.input_labels: dict[Role, QLabel] = {}
        for inp in spec.inputs:
            picker = RolePicker(inp)
            picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            picker.setMinimumContentsLength(8)
            picker.currentIndexChanged.connect(self._schedule_values)
            self.pickers[inp.role] = picker
            role_label = QLabel((inp.label or ROLE_TITLES[inp.role]) + ":")
            role_label.setWordWrap(len(role_label.text()) > _WRAP_CHARS)
            role_label.setBuddy(picker)
            tip = inp.help or ROLE_HELP[inp.role]
            role_label.setToolTip(tip)
            picker.setToolTip(tip)
            self.input_labels[inp.role] = role_label
            form.addRow(role_label, picker)
        # research knobs (ParamSpec.advanced) go in a section of their own, closed at first
        self.advanced_button: QToolButton | None = None
        self.advanced_box: QWidget | None = None
        advanced_form: QFormLayout | None = None
        if any(p.advanced for p in spec.params):
            self.advanced_button = QToolButton()
            self.advanced_button.setObjectName("advanced_toggle")
            self.advanced_button.setText("Advanced")
            self.advanced_button.setCheckable(True)
            self.advanced_button.setAutoRaise(True)
            self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
            self.advanced_button.setToolTip("Settings for fine control and experiments; most pictures need "
                                            "none of them")
            self.advanced_button.toggled.connect(self.set_advanced_open)
            self.advanced_box = QWidget()
            self.advanced_box.setObjectName("advanced_section")
            advanced_form = _stacked_form(self.advanced_box)
            advanced_form.setContentsMargins(0, 0, 0, 0)
            self.advanced_box.setVisible(False)
        for p in spec.params:
            field = make_field(p, spec.id, list_models)
            field.changed.connect(lambda p=p: self._on_changed(p))
            field.held.connect(lambda down, p=p: self._on_held(p, down))
            self.fields[p.name] = field
            row_form = advanced_form if p.advanced and advanced_form is not None else form
            self.labels[p.name] = _add_param_row(row_form, p, field)
            self._rows[p.name] = row_form
        if self.advanced_button is not None:
            outer.addWidget(self.advanced_button)
            outer.addWidget(self.advanced_box)
        buttons = QHBoxLayout()
        self.reset_button = QPushButton(icon("reset"), "Reset")
        self.reset_button.setToolTip("Set every parameter back to its default")
        self.reset_button.clicked.connect(self.reset)
        self.run_button = QPushButton(icon("run"), "Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.request_run)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        outer.addLayout(buttons)
        # Combos sized to their longest entry (model titles, layer names) would widen the
        # dock past the screen; let them shrink and elide instead.
        for combo in self.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(min(combo.minimumContentsLength() or 8, 8))
        outer.addStretch(1)
        from ganpaint.qt.seed_grid import SeedPickers

        #: grid buttons of the seed parameters that have thumbnails (``jobs`` draws them)
        self.seed_pickers = SeedPickers(self, jobs)
        self.set_document(document)
        self.update_hidden()

    # ------------------------------------------------------------ advanced section

    def advanced_open(self) -> bool:
        """The Advanced section is shown (False also when the tool has no advanced parameter)."""
        return self.advanced_button is not None and self.advanced_button.isChecked()

    def set_advanced_open(self, open_: bool) -> None:
        """Show or hide the Advanced section (its arrow button does this)."""
        if self.advanced_button is None or self.advanced_box is None:
            return
        with QSignalBlocker(self.advanced_button):
            self.advanced_button.setChecked(open_)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.advanced_box.setVisible(open_)
        if open_:  # scroll the opened section into view once the panel is laid out again
            QTimer.singleShot(0, self, self._reveal_advanced)

    def _reveal_advanced(self) -> None:
        box = self.advanced_box
        if box is None or not box.isVisible():
            return
        w = self.parentWidget()
        while w is not None and not isinstance(w, QScrollArea):
            w = w.parentWidget()
        if w is not None:
            w.ensureWidgetVisible(box, 0, 0)

    # ------------------------------------------------------------ values

    def values(self) -> dict[str, Any]:
        """Every parameter, coerced by its ParamSpec (raises ValueError naming it)."""
        return {name: f.spec.coerce(f.get()) for name, f in self.fields.items()}

    def set_values(self, values: dict[str, Any], *, silent: bool = False) -> None:
        """Set some parameters (e.g. from a result layer being re-run); unknown names are ignored.

        ``silent``: showing values that are already applied (a result layer became active):
        no debounced ``valuesChanged``/``liveChanged`` follows, so nothing re-runs."""
        for name, value in values.items():
            if name in self.fields:
                self.fields[name].set(self.fields[name].spec.coerce(value))
        if any(self.fields[n].spec.kind == "model" for n in values if n in self.fields):
            self.update_hidden()
        if silent:
            self._timer.stop()
            self._live_dirty = False
            if not self._held:
                self._preview_timer.stop()

    def reset(self) -> None:
        self.set_values(self.spec.default_params())

    def role_layers(self) -> dict[Role, str | None]:
        """Role -> layer id for each input with a chosen layer, and role -> None for an
        optional input on "(none)" (no layer: ``build_request`` then takes no default, such
        as the active layer). A mask input left on "Selection" is not in the dict."""
        out: dict[Role, str | None] = {}
        for role, picker in self.pickers.items():
            lid = picker.layer_id()
            if lid == SELECTION or (lid is None and picker.input.required):
                continue
            out[role] = lid
        return out

    def request_run(self) -> None:
        try:
            values = self.values()
        except ValueError as exc:  # names the parameter; nothing runs
            from ganpaint.qt.dialogs.errors import show_error

            show_error(self, self.spec.title, str(exc))
            return
        self.runRequested.emit(self.spec.id, values, self.role_layers())

    def is_dragging(self) -> bool:
        """A live slider is held down (its drafts are being previewed)."""
        return bool(self._held)

    def set_busy(self, busy: bool) -> None:
        """Disable Run while the tool's job is queued or running."""
        self.run_button.setEnabled(not busy)

    def refresh_models(self) -> None:
        for f in self.fields.values():
            if isinstance(f, ModelField):
                f.refresh()
        self.update_hidden()

    def update_hidden(self) -> None:
        """Ask ``hidden_params`` which parameters to hide for the current values, hide their
        rows and put them back to their defaults (quietly: the change that led here, a model
        picked, already schedules the panel's values)."""
        if self._hidden_params is None:
            return
        try:
            values = self.values()
        except ValueError:
            return  # a half-typed value: ask again after the next change
        hide = frozenset(n for n in self._hidden_params(self.spec, values) if n in self.fields)
        if hide == self.hidden:
            return
        for name, field in self.fields.items():
            self._rows[name].setRowVisible(field, name not in hide)
            if name in hide and values[name] != field.spec.default:
                with QSignalBlocker(field):
                    field.set(field.spec.default)
        self.hidden = hide

    # ------------------------------------------------------------ document

    def set_document(self, document: Any) -> None:
        old = self.document
        if old is not None and hasattr(old, "events"):
            old.events.layers_changed.disconnect(self.refresh_layers, missing_ok=True)
            old.events.active_changed.disconnect(self.refresh_layers, missing_ok=True)
        self.document = document
        if document is not None and hasattr(document, "events"):
            document.events.layers_changed.connect(self.refresh_layers)
            document.events.active_changed.connect(self.refresh_layers)
        for picker in self.pickers.values():
            picker.user_chose = False
        self.refresh_layers()

    def refresh_layers(self, *_: Any) -> None:
        if not isValid(self):  # the document outlived this panel
            return
        for picker in self.pickers.values():
            picker.refresh(self.document)
        self.run_button.setEnabled(self._inputs_ready())

    def _inputs_ready(self) -> bool:
        for picker in self.pickers.values():
            if picker.input.required and picker.layer_id() is None:
                return False
        return True

    # ------------------------------------------------------------ debouncing

    def _on_changed(self, spec: ParamSpec) -> None:
        if spec.kind == "model":
            self.update_hidden()
        if spec.live and spec.name in self._held:
            # a drag: a draft at once, then at most one per PREVIEW_MS with the latest
            # values (a throttle, not a restarted debounce); the final value on release
            self._drag_moved = self._preview_due = True
            if not self._preview_timer.isActive():
                self._emit_preview()
        else:
            self._live_dirty = self._live_dirty or spec.live
        self._timer.start()

    def _on_held(self, spec: ParamSpec, down: bool) -> None:
        if not spec.live:
            return
        if down:
            self._held.add(spec.name)
            return
        self._held.discard(spec.name)
        if self._held:
            return
        self._preview_timer.stop()
        self._preview_due = False
        moved, self._drag_moved = self._drag_moved, False
        if not (moved or self._live_dirty):
            return  # pressed and let go without moving
        try:
            values = self.values()
        except ValueError:
            return
        self._live_dirty = False  # this emission carries the latest values
        self.liveChanged.emit(values, False)

    def _emit_preview(self) -> None:
        if not (self._held and self._preview_due):
            return  # released meanwhile (the final went out), or nothing moved since the last draft
        self._preview_due = False
        self._preview_timer.start()
        try:
            values = self.values()
        except ValueError:
            return
        self.liveChanged.emit(values, True)

    def _schedule_values(self, *_: Any) -> None:
        self._timer.start()

    def _emit_debounced(self) -> None:
        try:
            values = self.values()
        except ValueError:
            return  # a half-typed value; the next edit tries again
        self.valuesChanged.emit(values)
        if self._held:
            return  # a drag is on: its release sends the final values (and any pending change)
        live, self._live_dirty = self._live_dirty, False
        if live:
            self.liveChanged.emit(values, False)
