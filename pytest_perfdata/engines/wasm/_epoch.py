"""The epoch ticker: advances a wasmtime engine's epoch while calls run, so deadlines are wall-clock."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any, Final

__all__ = ["EPOCH_TICK_S", "EpochTicker"]

EPOCH_TICK_S: Final = 0.005
_IDLE_WAIT_S: Final = 0.5  # how often an idle ticker checks whether its owner is gone
_WARM_S: Final = 1.0  # how long the ticker keeps polling after the last call


class EpochTicker:
    """Advances an engine's epoch while calls run, and sleeps when none has run for a while.

    A ticker that ran all the time would take the GIL 200 times a second and disturb every
    other measurement in the process; one that slept between calls would be woken by every
    call. This one stays warm for :data:`_WARM_S` after the last call, then waits on an
    event that the next call sets. Ticks are counted from the monotonic clock, and only while a
    call is in flight, so a late wake-up does not stretch a timeout and idle time never counts.
    """

    __slots__ = ("__weakref__", "_engine", "_thread", "active", "calls", "idle", "wake")

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._thread: threading.Thread | None = None  # started by the first call, not before
        self.active = 0
        self.calls = 0
        self.idle = True
        self.wake = threading.Event()

    def enter(self) -> None:
        self.active += 1
        self.calls += 1
        if self.idle:
            self.idle = False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=_run_ticker,
                    args=(weakref.ref(self), self._engine),
                    name="perfdata-wasm-epoch",
                    daemon=True,
                )
                self._thread.start()
            self.wake.set()

    def leave(self) -> None:
        self.active -= 1


def _run_ticker(ref: weakref.ReferenceType[EpochTicker], engine: Any) -> None:
    """The thread's loop; it holds its ticker weakly and ends once the ticker's owner is gone."""
    last_tick = last_call = time.monotonic()
    seen = -1
    while True:
        ticker = ref()
        if ticker is None:
            return  # its WasmtimeEmbedded is gone
        now = time.monotonic()
        if ticker.active > 0:
            due = int((now - last_tick) / EPOCH_TICK_S)
            for _ in range(due):
                engine.increment_epoch()
            last_tick += due * EPOCH_TICK_S
            last_call = now
        else:
            last_tick = now
            if ticker.calls != seen:
                seen = ticker.calls
                last_call = now
            elif now - last_call > _WARM_S:
                wake = ticker.wake
                wake.clear()
                ticker.idle = True
                if ticker.active > 0 or ticker.calls != seen:  # a call slipped in: stay awake
                    ticker.idle = False
                    continue
                del ticker
                wake.wait(_IDLE_WAIT_S)
                last_tick = time.monotonic()
                continue
        del ticker
        time.sleep(EPOCH_TICK_S)
