import numpy as np
import pytest

from ganpaint.core.history import Command, CompoundCommand, History


class Append(Command):
    """Appends a value to target (a list); holds ``size`` bytes."""

    def __init__(self, value, size=0):
        self.title = f"append {value}"
        self.value = value
        self.size = size

    def do(self, target):
        target.append(self.value)

    def undo(self, target):
        assert target.pop() == self.value

    @property
    def nbytes(self):
        return self.size


class SetValue(Command):
    def __init__(self, key, old, new):
        self.title = f"set {key}"
        self.key, self.old, self.new = key, old, new

    def do(self, target):
        target[self.key] = self.new

    def undo(self, target):
        target[self.key] = self.old

    def merge(self, other):
        if isinstance(other, SetValue) and other.key == self.key:
            self.new = other.new
            return True
        return False


class Boom(Command):
    title = "boom"

    def do(self, target):
        raise RuntimeError("boom")


def test_undo_redo_and_entries():
    target = []
    changes = []
    h = History(target, on_change=lambda: changes.append(1))
    for v in range(3):
        h.push(Append(v))
    assert target == [0, 1, 2] and h.index == 3 and h.entries == ["append 0", "append 1", "append 2"]
    assert h.undo() and h.undo()
    assert target == [0] and h.can_redo() and h.redo_title() == "append 1"
    assert h.redo() and target == [0, 1]
    h.push(Append(9))  # drops the redo tail
    assert target == [0, 1, 9] and h.entries == ["append 0", "append 1", "append 9"] and not h.can_redo()
    assert len(changes) == 7
    h.goto(0)
    assert target == [] and not h.can_undo()
    h.goto(3)
    assert target == [0, 1, 9]


def test_clean_state_tracking():
    target = []
    h = History(target)
    assert h.is_clean()
    h.push(Append(1))
    assert not h.is_clean()
    h.mark_clean()
    h.push(Append(2))
    assert not h.is_clean()
    h.undo()
    assert h.is_clean()
    h.undo()
    h.push(Append(3))  # branch away: the saved state is unreachable
    assert not h.is_clean()
    h.undo()
    assert not h.is_clean()


def test_memory_limit_drops_oldest_steps_only():
    target = []
    h = History(target, limit_mb=1.0)
    for v in range(10):
        h.push(Append(v, size=300_000))
    assert h.nbytes <= 1024 * 1024
    assert len(h.entries) == 3 and h.dropped == 7
    assert target == list(range(10))  # the document itself is untouched
    while h.undo():
        pass
    assert target == list(range(7))  # only the kept steps were undone


def test_limit_change_trims_and_clean_mark_shifts():
    target = []
    h = History(target, limit_mb=10)
    for v in range(5):
        h.push(Append(v, size=1 << 20))
    h.mark_clean()
    h.limit_mb = 2
    assert len(h.entries) == 2 and h.index == 2 and h.is_clean()


def test_a_single_step_over_the_limit_is_not_kept():
    target = []
    h = History(target, limit_mb=1)
    h.push(Append(1, size=2 << 20))
    assert target == [1] and h.entries == [] and not h.can_undo()


def test_merge_of_consecutive_parameter_changes():
    target = {"a": 0}
    h = History(target)
    for v in (1, 2, 3):
        h.push(SetValue("a", target["a"], v), merge=True)
    assert len(h.entries) == 1 and target["a"] == 3
    h.undo()
    assert target["a"] == 0
    h.redo()
    h.mark_clean()
    h.push(SetValue("a", 3, 4), merge=True)  # never merge into the saved state
    assert len(h.entries) == 2


def test_failed_command_is_not_recorded():
    target = []
    h = History(target)
    with pytest.raises(RuntimeError):
        h.push(Boom())
    assert h.entries == [] and h.is_clean()


def test_compound_command_is_one_step_and_atomic():
    target = []
    h = History(target)
    h.push(CompoundCommand("two", [Append(1, 5), Append(2, 7)]))
    assert target == [1, 2] and h.entries == ["two"] and h.nbytes == 12
    h.undo()
    assert target == []
    with pytest.raises(RuntimeError):
        h.push(CompoundCommand("half", [Append(3), Boom()]))
    assert target == []  # the done half was undone


def test_no_recording_during_undo():
    target = []
    h = History(target)

    class Nested(Command):
        title = "nested"

        def do(self, t):
            pass

        def undo(self, t):
            h.push(Append(1))

    h.push(Nested())
    with pytest.raises(RuntimeError):
        h.undo()


def test_clear_keeps_clean_flag():
    h = History([])
    h.push(Append(1))
    h.clear()
    assert not h.is_clean() and h.entries == []
    assert np.isclose(History([], limit_mb=512).limit_mb, 512)
