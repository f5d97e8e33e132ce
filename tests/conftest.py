"""Named personas (STYLE.md): an officer, a duty manager, a policy admin and an outsider
(signed in, no role). Every test runs against the real PostgreSQL from DATABASE_URL."""

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from tests.factories import UserFactory


def _with_role(username: str, role: str | None):
    user = UserFactory(username=username)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officer(db):
    return _with_role("olivia.officer", roles.OFFICER)


@pytest.fixture
def duty_manager(db):
    return _with_role("dev.duty", roles.DUTY_MANAGER)


@pytest.fixture
def policy_admin(db):
    return _with_role("alex.admin", roles.POLICY_ADMIN)


@pytest.fixture
def outsider(db):
    return _with_role("nobody", None)


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _fresh_matcher():
    # The compiled rule set is cached per process; tests that publish must not leak.
    from policy.selectors import forget_published_matcher

    forget_published_matcher()
    yield
    forget_published_matcher()


class Broker:
    """Reads what was enqueued on a Redis broker as (task name, kwargs), without consuming
    anything a worker would need."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    def messages(self, queue: str = "celery"):
        import base64
        import json

        out = []
        for raw in reversed(self.client.lrange(queue, 0, -1)):  # LPUSH: oldest last
            envelope = json.loads(raw)
            args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
            out.append((envelope["headers"]["task"], kwargs))
        return out


@pytest.fixture
def broker():
    """The real Redis broker (REDIS_URL), emptied before and after the test (the default
    queue and the model reader's ``reader`` queue)."""
    from django.conf import settings

    reader = Broker(settings.CELERY_BROKER_URL)
    reader.client.delete("celery", "reader")
    yield reader
    reader.client.delete("celery", "reader")


@pytest.fixture
def private_redis():
    """A Redis of the test's own on a free port (tests/redis_server.py), for tests that stop
    or restart it: never the machine's shared one."""
    from tests.redis_server import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def celery_via(private_redis):
    """Point this process's Celery producer at the private Redis for the test."""
    from config.celery import app

    old = app.conf.broker_url

    def switch(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    switch(private_redis.url)
    yield private_redis
    switch(old)


@pytest.fixture(scope="session", autouse=True)
def _end_stray_sessions(django_db_setup, django_db_blocker):
    """Threads that used the database (the live server behind the browser tests) can keep
    a connection open past the last test, and PostgreSQL then refuses to drop the test
    database. End those sessions just before pytest-django tears the database down."""
    yield
    with django_db_blocker.unblock():
        from django.db import OperationalError, connection

        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        except OperationalError:
            # no test used the database (e.g. -k picked only plain tests), so the test
            # database was never created and no session can be holding it
            pass
