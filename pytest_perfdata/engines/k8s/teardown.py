"""Clean-up that runs exactly once, whichever comes first: the fixture's finalizer, exit, or SIGTERM/SIGHUP."""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

__all__ = ["Teardown"]


class Teardown:
    """Runs the cleanup once, whichever comes first: the fixture's finalizer, exit, or SIGTERM/SIGHUP.

    On SIGTERM or SIGHUP it raises ``KeyboardInterrupt`` in the main thread, so pytest unwinds
    as after Ctrl-C and tears the fixture down; ``atexit`` is the backstop. Only signals whose
    handler is still the default are taken over, and they are handed back afterwards.
    """

    SIGNALS: Final = ("SIGTERM", "SIGHUP")

    def __init__(self, cleanup: Callable[[], None]) -> None:
        self._cleanup = cleanup
        self._lock = threading.Lock()
        self._done = False
        self._previous: dict[int, Any] = {}

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self.uninstall()
        self._cleanup()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}: cleaning up the K3s namespace")

    def install(self) -> None:
        atexit.register(self)
        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) is signal.SIG_DFL:
                self._previous[number] = signal.signal(number, self._on_signal)

    def uninstall(self) -> None:
        atexit.unregister(self)
        if threading.current_thread() is threading.main_thread():
            for number, previous in self._previous.items():
                if signal.getsignal(number) == self._on_signal:
                    signal.signal(number, previous)
        self._previous.clear()
