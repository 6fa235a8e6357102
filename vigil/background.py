"""Background work inside `vigil serve`: a thread that repeats one step until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PollingThread:
    """Runs ``step`` again at once while it finds work, and every ``poll_seconds`` when it does not.

    A failing step is logged and retried on the next poll: a database that is briefly unreachable
    must not end webhook delivery or retroactive matching for the life of the process.
    """

    def __init__(self, name: str, step: Callable[[], bool], poll_seconds: float) -> None:
        self.name = name
        self.step = step
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception:
                log.exception("%s failed; retrying", self.name)
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
