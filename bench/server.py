"""gunicorn as a subprocess on a free loopback port: started, waited for, stopped cleanly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS just had free on ``host`` (closed again, so gunicorn can bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn master serving ``app_spec`` (``module:app`` or ``module:factory()``) on a free loopback port."""

    def __init__(self, app_spec: str, env: dict[str, str] | None = None, workers: int = 2,
                 worker_class: str = "sync", threads: int = 1, host: str = "127.0.0.1",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.app_spec, self.workers, self.host = app_spec, workers, host
        self.env = {**os.environ, **(env or {})}
        self.worker_class, self.threads, self.extra_args = worker_class, threads, extra_args
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix="vcc-bench-gunicorn-", suffix=".log")[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout: float = 30.0) -> Server:
        """Start gunicorn and return once ``ready_path`` answers 200 (or raise with gunicorn's log)."""
        self.port = free_port(self.host)
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"{self.host}:{self.port}",
               "--chdir", str(PROJECT_ROOT), "--worker-class", self.worker_class, "--log-level", "warning",
               "--error-logfile", str(self._log), "--worker-tmp-dir", "/dev/shm" if Path("/dev/shm").is_dir()
               else tempfile.gettempdir()]
        if self.threads > 1:
            cmd += ["--threads", str(self.threads)]
        cmd += [*self.extra_args, self.app_spec]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app_spec} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + ready_path, timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn {self.app_spec} did not answer {ready_path} in {timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful: workers finish their request), then SIGKILL if the master lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no gunicorn log)"

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.unlink(missing_ok=True)


@contextmanager
def serve(app_spec: str, env: dict[str, str] | None = None, workers: int = 2, *, worker_class: str = "sync",
          threads: int = 1, ready_path: str = "/healthz") -> Iterator[Server]:
    """``with serve("wsgi:app", env.service_env(), 2) as server:`` - gunicorn up and answering, then stopped."""
    with Server(app_spec, env, workers, worker_class, threads) as server:
        server.start(ready_path)
        yield server
