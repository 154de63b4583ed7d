"""Real processes for the server and fault tests: gunicorn, Celery workers, a Redis server of their own and a
TCP proxy in front of PostgreSQL. Everything listens on 127.0.0.1 only, on free ports, and stops by itself."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, timeout: float = 60, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited ({process.returncode}):\n{log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on port {port} after {timeout} s")
        time.sleep(0.2)


def stop(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """TERM, then KILL if it has not stopped; the whole process group (a worker's children too)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def database_url(*, port: int | None = None) -> str:
    """The test database (pytest-django's), reached directly or through another port (a proxy)."""
    database = settings.DATABASES["default"]
    user = f"{database['USER']}@" if database.get("USER") else ""
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{user}{host}:{port or database['PORT'] or 5432}/{database['NAME']}"


def start(command: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    """A process in its own group (so that stop() reaches its children), its output in `log`."""
    with open(log, "w") as output:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_worker(*, env: dict, log: Path, concurrency: int = 1) -> subprocess.Popen:
    """A `celery worker` like `make worker`'s (with its heartbeat and sweep), ready once it says so."""
    worker = start(
        [sys.executable, "-m", "celery", "-A", "digitsite", "worker", "-Q", "inference", "-c", str(concurrency)]
        + ["-l", "info", "--without-gossip", "--without-mingle"],
        env={"DJANGO_SETTINGS_MODULE": "digitsite.settings", **env},
        log=log,
    )
    deadline = time.monotonic() + 120
    while "ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop(worker)
            raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return worker


class RedisServer:
    """A redis-server of the test's own, on a free port, that the test may stop and start again.

    Never the shared one on 6379: other runs use it. Nothing is kept on disk, like a Redis without
    persistence restarting: what was queued when it stopped is lost.
    """

    def __init__(self, workdir: Path) -> None:
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = start(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.workdir)],
            env={},
            log=self.workdir / f"redis-{time.monotonic_ns()}.log",
        )
        wait_for_port(self.port, process=self.process, timeout=20)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; `refuse()` closes the port and cuts every open connection, as a
    database that went away does, and `accept()` opens it again. The server itself is never touched."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def accept(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="tcp-proxy", daemon=True)
        self._thread.start()

    def refuse(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            for pair in self._pairs:
                for end in pair:
                    with contextlib.suppress(OSError):
                        end.close()
            self._pairs.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, None)
        try:
            while not self._stopping.is_set():
                for key, _events in selector.select(timeout=0.2):
                    if key.data is None:
                        client, _address = self._listener.accept()
                        client.setblocking(True)
                        try:
                            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                        except OSError:
                            client.close()
                            continue
                        with self._lock:
                            self._pairs.append((client, server))
                        selector.register(client, selectors.EVENT_READ, server)
                        selector.register(server, selectors.EVENT_READ, client)
                        continue
                    source, destination = key.fileobj, key.data
                    try:
                        data = source.recv(65536)
                        if data:
                            destination.sendall(data)
                            continue
                    except OSError:
                        pass
                    for end in (source, destination):
                        with contextlib.suppress(KeyError, ValueError, OSError):
                            selector.unregister(end)
                        end.close()
        finally:
            selector.close()
