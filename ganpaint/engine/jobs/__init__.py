"""ganpaint.engine.jobs: background jobs (the queue), the tool runner, and the worker processes tools run in.

``queue`` holds the lanes, states and messages; ``runner`` runs one tool and checks its
result; ``workers`` is the pool of per-plugin worker processes (``child`` is what runs
inside one); ``shm`` moves pictures between them through shared memory. The names below
are the queue's, re-exported so ``from ganpaint.engine.jobs import JobQueue`` keeps working.
"""

from ganpaint.engine.jobs.queue import (
    INTERACTIVE,
    TRAINING,
    DeviceResolver,
    FinishedMessage,
    Job,
    JobContext,
    JobEvents,
    JobQueue,
    JobState,
    ModelResolver,
    ProgressMessage,
    QueueMode,
    StateMessage,
    describe_error,
    drive_generator,
    freeze,
    is_interactive,
    one_line,
)

__all__ = [
    "INTERACTIVE",
    "TRAINING",
    "DeviceResolver",
    "FinishedMessage",
    "Job",
    "JobContext",
    "JobEvents",
    "JobQueue",
    "JobState",
    "ModelResolver",
    "ProgressMessage",
    "QueueMode",
    "StateMessage",
    "describe_error",
    "drive_generator",
    "freeze",
    "is_interactive",
    "one_line",
]
