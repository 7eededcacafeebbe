"""Pick a seed by its picture: a grid of thumbnails for ``seed`` parameters that name a
``thumbnails`` function (``ParamSpec.thumbnails``, see docs/plugins.md).

``SeedPickers(panel, jobs)`` is made by every ParamPanel: it adds a grid button beside each
such seed field and opens one non-modal :class:`SeedGrid` per group of seed parameters that
share a thumbnails function (Style mixing: one grid for Seed A and Seed B, with a choice of
which one a click sets). The grid draws a page of 4 x 3 seeds through a job on the editor's
queue (interactive lane, latest wins), so the window never waits: pictures appear a few at a
time as the job finishes them, and a new page, or a change of the parameters the pictures
depend on (the model, the truncation ...), replaces the job. Pictures already drawn are kept,
so paging back is instant.
"""

from __future__ import annotations

import functools
import itertools
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QMenu,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.core.specs import ParamSpec
from ganpaint.engine.jobs import FinishedMessage, JobState, ProgressMessage
from ganpaint.qt.icons import icon
from ganpaint.qt.param_fields import SEED_MAX

__all__ = ["COLUMNS", "PAGE", "ROWS", "THUMB", "SeedGrid", "SeedPickers"]

COLUMNS, ROWS = 4, 3
PAGE = COLUMNS * ROWS
#: a thumbnail's side on screen, in device-independent pixels
THUMB = 96
#: pictures kept across pages and parameter changes
CACHE_LIMIT = 20 * PAGE
LAST_PAGE = SEED_MAX // PAGE

_tokens = itertools.count(1)


class _Relay(QObject):
    """Carries pictures from the worker thread to the grids on the GUI thread.

    One for the application, never deleted, so a job that outlives its grid never emits on
    a dead object; each request has a token and pictures of a token nobody waits for are dropped.
    """

    _arrived = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._grids: dict[int, weakref.ref[SeedGrid]] = {}
        self._arrived.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    def register(self, token: int, grid: SeedGrid) -> None:
        self._grids[token] = weakref.ref(grid)

    def unregister(self, token: int) -> None:
        self._grids.pop(token, None)

    def post(self, token: int, seeds: tuple[int, ...], pictures: list[Any]) -> None:
        """Called in the worker thread for every chunk of pictures."""
        self._arrived.emit((token, seeds, pictures))

    def _dispatch(self, item: tuple[int, tuple[int, ...], list[Any]]) -> None:
        token, seeds, pictures = item
        ref = self._grids.get(token)
        grid = ref() if ref is not None else None
        if grid is None or not isValid(grid):
            self._grids.pop(token, None)
            return
        grid._on_pictures(token, seeds, pictures)  # noqa: SLF001


_relay: _Relay | None = None


def _the_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
    return _relay


def _short_labels(titles: list[str]) -> list[str]:
    """"Seed A", "Seed B" -> "A", "B": the words every title starts with are dropped."""
    words = [t.split() for t in titles]
    common = 0
    while all(len(w) > common + 1 for w in words) and len({w[common] for w in words}) == 1:
        common += 1
    return [" ".join(w[common:]) for w in words]


def _params_key(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


class SeedTile(QToolButton):
    """One seed: its picture with the seed number under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seed = -1
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        # room for the picture and a line of text whatever the label, so nothing ever squeezes it
        self.setText("0")
        hint = self.sizeHint()
        self.setMinimumSize(max(hint.width(), THUMB + 12), max(hint.height(), THUMB + 2 * self.fontMetrics().height()))
        self.setText("")


class SeedGrid(QDialog):
    """A non-modal window of seed thumbnails for some seed parameters of a ParamPanel.

    ``SeedGrid(panel, names, jobs)``: ``names`` are seed parameters sharing one thumbnails
    function; ``jobs`` a :class:`~ganpaint.qt.bridge.JobBridge`. A click on a picture sets
    the seed parameter chosen above the grid (``target()``; a right-click offers each one);
    the tiles of the seeds the parameters hold are checked and marked. ``picked(name, seed)``
    follows every pick. Prev / Next turn pages of ``PAGE`` seeds; the pictures are drawn
    again when a parameter they depend on changes in the panel. A failure (no model, a model
    that does not load, a broken thumbnails function) shows as a message in the grid.
    """

    picked = Signal(str, int)

    def __init__(self, panel: Any, names: list[str], jobs: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else panel)
        self.panel = panel
        self.spec = panel.spec
        self.targets: list[ParamSpec] = [self.spec.param(n) for n in names]
        self.ref = str(self.targets[0].thumbnails)
        self.jobs = jobs
        self.page = 0
        self._token = 0
        self._job_id: str | None = None
        self._key: tuple[Any, ...] | None = None
        self._token_keys: dict[int, tuple[Any, ...]] = {}  # token -> cache key prefix
        self._cache: OrderedDict[tuple[Any, ...], QPixmap] = OrderedDict()
        self._waiting: set[int] = set()
        self._requested = 0
        self.setModal(False)
        self.setWindowTitle(f"Pick a seed: {self.spec.title}")
        self.setObjectName("SeedGrid")

        outer = QVBoxLayout(self)
        outer.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # a message never squeezes the tiles
        self.target_buttons: dict[str, QRadioButton] = {}
        self._marks = dict(zip(names, _short_labels([t.title for t in self.targets]), strict=True))
        if len(self.targets) > 1:
            row = QHBoxLayout()
            row.addWidget(QLabel("A click sets:"))
            self._target_group = QButtonGroup(self)
            for t in self.targets:
                b = QRadioButton(t.title)
                b.setToolTip(f"Clicking a picture sets {t.title}")
                self._target_group.addButton(b)
                self.target_buttons[t.name] = b
                row.addWidget(b)
            row.addStretch(1)
            self.target_buttons[self.targets[0].name].setChecked(True)
            for b in self.target_buttons.values():
                b.toggled.connect(self._update_hint)
            outer.addLayout(row)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        outer.addWidget(self.hint)

        grid = QGridLayout()
        grid.setSpacing(4)
        self.tiles: list[SeedTile] = []
        for i in range(PAGE):
            tile = SeedTile(self)
            tile.clicked.connect(functools.partial(self._on_tile_clicked, i))
            tile.customContextMenuRequested.connect(functools.partial(self._on_tile_menu, i))
            grid.addWidget(tile, i // COLUMNS, i % COLUMNS)
            self.tiles.append(tile)
        outer.addLayout(grid)

        self.message = QLabel()
        self.message.setObjectName("seedGridMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        outer.addWidget(self.message)

        nav = QHBoxLayout()
        self.prev_button = QPushButton("◀ Prev")
        self.prev_button.setToolTip(f"The previous {PAGE} seeds")
        self.prev_button.clicked.connect(lambda: self.set_page(self.page - 1))
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip(f"The next {PAGE} seeds")
        self.next_button.clicked.connect(lambda: self.set_page(self.page + 1))
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refresh_button = QToolButton()
        self.refresh_button.setIcon(icon("reset"))
        self.refresh_button.setToolTip("Draw the pictures again")
        self.refresh_button.clicked.connect(self.refresh)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next_button)
        nav.addWidget(self.refresh_button)
        outer.addLayout(nav)

        status = QHBoxLayout()
        self.status = QLabel()
        self.status.setProperty("role", "hint")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        status.addWidget(self.status, 1)
        status.addWidget(self.progress, 1)
        outer.addLayout(status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        outer.addWidget(buttons)

        panel.valuesChanged.connect(self._on_values_changed)
        for t in self.targets:  # marks follow a seed typed in the panel at once
            panel.fields[t.name].changed.connect(self._sync_marks)
        jobs.jobFinished.connect(self._on_finished)
        jobs.jobProgress.connect(self._on_progress)
        self._update_hint()
        self._show_page()

    # ------------------------------------------------------------ public

    def target(self) -> str:
        """The seed parameter a click sets."""
        for name, b in self.target_buttons.items():
            if b.isChecked():
                return name
        return self.targets[0].name

    def set_target(self, name: str) -> None:
        if name in self.target_buttons:
            self.target_buttons[name].setChecked(True)
        self._update_hint()

    def seeds(self) -> list[int]:
        """The seeds of the page shown."""
        first = self.page * PAGE
        return [s for s in range(first, first + PAGE) if s <= SEED_MAX]

    def set_page(self, page: int) -> None:
        page = max(0, min(int(page), LAST_PAGE))
        if page != self.page:
            self.page = page
            self._show_page()
            self.request()

    def show_seed(self, seed: int) -> None:
        """Turn to the page holding ``seed``."""
        self.set_page(int(seed) // PAGE)

    def pick(self, seed: int, name: str | None = None) -> None:
        """Set seed parameter ``name`` (default: the target) to ``seed`` in the panel."""
        name = name or self.target()
        self.panel.fields[name].set(int(seed))
        self._sync_marks()
        self.picked.emit(name, int(seed))

    def picture(self, seed: int) -> QPixmap | None:
        """The picture of ``seed`` drawn with the panel's current values (None if not yet)."""
        key = self._cache_key()
        return None if key is None else self._cache.get((*key, int(seed)))

    def is_busy(self) -> bool:
        return self._job_id is not None

    def refresh(self) -> None:
        """Draw the page again (after an error, or with a model file replaced on disk)."""
        key = self._cache_key()
        if key is not None:
            for k in [k for k in self._cache if k[:-1] == key]:
                del self._cache[k]
        self._key = None
        self._show_page()
        self.request()

    def request(self) -> None:
        """Start drawing the pictures of the page that are not drawn yet (no-op when hidden
        or when nothing the pictures depend on changed)."""
        if not self.isVisible():
            return
        try:
            values = self.panel.values()
        except ValueError as exc:
            self._show_message(str(exc))
            return
        from ganpaint.engine.jobs.thumbnails import thumbnail_params

        params = thumbnail_params(self.spec, self.targets[0], values)
        size = self._size()
        key = (_params_key(params), size, self.page)
        if key == self._key:
            return
        self._key = key
        self._show_message("")
        cache_key = (key[0], size)
        missing = [s for s in self.seeds() if (*cache_key, s) not in self._cache]
        self._show_page()
        self._unregister()
        if not missing:  # every picture is at hand: a job still drawing older ones can stop
            job_id, self._job_id = self._job_id, None
            if job_id is not None:
                self.jobs.cancel(job_id)
            self._set_status("", None)
            return
        from ganpaint.engine.jobs.thumbnails import make_thumbnail_job

        self._token = token = next(_tokens)
        self._token_keys[token] = cache_key
        while len(self._token_keys) > 8:
            self._token_keys.pop(next(iter(self._token_keys)))
        relay = _the_relay()
        relay.register(token, self)
        self._waiting = set(missing)
        self._requested = len(missing)
        job = make_thumbnail_job(
            self.ref, params, missing, size, tool_id=self.spec.id, deliver=functools.partial(relay.post, token),
            key=f"thumbnails:{id(self)}", title=f"{self.spec.title}: pictures of seeds {missing[0]}-{missing[-1]}",
        )
        self._job_id = job.id
        self._set_status("Waiting for the job queue…", 0.0)
        try:
            self.jobs.submit(job, mode="replace")
        except (RuntimeError, ValueError) as exc:  # the queue is shutting down (the window closes)
            self._job_id, self._key = None, None
            self._set_status("", None)
            self._show_message(f"The pictures cannot be drawn: {exc}")

    # ------------------------------------------------------------ events

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        self._sync_marks()
        self.request()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self._stop()
        super().hideEvent(event)

    def _stop(self) -> None:
        job_id, self._job_id = self._job_id, None
        self._unregister()
        self._key = None
        if job_id is not None:
            self.jobs.cancel(job_id)
        self._set_status("", None)

    def _unregister(self) -> None:
        if self._token:
            _the_relay().unregister(self._token)

    def _on_values_changed(self, _values: Any) -> None:
        self._sync_marks()
        self.request()

    def _on_pictures(self, token: int, seeds: tuple[int, ...], pictures: list[Any]) -> None:
        from ganpaint.qt.qimage import rgba_to_qimage

        cache_key = self._token_keys.get(token)
        if cache_key is None:
            return
        for seed, arr in zip(seeds, pictures, strict=False):
            pm = QPixmap.fromImage(rgba_to_qimage(arr))
            self._cache[(*cache_key, int(seed))] = pm
            self._cache.move_to_end((*cache_key, int(seed)))
        while len(self._cache) > CACHE_LIMIT:
            self._cache.popitem(last=False)
        if token != self._token:
            return  # drawn for an earlier page or values: kept, not shown
        self._waiting.difference_update(int(s) for s in seeds)
        done = self._requested - len(self._waiting)
        self._set_status(f"{done} of {self._requested} pictures", done / max(1, self._requested))
        self._show_page()

    def _on_progress(self, msg: ProgressMessage) -> None:
        if msg.job_id != self._job_id:
            return
        done = self._requested - len(self._waiting)
        text = msg.message if done == 0 and msg.message else f"{done} of {self._requested} pictures"
        self._set_status(text, msg.fraction)

    def _on_finished(self, msg: FinishedMessage) -> None:
        if msg.job_id != self._job_id:
            return
        self._job_id = None
        self.jobs.forget(msg.job_id)
        if msg.state is JobState.DONE:
            self._set_status("", None)
            return
        self._key = None  # the next change, Refresh or reopening tries again
        if msg.state is JobState.FAILED:
            self._set_status("", None)
            self._show_message(f"The pictures could not be drawn: {msg.error or 'the job failed'}")
        else:
            self._set_status("Stopped. Refresh to draw the pictures.", None)
        self._show_page()

    def _on_tile_clicked(self, index: int) -> None:
        tile = self.tiles[index]
        if tile.seed >= 0:
            self.pick(tile.seed)
        self._sync_marks()

    def _on_tile_menu(self, index: int, pos: QPoint) -> None:
        tile = self.tiles[index]
        if tile.seed < 0:
            return
        menu = self._tile_menu(tile.seed)
        menu.exec(tile.mapToGlobal(pos))

    def _tile_menu(self, seed: int) -> QMenu:
        menu = QMenu(self)
        for t in self.targets:
            act = menu.addAction(f"Use seed {seed} for {t.title}")
            act.triggered.connect(functools.partial(self.pick, seed, t.name))
        return menu

    # ------------------------------------------------------------ display

    def _size(self) -> int:
        return max(16, int(round(THUMB * self.devicePixelRatioF())))

    def _cache_key(self) -> tuple[Any, ...] | None:
        try:
            values = self.panel.values()
        except ValueError:
            return None
        from ganpaint.engine.jobs.thumbnails import thumbnail_params

        return (_params_key(thumbnail_params(self.spec, self.targets[0], values)), self._size())

    def _update_hint(self, *_: Any) -> None:
        name = self.target()
        title = self.spec.param(name).title
        more = " Right-click a picture to choose which seed it sets." if len(self.targets) > 1 else ""
        self.hint.setText(f"Click a picture to use its seed for {title}.{more}")
        self._sync_marks()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text and self.isVisible():  # grow to make room for it (wrapped text is taller than it claims)
            self.layout().activate()
            hint = self.sizeHint()
            if self.width() < hint.width() or self.height() < hint.height():
                self.resize(max(self.width(), hint.width()), max(self.height(), hint.height()))

    def _set_status(self, text: str, fraction: float | None) -> None:
        self.status.setText(text)
        self.progress.setVisible(fraction is not None)
        if fraction is not None:
            self.progress.setValue(int(round(fraction * 1000)))

    def _placeholder(self, text: str) -> QPixmap:
        dpr = self.devicePixelRatioF()
        pm = QPixmap(int(THUMB * dpr), int(THUMB * dpr))
        pm.setDevicePixelRatio(dpr)
        colour = QColor(self.palette().mid().color())
        colour.setAlpha(60)
        pm.fill(colour)
        if text:
            p = QPainter(pm)  # logical pixels: the pixmap carries the device pixel ratio
            p.setPen(self.palette().text().color())
            p.drawText(QRect(0, 0, THUMB, THUMB), Qt.AlignmentFlag.AlignCenter, text)
            p.end()
        return pm

    def _show_page(self) -> None:
        seeds = self.seeds()
        first, last = seeds[0], seeds[-1]
        self.page_label.setText(f"Seeds {first}–{last}")
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < LAST_PAGE)
        key = self._cache_key()
        failed = self.message.isVisible()
        dpr = self.devicePixelRatioF()
        empty: QPixmap | None = None
        for i, tile in enumerate(self.tiles):
            seed = seeds[i] if i < len(seeds) else -1
            tile.seed = seed
            tile.setVisible(seed >= 0)
            if seed < 0:
                continue
            pm = self._cache.get((*key, seed)) if key is not None else None
            if pm is not None:
                side = int(THUMB * dpr)
                if pm.width() != side:
                    pm = pm.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
                pm.setDevicePixelRatio(dpr)
                tile.setIcon(QIcon(pm))
                tile.setProperty("drawn", True)
            else:
                if empty is None:
                    empty = self._placeholder("—" if failed else "…")
                tile.setIcon(QIcon(empty))
                tile.setProperty("drawn", False)
        self._sync_marks()

    def _sync_marks(self) -> None:
        current: dict[str, int] = {}
        for t in self.targets:
            try:
                current[t.name] = int(self.panel.fields[t.name].get())
            except (TypeError, ValueError):
                continue
        single = len(self.targets) == 1
        aim = self.spec.param(self.target()).title
        for tile in self.tiles:
            tile.setToolTip(f"Seed {tile.seed}: click to use it for {aim}" + ("" if single else
                            "; right-click to choose which seed it sets"))
            marks = [self._marks[n] for n, s in current.items() if s == tile.seed]
            tile.setChecked(bool(marks))
            if not marks:
                tile.setText(str(tile.seed))
            elif single:
                tile.setText(f"{tile.seed} ✓")
            else:
                tile.setText(f"{tile.seed} · {' '.join(marks)}")


class SeedPickers(QObject):
    """The grid buttons of one ParamPanel's seed parameters that have thumbnails.

    ``SeedPickers(panel, jobs)``: ``jobs`` is the editor's JobBridge (a bare JobQueue is
    wrapped in one); without it the buttons are disabled (no queue to draw with).
    ``open(name)`` shows the grid of ``name`` with ``name`` as the target and returns it.
    """

    def __init__(self, panel: Any, jobs: Any = None) -> None:
        super().__init__(panel)
        self.panel = panel
        self.jobs = _as_bridge(jobs, self)
        self.buttons: dict[str, QToolButton] = {}
        self.grids: dict[tuple[Any, ...], SeedGrid] = {}
        for name, field in panel.fields.items():
            spec: ParamSpec = field.spec
            if spec.kind != "seed" or not spec.thumbnails:
                continue
            b = QToolButton()
            b.setIcon(icon("seed-grid"))
            b.setObjectName(f"pick_{name}")
            if self.jobs is None:
                b.setEnabled(False)
                b.setToolTip("Pictures of seeds need the editor's job queue")
            else:
                b.setToolTip(f"Pick {spec.title} from a grid of pictures…")
            b.clicked.connect(functools.partial(self.open, name))
            layout = field.layout()
            if layout is not None:
                layout.addWidget(b)
            self.buttons[name] = b

    def _group(self, name: str) -> tuple[tuple[Any, ...], list[str]]:
        p = self.panel.spec.param(name)
        key = (p.thumbnails, p.thumbnail_params)
        names = [q.name for q in self.panel.spec.params
                 if q.kind == "seed" and (q.thumbnails, q.thumbnail_params) == key]
        return key, names

    def grid(self, name: str) -> SeedGrid | None:
        return self.grids.get(self._group(name)[0])

    def open(self, name: str, *_: Any) -> SeedGrid:
        if self.jobs is None:
            raise RuntimeError("no job queue to draw seed pictures with")
        key, names = self._group(name)
        grid = self.grids.get(key)
        if grid is None or not isValid(grid):
            grid = SeedGrid(self.panel, names, self.jobs)
            self.grids[key] = grid
        grid.set_target(name)
        if not grid.isVisible():
            grid.show_seed(int(self.panel.fields[name].get()))
        grid.show()
        grid.raise_()
        grid.activateWindow()
        return grid


def _as_bridge(jobs: Any, parent: QObject) -> Any:
    if jobs is None or hasattr(jobs, "jobFinished"):
        return jobs
    from ganpaint.qt.bridge import JobBridge

    return JobBridge(jobs, parent)
