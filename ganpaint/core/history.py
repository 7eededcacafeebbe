"""Undoable commands and the history that holds them.

A ``Command`` changes a target (the Document) in ``do`` and restores it exactly in
``undo``. ``History`` keeps a linear list of commands and the position ``index`` (how many
are applied). Its memory is bounded: ``nbytes`` of every kept command is summed and, when
the sum exceeds ``limit_mb``, the oldest steps are dropped (the document is never touched;
only the ability to undo that far back is lost).

Commands hold references to Layer/Selection objects and array copies. The invariant that
makes sharing safe: every change to the document goes through a command, so when a
command is undone or redone the document is in exactly the state it left it in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["CompoundCommand", "Command", "History"]


class Command:
    """Base class of undoable changes.

    Subclasses set ``title`` and implement ``do``/``undo``; ``nbytes`` is the memory this
    step keeps alive beyond what the document itself holds (array copies, removed layers).
    ``merge`` may absorb a following command of the same kind (slider drags) into one step.
    """

    title: str = "Change"

    def do(self, doc: Any) -> None:
        raise NotImplementedError

    def undo(self, doc: Any) -> None:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        return 0

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (already done) into this step; return True when merged."""
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.title!r}>"


class CompoundCommand(Command):
    """Several commands as one history step (done in order, undone in reverse)."""

    def __init__(self, title: str, commands: Sequence[Command]) -> None:
        self.title = title
        self.commands = list(commands)

    def do(self, doc: Any) -> None:
        done: list[Command] = []
        try:
            for c in self.commands:
                c.do(doc)
                done.append(c)
        except BaseException:
            for c in reversed(done):  # leave the document as it was
                c.undo(doc)
            raise

    def undo(self, doc: Any) -> None:
        for c in reversed(self.commands):
            c.undo(doc)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands)


class History:
    """A linear undo/redo list with a memory limit and a clean (saved) mark.

    ``target`` is passed to every command's do/undo. ``on_change`` is called after every
    change of the list or position (the Document forwards it as ``events.history_changed``).
    """

    def __init__(
        self, target: Any = None, limit_mb: float = 512.0, on_change: Callable[[], None] | None = None
    ) -> None:
        self.target = target
        self._commands: list[Command] = []
        self._sizes: list[int] = []
        self._index = 0
        self._clean: int | None = 0
        self._limit_bytes = int(limit_mb * 1024 * 1024)
        self._busy = False
        self._top_mergeable = False  # the newest step was pushed with merge=True
        self.on_change = on_change
        #: how many steps were dropped to honour the memory limit since creation
        self.dropped = 0

    # -- state -------------------------------------------------------------------------------
    @property
    def entries(self) -> list[str]:
        """Titles of all kept steps, oldest first (applied ones are ``entries[:index]``)."""
        return [c.title for c in self._commands]

    @property
    def commands(self) -> list[Command]:
        return list(self._commands)

    @property
    def index(self) -> int:
        """Number of applied steps; 0 = at the oldest kept state."""
        return self._index

    @property
    def limit_mb(self) -> float:
        return self._limit_bytes / (1024 * 1024)

    @limit_mb.setter
    def limit_mb(self, value: float) -> None:
        self._limit_bytes = int(value * 1024 * 1024)
        if self._trim():
            self._changed()

    @property
    def nbytes(self) -> int:
        """Memory held by the kept steps."""
        return sum(self._sizes)

    def can_undo(self) -> bool:
        return self._index > 0 and not self._busy

    def can_redo(self) -> bool:
        return self._index < len(self._commands) and not self._busy

    def undo_title(self) -> str | None:
        return self._commands[self._index - 1].title if self._index > 0 else None

    def redo_title(self) -> str | None:
        return self._commands[self._index].title if self._index < len(self._commands) else None

    def is_clean(self) -> bool:
        """True when the document is as it was at the last ``mark_clean`` (i.e. saved)."""
        return self._clean == self._index

    def mark_clean(self) -> None:
        self._clean = self._index
        self._changed()

    def checkpoint(self) -> tuple[Command | None, int]:
        """A token for the state the target is in now, for :meth:`mark_clean_at` once a save
        of it (made from a snapshot, in the background) has finished. The newest step stops
        absorbing merges, so the token's step keeps meaning exactly this state."""
        self._top_mergeable = False
        return (self._commands[self._index - 1] if self._index > 0 else None, self.dropped)

    def mark_clean_at(self, token: tuple[Command | None, int]) -> None:
        """Record that the state of ``token`` (from :meth:`checkpoint`) was saved, although
        steps may have been done, undone or dropped since; an unreachable state leaves no
        clean point."""
        cmd, dropped = token
        if cmd is None:
            self._clean = 0 if dropped == self.dropped else None
        else:
            self._clean = next((k + 1 for k, c in enumerate(self._commands) if c is cmd), None)
        self._changed()

    def mark_dirty(self) -> None:
        """Forget the clean state (e.g. the file was lost); ``is_clean`` stays False."""
        self._clean = None
        self._changed()

    # -- changes -----------------------------------------------------------------------------
    def push(self, cmd: Command, *, done: bool = False, merge: bool = False) -> None:
        """Do ``cmd`` (unless ``done=True``: it was applied live, e.g. a brush stroke) and record it.

        With ``merge=True`` the command may be absorbed by the previous step
        (``Command.merge``) when that step was also pushed with ``merge=True``, is the newest
        one and is not the saved state (a slider drag becomes one step).
        """
        if self._busy:
            raise RuntimeError(f"cannot record {cmd.title!r} while the history is undoing or redoing")
        if not done:
            self._busy = True
            try:
                cmd.do(self.target)
            finally:
                self._busy = False
        self._drop_redo()
        if (
            merge
            and self._top_mergeable
            and self._index > 0
            and self._index == len(self._commands)
            and self._clean != self._index
            and self._commands[-1].merge(cmd)
        ):
            self._sizes[-1] = self._commands[-1].nbytes
        else:
            self._commands.append(cmd)
            self._sizes.append(cmd.nbytes)
            self._index += 1
        self._top_mergeable = merge
        self._trim()
        self._changed()

    def undo(self) -> bool:
        if not self.can_undo():
            return False
        self._busy = True
        try:
            self._commands[self._index - 1].undo(self.target)
        finally:
            self._busy = False
        self._index -= 1
        self._top_mergeable = False
        self._changed()
        return True

    def redo(self) -> bool:
        if not self.can_redo():
            return False
        self._busy = True
        try:
            self._commands[self._index].do(self.target)
        finally:
            self._busy = False
        self._index += 1
        self._top_mergeable = False
        self._changed()
        return True

    def goto(self, index: int) -> None:
        """Undo or redo until ``index`` steps are applied (History panel clicks)."""
        index = max(0, min(index, len(self._commands)))
        while self._index > index and self.undo():
            pass
        while self._index < index and self.redo():
            pass

    def clear(self) -> None:
        """Forget every step (the document stays as it is)."""
        clean = self.is_clean()
        self._commands.clear()
        self._sizes.clear()
        self._index = 0
        self._clean = 0 if clean else None
        self._changed()

    # -- internals ---------------------------------------------------------------------------
    def _drop_redo(self) -> None:
        if self._index < len(self._commands):
            del self._commands[self._index :]
            del self._sizes[self._index :]
            if self._clean is not None and self._clean > self._index:
                self._clean = None  # the saved state can no longer be reached

    def _trim(self) -> bool:
        """Drop the oldest steps (then the newest redo steps) until under the limit."""
        trimmed = False
        total = sum(self._sizes)
        while total > self._limit_bytes and self._commands:
            if self._index > 0:
                total -= self._sizes.pop(0)
                self._commands.pop(0)
                self._index -= 1
                if self._clean is not None:
                    self._clean = self._clean - 1 if self._clean > 0 else None
            else:
                total -= self._sizes.pop()
                self._commands.pop()
                if self._clean is not None and self._clean > len(self._commands):
                    self._clean = None
            self.dropped += 1
            trimmed = True
        return trimmed

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
