"""Running the app under uvicorn for ``vigil serve``: its logs in Vigil's format, and a shutdown that
lets the requests in flight finish.

On SIGTERM (or Ctrl-C) the process first says it is no longer ready (``/readyz`` answers 503) and,
for ``VIGIL_SHUTDOWN_DRAIN_SECONDS``, keeps serving, so that a load balancer that polls readiness
stops sending it requests before it stops listening. Then uvicorn closes the listener, waits up to
``VIGIL_SHUTDOWN_GRACE_SECONDS`` for the requests in flight to be answered, and runs the app's
lifespan shutdown, which stops the background loops after their current step (a webhook delivery
in flight completes, or its lease runs out and another process takes it). The process then exits
with status 0: a shutdown asked for is not a failure.
"""

from __future__ import annotations

import math
import signal
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI

from vigil.config import Settings


class DrainingServer(uvicorn.Server):
    """uvicorn's server, which marks the app as draining on the first signal to stop, and waits the
    drain period before it begins uvicorn's own graceful shutdown. A second signal stops at once."""

    def __init__(self, config: uvicorn.Config, draining: threading.Event, drain_seconds: float) -> None:
        super().__init__(config)
        self.draining = draining
        self.drain_seconds = drain_seconds
        self._timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self.draining.is_set()
        self.draining.set()
        if first and self.drain_seconds > 0:
            self._timer = threading.Timer(self.drain_seconds, super().handle_exit, (sig, frame))
            self._timer.daemon = True
            self._timer.start()
            return
        if self._timer is not None:
            self._timer.cancel()
        super().handle_exit(sig, frame)


def _stopped(_sig: int, _frame: FrameType | None) -> None:
    """The handler uvicorn re-raises the stopping signal to once it has shut down: the shutdown is
    done, so there is nothing left to do but return and exit 0 (the default handler would end the
    process with the signal, which supervisors report as a crash)."""


def serve_app(application: FastAPI, settings: Settings, host: str, port: int) -> None:
    """Serve ``application`` on ``host:port`` until SIGTERM or SIGINT, then shut down gracefully."""
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_config=None,  # the root logger's handler (vigil/observe/logs.py) writes uvicorn's lines
        log_level=settings.log_level,
        access_log=True,  # written at info: shown only where VIGIL_LOG_LEVEL=info or debug
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
    )
    server = DrainingServer(config, application.state.draining, settings.shutdown_drain_seconds)
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
