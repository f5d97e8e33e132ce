"""Ingest throughput and delivery-to-verdict latency, end to end, on real services.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/ingest.py [--poll 20000]
        [--webhook 20000] [--per-delivery 100] [--rate 100] [--seconds 20] [--workers 2]

Starts the platform simulator (in this process), a Celery worker (prefork, --workers
processes) and gunicorn (2 workers) as subprocesses, against the PostgreSQL and Redis you
name (use a database of its own: the bench migrates it and adds rows). Then measures:

1. polling: a Facebook Page with --poll comments waiting in the simulator; one poll task is
   rung and the clock stops when every comment has a stored verdict (comments/s sustained
   through fetch -> upsert -> classify), and when every comment was stored;
2. webhooks: --webhook comments in signed Meta deliveries of --per-delivery comments each,
   POSTed to /hooks/meta/ by 4 threads as fast as gunicorn takes them; clock stops when
   every comment has a verdict;
3. latency: one-comment deliveries at --rate per second for --seconds; for each, the time
   from the moment the POST was sent to the verdict's created_at; p50/p95/max.

The comment mix is 90% ordinary comments and 10% (--flagged-share) texts from the
evaluation set (abuse, personal information, safeguarding, crisis), most of which need a
person (queue item, automatic decision, paging; judged in the same batch since the flagged
path was batched). The worker compiles the rule set once, in its main process before the
pool forks (config/celery.py); a warm-up still sends every process a task before timing.
Run on the same machine as PostgreSQL and Redis: all timings are wall-clock on one host.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/ingest.py` puts bench/ first on sys.path, where a sibling script could shadow
# a standard module (bench/queue.py once did); take it off and import from the project root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.devrun import ensure_database  # noqa: E402

ENV_DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "0",  # DEBUG would keep every query in memory
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1rZXktbm90LWZvci1wcm9kLTAwMDE=",
    "META_APP_SECRET": "bench-meta-app-secret",
    "META_VERIFY_TOKEN": "bench-verify",
    "X_CONSUMER_SECRET": "bench-x-secret",
    "LOG_LEVEL": "WARNING",
}
ORDINARY = [
    "Great to see the new diagnostic centre open in Grantham!",
    "Is the spring booster open to over 75s yet?",
    "Shared with my family group, really useful info about the flu jab.",
    "The ICB keeps cutting services in Skegness and nobody listens to us. Disgraceful decision.",
    "Pilgrim hospital parking charges are a rip off.",
    "I had my hip done at Louth, cracking job by the surgeon, back walking the dog already.",
    "Is the Assessment centre in Lincoln accessible by bus?",
    "Good initiative. More of this please.",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, *, timeout: float, every: float = 0.05, on_tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if on_tick:
            on_tick()
        time.sleep(every)
    raise SystemExit(f"bench: timed out after {timeout}s waiting for {condition.__doc__}")


FLAGGED_SHARE = [0.1]


def _texts(n: int, seed: int) -> list[str]:
    from moderation.simulator.texts import TEXTS

    rnd = random.Random(seed)
    share = FLAGGED_SHARE[0]
    return [rnd.choice(TEXTS)[1] if rnd.random() < share else rnd.choice(ORDINARY) + f" #{i}" for i in range(n)]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poll", type=int, default=20000)
    parser.add_argument("--webhook", type=int, default=20000)
    parser.add_argument("--per-delivery", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--flagged-share", type=float, default=0.1,
                        help="share of comments drawn from the evaluation set's abusive/safeguarding/... texts")
    args = parser.parse_args(argv)
    FLAGGED_SHARE[0] = args.flagged_share
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("bench: set DATABASE_URL and REDIS_URL (a database of its own; it is migrated)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the worker and web server
    for key, value in ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)

    from moderation.simulator import SimulatorServer

    sim = SimulatorServer(port=0).start()
    env = dict(os.environ)
    env.update(FACEBOOK_API_BASE=sim.url("facebook"), INSTAGRAM_API_BASE=sim.url("instagram"),
               YOUTUBE_API_BASE=sim.url("youtube"), X_API_BASE=sim.url("x"))
    os.environ.update({k: env[k] for k in ("FACEBOOK_API_BASE", "INSTAGRAM_API_BASE", "YOUTUBE_API_BASE", "X_API_BASE")})
    ensure_database(os.environ["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.utils import timezone

    from moderation.crypto import encrypt_credentials
    from moderation.ingest.polling import channels_poll_due
    from moderation.models import Channel, Comment, Verdict

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery", "unacked", "unacked_index")
    Channel.objects.update(enabled=False)  # earlier runs' channels point at a simulator that is gone
    run = int(time.time())
    bench_started = timezone.now()
    port = _free_port()
    procs = [
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-c", str(args.workers), "-P", "prefork",
                          "-l", "warning", "-n", f"bench{run}@%h", "--without-gossip", "--without-mingle",
                          "--without-heartbeat"], cwd=ROOT, env=env, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
                          "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True),
    ]
    import requests

    def web_up():
        """gunicorn answers"""
        try:
            return requests.get(f"http://127.0.0.1:{port}/hooks/x/?crc_token=x", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        _wait_for(web_up, timeout=60)
        results = {}
        warm = Channel.objects.create(platform="facebook", account_id=f"benchwarm{run}", name="bench warm-up",
                                      enabled=False)  # not polled: it exists only to warm the workers
        from django.db import transaction

        from moderation.ingest.store import comments_upsert_batch
        from moderation.platforms.base import IncomingComment

        for k in range(args.workers * 2):  # each task keeps a process busy while it compiles
            with transaction.atomic():
                comments_upsert_batch(channel=warm, incomings=[IncomingComment(external_id=f"warm{run}-{k}", text="warm up")])

        def warmed():
            """warm-up comments judged"""
            return Verdict.objects.filter(comment__channel=warm).count() >= args.workers * 2

        _wait_for(warmed, timeout=300, every=0.2)
        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)

        def quiet():
            """the previous phase's follow-on work (automatic hides sent to the platform) done"""
            from moderation.models import PlatformAction

            busy = PlatformAction.objects.filter(status__in=["requested", "in_flight"], next_attempt_at__isnull=True,
                                                 requested_at__gte=bench_started)
            return broker.llen("celery") == 0 and not busy.exists()

        # 1. Polling -------------------------------------------------------------------------
        if args.poll:
            page = f"bench{run}"
            sim.world.add_account("facebook", page, "bench-token")
            start = time.time() - args.poll / 10
            texts = _texts(args.poll, 1)
            posts = [sim.world.new_thread("facebook", page) for _ in range(4)]
            # Authors are new in every run: with the same ids run after run, the authors' history
            # (30 days) grew in the bench database, more of their flagged comments became blocks
            # for a person instead of automatic hides, and each run in a row did less work
            # (159 automatic hides in the first run, none by the sixth).
            for i, text in enumerate(texts):
                sim.world.add_comment("facebook", page, text, thread_id=posts[i % 4], at=start + i / 10,
                                      author_id=f"poll-author-{run}-{i % 500}", author_name=f"Resident {i % 500}")
            channel = Channel.objects.create(platform="facebook", account_id=page, name="bench page",
                                             credentials_encrypted=encrypt_credentials({"access_token": "bench-token"}))
            t0 = time.monotonic()
            assert channels_poll_due() != []

            def stored():
                """every polled comment stored"""
                return Comment.objects.filter(channel=channel).count() >= args.poll

            def judged():
                """every polled comment judged"""
                return Verdict.objects.filter(comment__channel=channel, is_current=True).count() >= args.poll

            last_beat = [time.monotonic()]

            def beat():
                # What Celery beat does every POLL_SCHEDULER_SECONDS (here every 5 s).
                if time.monotonic() - last_beat[0] >= 5:
                    last_beat[0] = time.monotonic()
                    channels_poll_due()

            _wait_for(stored, timeout=900, every=0.1, on_tick=beat)
            t_stored = time.monotonic() - t0
            _wait_for(judged, timeout=900, every=0.1)
            t_judged = time.monotonic() - t0
            results["poll"] = (args.poll, t_stored, t_judged)
            print(f"polling:  {args.poll} comments stored in {t_stored:.1f} s ({args.poll / t_stored:,.0f}/s); "
                  f"all judged in {t_judged:.1f} s -> {args.poll / t_judged:,.0f} comments/s sustained", flush=True)

        # Each phase starts from a quiet queue, so it measures itself, not the last one's tail.
        _wait_for(quiet, timeout=600, every=0.2)

        # 2. Webhook throughput --------------------------------------------------------------
        fb_page = f"benchhook{run}"
        hook_channel = Channel.objects.create(platform="facebook", account_id=fb_page, name="bench hooks")
        secret = settings.META_APP_SECRET.encode()
        session_local = threading.local()

        def post(body: bytes) -> float:
            session = getattr(session_local, "s", None) or requests.Session()
            session_local.s = session
            sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            sent = time.time()
            r = session.post(f"http://127.0.0.1:{port}/hooks/meta/", data=body, timeout=30,
                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
            assert r.status_code == 200, (r.status_code, r.text[:200])
            return sent

        def delivery(prefix: str, texts: list[str]) -> bytes:
            changes = [{"field": "feed", "value": {
                "item": "comment", "verb": "add", "comment_id": f"{prefix}_{i}", "post_id": f"{fb_page}_1",
                "parent_id": f"{fb_page}_1", "from": {"id": f"hook-author-{run}-{hash(prefix + str(i)) % 2000}", "name": "Resident"},
                "message": text, "created_time": int(time.time())}} for i, text in enumerate(texts)]
            return json.dumps({"object": "page", "entry": [{"id": fb_page, "time": int(time.time()), "changes": changes}]}).encode()

        if args.webhook:
            n = args.per_delivery
            texts = _texts(args.webhook, 2)
            bodies = [delivery(f"t{run}-{d}", texts[d * n:(d + 1) * n]) for d in range((args.webhook + n - 1) // n)]
            acks: list[float] = []
            t0 = time.monotonic()

            def sender(chunk):
                for body in chunk:
                    t = time.monotonic()
                    post(body)
                    acks.append(time.monotonic() - t)

            threads = [threading.Thread(target=sender, args=(bodies[k::4],)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            t_sent = time.monotonic() - t0

            def hooks_judged():
                """every webhook comment judged"""
                return Verdict.objects.filter(comment__channel=hook_channel, is_current=True).count() >= args.webhook

            _wait_for(hooks_judged, timeout=900, every=0.1)
            t_judged = time.monotonic() - t0
            results["webhook"] = (args.webhook, t_sent, t_judged)
            print(f"webhooks: {args.webhook} comments in {len(bodies)} deliveries of {n}; all acknowledged in {t_sent:.1f} s "
                  f"(ack p50 {statistics.median(acks) * 1000:.0f} ms, p95 {_pct(acks, 95) * 1000:.0f} ms); "
                  f"all judged in {t_judged:.1f} s -> {args.webhook / t_judged:,.0f} comments/s sustained", flush=True)

        _wait_for(quiet, timeout=600, every=0.2)

        # 3. Latency at a steady delivery rate -----------------------------------------------
        total = int(args.rate * args.seconds)
        texts = _texts(total, 3)
        sent_at: dict[str, float] = {}
        interval = 1 / args.rate
        begin = time.monotonic()
        lock = threading.Lock()

        def paced(k: int, step: int):
            for i in range(k, total, step):
                due = begin + i * interval
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                prefix = f"l{run}-{i}"
                sent = post(delivery(prefix, [texts[i]]))
                with lock:
                    sent_at[f"{prefix}_0"] = sent

        threads = [threading.Thread(target=paced, args=(k, 8)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        achieved = total / (time.monotonic() - begin)

        def latency_judged():
            """every paced comment judged"""
            return Verdict.objects.filter(comment__external_id__in=list(sent_at), is_current=True).count() >= total

        _wait_for(latency_judged, timeout=600, every=0.2)
        created = dict(Verdict.objects.filter(comment__external_id__in=list(sent_at)).order_by("created_at")
                       .values_list("comment__external_id", "created_at"))
        latencies = [created[k].timestamp() - sent_at[k] for k in sent_at]
        print(f"latency:  {total} one-comment deliveries at {achieved:.0f}/s: delivery-to-stored-verdict "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {_pct(latencies, 95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms", flush=True)
        print(f"(host: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"worker processes: {args.workers}; gunicorn workers: 2; "
              f"flagged share {args.flagged_share:.0%}; "
              f"run at {timezone.now():%Y-%m-%d %H:%M} UTC)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
