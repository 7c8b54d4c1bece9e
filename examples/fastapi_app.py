"""A web backend on aurous: one `aurous.AsyncClient` for the app's lifetime, shared by every request.

The client paces the team's rate limits and concurrency limit for all requests at once, so the
app needs no semaphore of its own: fifty users asking for an image at the same moment all get
one, as fast as the team's limits allow. Each user may spend ``DAILY_CREDITS`` a day: a budget
named per user and day caps what their requests create (``402`` once it is spent) — across
every worker process when the client's pacing uses a shared store
(``AUROUS_PACING_URL=redis://…``).

The client's webhook receiver (`aurous.webhooks.Receiver`) is mounted under ``/webhooks``: register
``https://<your host>/webhooks/`` for the ``image.*`` events, and a request waiting in
``create_and_wait`` returns as soon as its generation's delivery arrives, instead of at its next
poll (polls become a backstop for a lost delivery). With a shared pacing store, a delivery that
lands on any worker ends the waits of every worker.

Try it against the built-in emulator (no key, no credits)::

    pip install "aurous[emulator]" fastapi
    python -m aurous.emulator --port 8080 --allow-http-webhooks   # prints AUROUS_BASE_URL, AUROUS_API_KEY
    export AUROUS_BASE_URL=http://127.0.0.1:8080 AUROUS_API_KEY=al_live_...
    aurous webhooks create http://127.0.0.1:8000/webhooks/ -e image.completed -e image.failed
    export AUROUS_WEBHOOK_SECRET=whsec_...      # the secret it printed
    python examples/fastapi_app.py --port 8000  # or: uvicorn fastapi_app:create_app --factory

    curl -X POST localhost:8000/images -H 'content-type: application/json' \\
         -H 'x-user-id: 42' -d '{"prompt": "a lighthouse at dusk"}'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import aurous
from aurous.types import ImageSize
from aurous.webhooks import Receiver

DAILY_CREDITS = 50.0
"""What one user may spend a day."""


class ImageRequest(BaseModel):
    """What the app's users send: a prompt and, optionally, a size."""

    prompt: str = Field(min_length=1, max_length=4000)
    size: ImageSize | None = None


class ImageResult(BaseModel):
    id: str
    status: str
    outputs: list[str]
    credits: float | None
    credits_left_today: float
    request_id: str | None


def create_app(
    client: aurous.AsyncClient | None = None,
    *,
    webhook_secret: str | None = None,
    daily_credits: float = DAILY_CREDITS,
) -> FastAPI:
    """The application. ``client`` (closed when the app stops) defaults to an
    `aurous.AsyncClient` from the environment, ``webhook_secret`` to ``AUROUS_WEBHOOK_SECRET``
    (read at each delivery); each user may spend ``daily_credits`` a day."""
    # One client for the whole process: one connection pool, one pacing state, one receiver.
    # Created with the app (the receiver needs it), closed by the lifespan.
    shared = client if client is not None else aurous.AsyncClient()
    receiver = Receiver(shared, secret=webhook_secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared:
            yield

    app = FastAPI(title="aurous web backend example", lifespan=lifespan)
    app.state.aurous = shared
    app.state.webhooks = receiver  # its counters: received, rejected
    # Verifies, drops duplicates and wakes this client's waits; answers every path under
    # /webhooks/ (a bare /webhooks is redirected by Starlette: register the trailing slash).
    app.mount("/webhooks", receiver.asgi)

    @app.post("/images", response_model=ImageResult)
    async def create_image(
        body: ImageRequest, x_user_id: str = Header(default="anonymous")
    ) -> ImageResult:
        # A real app takes the user from its authentication; a header keeps the example short.
        # One budget per user and day, whichever request (or worker) spends it: a name is one
        # budget in the process, and in the fleet when pacing uses a shared store. The copy
        # shares the client's pool and pacing, and tags the user's calls (budget entries, logs).
        budget = aurous.Budget(daily_credits, name=f"user:{x_user_id}:{date.today()}")
        mine = shared.with_options(budget=budget, tags={"user": x_user_id})
        try:
            # Typed arguments, checked by mypy; ``size=None`` is not sent (the API's default).
            # Ends at the generation's webhook delivery (or, if it is lost, at a poll).
            generation = await mine.images.create_and_wait(
                prompt=body.prompt, size=body.size, raise_on_failure=True, timeout=120
            )
        except aurous.BudgetExceededError as exc:
            # Nothing was sent: the user's budget for today is spent (or held by their requests
            # in flight).
            raise HTTPException(status_code=402, detail=str(exc)) from exc
        except aurous.GenerationFailedError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except aurous.WaitTimeoutError as exc:
            raise HTTPException(status_code=504, detail=str(exc)) from exc
        except aurous.RateLimitError as exc:
            # The client already waited as long as the request allows: tell the caller when to
            # come back instead of holding the connection.
            retry = str(int(exc.retry_after or 1))
            raise HTTPException(
                status_code=503, detail=str(exc), headers={"Retry-After": retry}
            ) from exc
        except aurous.InvalidRequestError as exc:
            raise HTTPException(status_code=400, detail=exc.message) from exc
        cost = generation.cost.amount if generation.cost is not None else None
        return ImageResult(
            id=generation.id,
            status=generation.status,
            outputs=generation.outputs,
            credits=cost,
            # On a shared store this reads it: a blocking round trip of about a millisecond.
            credits_left_today=budget.remaining,
            request_id=generation._request_id,
        )

    @app.exception_handler(aurous.APIConnectionError)
    async def unavailable(request: Request, exc: aurous.APIConnectionError) -> JSONResponse:
        return JSONResponse({"detail": "the image service cannot be reached"}, status_code=503)

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the aurous web-backend example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
