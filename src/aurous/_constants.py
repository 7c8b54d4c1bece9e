"""Defaults shared by the clients and the transport."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "https://api.aurous-labs.com"
DEFAULT_API_VERSION = "2026-05-15"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 3
MAX_REDIRECTS = 5
DEFAULT_MAX_RATE_LIMIT_WAIT = 60.0
"""Seconds one call may spend waiting for rate limits before it raises (``max_rate_limit_wait``)."""
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
"""Bytes of a response body read into memory at most (``max_response_size``): API answers are
JSON of a few kilobytes; a server sending hundreds of megabytes must not exhaust memory."""
ENV_API_KEY = "AUROUS_API_KEY"
ENV_BASE_URL = "AUROUS_BASE_URL"
ENV_LOG = "AUROUS_LOG"
ENV_PACING_URL = "AUROUS_PACING_URL"
"""A shared pacing store for every client that is not given ``pacing=`` (a fleet's one setting)."""
ENV_WEBHOOK_SECRET = "AUROUS_WEBHOOK_SECRET"
