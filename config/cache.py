"""The cache backend: Django's Redis cache, except that Redis being down or not answering is
a cache miss, not an error.

The cache only ever holds what can be recomputed, so while Redis is away (a restart, an
outage) pages carry on without it: reads miss, writes are dropped, each with a warning in
the log. Short socket timeouts (settings.CACHES OPTIONS) keep a Redis that stops answering
from holding a request. Counters (``incr``/``decr``) still raise: a caller counting on them
must decide what a missing count means.
"""

from __future__ import annotations

import functools
import logging

import redis
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)


def _or(fallback):
    """Run the cache method; when Redis cannot be reached, log and answer ``fallback(*args)``."""

    def decorate(method):
        @functools.wraps(method)
        def tolerant(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (redis.RedisError, OSError) as exc:
                log.warning("cache unavailable, %s answered without it: %s", method.__name__, exc)
                return fallback(*args, **kwargs)

        return tolerant

    return decorate


def _nothing(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


class TolerantRedisCache(RedisCache):
    get = _or(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _or(lambda keys, version=None: {})(RedisCache.get_many)
    has_key = _or(_false)(RedisCache.has_key)
    set = _or(_nothing)(RedisCache.set)
    add = _or(_false)(RedisCache.add)
    touch = _or(_false)(RedisCache.touch)
    # set_many answers the keys it could not store: all of them.
    set_many = _or(lambda data, timeout=None, version=None: list(data))(RedisCache.set_many)
    delete = _or(_false)(RedisCache.delete)
    delete_many = _or(_nothing)(RedisCache.delete_many)
    clear = _or(_false)(RedisCache.clear)
