"""A throw-away PostgreSQL cluster on 127.0.0.1 for tests: initdb, postgres, createdb, stop.

The server is a direct child of this process (no ``pg_ctl`` daemon) and asks the kernel to
kill it if this process dies, so even a killed test run leaves no postgres behind. As root it
runs as the ``postgres`` system user, because initdb and postgres refuse to run as root.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

START_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 15.0
_PR_SET_PDEATHSIG: Final = 1
_FAST_SETTINGS: Final = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
)


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries are installed."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb, or ``$PG_BIN_DIR``."""
    override = os.environ.get("PG_BIN_DIR")
    candidates = [Path(override)] if override else []
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in [*candidates, *versions]:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresNotFound(
        "PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin or on PATH; "
        "install it with `apt-get install -y postgresql` or set PG_BIN_DIR"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Runs in the child after it switched user, so the kernel keeps the setting.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class PostgresServer:
    """One cluster; ``start()`` then ``url(database)``, always ``stop()``."""

    bin_dir: Path = field(default_factory=find_bin_dir)
    user: str = "postgres"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    port: int = 0
    root: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def _run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def start(self) -> None:
        """Create the cluster in a fresh temporary directory and wait until it accepts clients."""
        self.root = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
        atexit.register(self.stop)
        if self._run_as:
            account = pwd.getpwnam(self._run_as)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        password_file = self.root / "password"
        password_file.write_text(self.password)
        if self._run_as:
            os.chown(password_file, pwd.getpwnam(self._run_as).pw_uid, -1)
        self._run(
            "initdb",
            "--pgdata",
            str(self.root / "data"),
            "--username",
            self.user,
            "--pwfile",
            str(password_file),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        password_file.unlink()
        for _ in range(3):
            self.port = _free_port()
            if self._launch():
                return
        raise RuntimeError(f"postgres did not start; see {self.root / 'postgres.log'}")

    def _launch(self) -> bool:
        assert self.root is not None
        settings = [
            *_FAST_SETTINGS,
            "listen_addresses=127.0.0.1",
            f"port={self.port}",
            f"unix_socket_directories={self.root}",
        ]
        command = [str(self.bin_dir / "postgres"), "-D", str(self.root / "data")]
        for setting in settings:
            command += ["-c", setting]
        log = (self.root / "postgres.log").open("ab")
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=self._run_as,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"postgres not ready after {START_TIMEOUT_SECONDS}s; see the log")

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """An asyncpg URL for ``database`` over TCP on loopback."""
        secret = self.password if password is None else password
        return f"postgresql+asyncpg://{self.user}:{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql over the cluster's Unix socket and return its output."""
        assert self.root is not None
        result = self._run(
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.root),
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
            "-c",
            sql,
        )
        return result.stdout.decode().strip()

    def stop(self) -> None:
        """Fast shutdown (SIGINT), SIGKILL if it hangs, then delete the cluster."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        atexit.unregister(self.stop)

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            capture_output=True,
            user=self._run_as,
            cwd=self.root,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({result.returncode}): {result.stderr.decode().strip()}"
            )
        return result
