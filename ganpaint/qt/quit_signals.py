"""SIGTERM and SIGHUP end the editor gracefully (a logout, `kill`, a service manager, a closed terminal).

Python runs a signal handler only when the interpreter gets control, and inside Qt's event loop
that may be never; so the C-level handler writes the signal number to a socket
(:func:`signal.set_wakeup_fd`) that a ``QSocketNotifier`` watches, and the reaction runs on the
GUI thread. The editor then autosaves what changed since the last autosave (so the next start
offers it back, as after a crash), ends its worker processes and leaves with status 0, without
asking about unsaved changes: nobody is there to answer.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

#: the signals that mean "end the session": SIGTERM (kill, logout, systemd), SIGHUP (terminal closed)
QUIT_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def quit_on_signals(parent: QObject, on_signal: Callable[[int], None]) -> Iterator[None]:
    """While the block runs, each of :data:`QUIT_SIGNALS` calls ``on_signal(signum)`` on the GUI
    thread. The previous handlers and wakeup fd come back afterwards. Does nothing off POSIX or
    outside the main thread (where Python cannot install handlers)."""
    if os.name != "posix" or not QUIT_SIGNALS:
        yield
        return
    rsock, wsock = socket.socketpair()
    rsock.setblocking(False)
    wsock.setblocking(False)
    try:
        old_fd = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        rsock.close()
        wsock.close()
        yield
        return
    old_handlers = {s: signal.signal(s, lambda *_: None) for s in QUIT_SIGNALS}
    notifier = QSocketNotifier(rsock.fileno(), QSocketNotifier.Type.Read, parent)

    def ready() -> None:
        try:
            data = rsock.recv(256)
        except OSError:
            return
        for signum in dict.fromkeys(data):  # each signal once, in order
            if signum in QUIT_SIGNALS:
                log.info("%s received: autosaving and quitting", signal.Signals(signum).name)
                on_signal(signum)

    notifier.activated.connect(ready)
    try:
        yield
    finally:
        notifier.setEnabled(False)
        notifier.deleteLater()
        for s, h in old_handlers.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(old_fd)
        rsock.close()
        wsock.close()
