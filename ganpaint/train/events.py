"""What the training loop yields: one immutable event per step, then one at the end.

The command line, the editor and tests all consume the same stream. Each yield is
the point where the consumer may pause (simply not ask for the next event), cancel
(pass ``cancel=`` to :func:`ganpaint.train.train`, or stop iterating and call
``close()`` on the generator), or show a preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

EventKind = Literal["step", "done", "cancelled"]


class TrainError(Exception):
    """A problem the user can fix (bad data folder, mismatched resume, ...).

    The message is one line and names the file or folder at fault.
    """


@dataclass(frozen=True)
class TrainResult:
    """The final model of a run, ready for the model store.

    ``state_dict`` holds CPU tensors of the exported generator(s) (EMA weights
    when the recipe keeps an EMA); ``card`` is a JSON-serialisable dict with the
    architecture, config, recipe, data, counts, steps, time, losses and metric.
    """

    state_dict: Mapping[str, Any]
    card: Mapping[str, Any]
    metric_name: str
    metric: float | None


@dataclass(frozen=True)
class TrainEvent:
    """One report from the training loop.

    kind:
      ``step``       after each optimisation step;
      ``done``       the run reached ``total`` (``result`` is set);
      ``cancelled``  the run stopped early; ``checkpoint`` names the checkpoint
                     written just before (resume from it with ``resume=True``).
    ``samples`` maps a name (``"input"``, ``"output"``, ``"target"``, ...) to an
    (H, W, 3) float32 RGB picture in [0, 1] on the steps where samples were made.
    ``checkpoint`` is set on the steps where a checkpoint was written.
    """

    kind: EventKind
    step: int
    total: int
    losses: Mapping[str, float] = field(default_factory=dict)
    eta_s: float = 0.0
    steps_per_s: float = 0.0
    elapsed_s: float = 0.0
    samples: Mapping[str, np.ndarray] | None = None
    checkpoint: Path | None = None
    result: TrainResult | None = None

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0

    def describe(self) -> str:
        """A short line for a progress bar: ``G 1.23 D 0.45 ...``."""
        return " ".join(f"{k} {v:.3g}" for k, v in self.losses.items())
