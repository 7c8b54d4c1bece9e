"""Fixtures: a real redis-server, and each shared store in turn (`tests/_redis.py`)."""

from .._redis import RedisServer, redis_server, redis_url, store_url

__all__ = ["RedisServer", "redis_server", "redis_url", "store_url"]
