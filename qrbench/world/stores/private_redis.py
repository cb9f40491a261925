"""A redis-server of qrbench's own, for runs that name no Redis.

It listens on a unix socket in a private temp dir and on no TCP port, keeps nothing on
disk, and is stopped by `stop()`, by leaving its `with` block, or at interpreter exit,
whichever comes first. When qrbench is killed outright (SIGKILL) the kernel kills it too,
and the next run's sweep (`qrbench.leftovers`) removes its dir.
"""

import contextlib
import shutil
import subprocess
import time
import weakref
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

from qrbench.errors import EnvironmentProblem
from qrbench.leftovers import dying_with_this_process, owned_tempdir

EXECUTABLE = "redis-server"
START_TIMEOUT_S = 10.0
STOP_GRACE_S = 3.0
_POLL_INTERVAL_S = 0.02
_LOG_TAIL_CHARS = 500


def redis_server_path() -> str | None:
    return shutil.which(EXECUTABLE)


def _stop(process: subprocess.Popen[bytes], directory: Path) -> None:
    """Module-level so that the finalizer holds no reference to the PrivateRedis."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    shutil.rmtree(directory, ignore_errors=True)


class PrivateRedis:
    def __init__(self, *, start_timeout_s: float = START_TIMEOUT_S) -> None:
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._directory: Path | None = None
        self._finalizer: weakref.finalize | None = None

    @property
    def socket_path(self) -> Path:
        if self._directory is None:
            raise RuntimeError("PrivateRedis is not started")
        return self._directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("PrivateRedis is not started")
        return self._process.pid

    def start(self) -> "PrivateRedis":
        """Start redis-server and return once it answers PING; EnvironmentProblem if it cannot."""
        if self._process is not None:
            raise RuntimeError("PrivateRedis is already started")
        executable = redis_server_path()
        if executable is None:
            raise EnvironmentProblem(
                f"{EXECUTABLE} not found on PATH: install it (apt-get install redis-server) "
                "or point QRBENCH_REDIS_URL at a running Redis"
            )
        self._directory = directory = owned_tempdir("qrbench-redis-")
        log_path = directory / "redis.log"
        try:
            with log_path.open("wb") as log:
                self._process = process = subprocess.Popen(
                    [
                        executable,
                        "--port", "0",
                        "--unixsocket", str(self.socket_path),
                        "--unixsocketperm", "700",
                        "--save", "",
                        "--appendonly", "no",
                        "--daemonize", "no",
                        "--dir", str(directory),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Out of our process group: Ctrl-C must not kill Redis while qrbench's
                    # cleanup still saves or reads sessions; qrbench stops it itself.
                    start_new_session=True,
                    preexec_fn=dying_with_this_process(),
                )  # fmt: skip
        except OSError as error:
            shutil.rmtree(directory, ignore_errors=True)
            raise EnvironmentProblem(f"cannot start {executable}: {error}") from error
        self._finalizer = weakref.finalize(self, _stop, process, directory)
        try:
            self._wait_until_ready(process, log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self, process: subprocess.Popen[bytes], log_path: Path) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        client = Redis(unix_socket_path=str(self.socket_path), socket_timeout=1.0)
        with contextlib.closing(client):
            while True:
                if process.poll() is not None:
                    raise EnvironmentProblem(
                        f"{EXECUTABLE} exited with code {process.returncode} at start: "
                        f"{_tail(log_path)}"
                    )
                if self.socket_path.exists():
                    with contextlib.suppress(RedisError, OSError):
                        client.ping()
                        return
                if time.monotonic() > deadline:
                    raise EnvironmentProblem(
                        f"{EXECUTABLE} did not answer PING within {self._start_timeout_s:g} s: "
                        f"{_tail(log_path)}"
                    )
                time.sleep(_POLL_INTERVAL_S)

    def stop(self) -> None:
        """Terminate redis-server (kill it after a grace period) and remove its directory."""
        if self._finalizer is not None:
            self._finalizer()  # runs _stop at most once, whoever calls first

    def __enter__(self) -> "PrivateRedis":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _tail(log_path: Path) -> str:
    try:
        text = log_path.read_text(errors="replace").strip()
    except OSError:
        return "(no log)"
    return text[-_LOG_TAIL_CHARS:] or "(empty log)"
