"""A web backend on aurous: one `aurous.AsyncClient` for the app's lifetime, shared by every request.

The client paces the team's rate limits and concurrency limit for all requests at once, so the
app needs no semaphore of its own: fifty users asking for an image at the same moment all get
one, as fast as the team's limits allow. Webhooks are received by the verifying receiver of
``webhook_receiver.py``, mounted under ``/webhooks``.

Try it against the built-in emulator (no key, no credits)::

    pip install "aurous[emulator]" fastapi
    python -m aurous.emulator --port 8080 --allow-http-webhooks   # prints AUROUS_BASE_URL, AUROUS_API_KEY
    export AUROUS_BASE_URL=http://127.0.0.1:8080 AUROUS_API_KEY=al_live_...
    export AUROUS_WEBHOOK_SECRET=whsec_...      # the secret of your webhook endpoint
    python examples/fastapi_app.py --port 8000

    curl -X POST localhost:8000/images -H 'content-type: application/json' \\
         -d '{"prompt": "a lighthouse at dusk"}'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import aurous
from aurous.types import ImageSize

sys.path.insert(0, str(Path(__file__).parent))
from webhook_receiver import create_app as create_receiver


class ImageRequest(BaseModel):
    """What the app's users send: a prompt and, optionally, a size."""

    prompt: str = Field(min_length=1, max_length=4000)
    size: ImageSize | None = None


class ImageResult(BaseModel):
    id: str
    status: str
    outputs: list[str]
    credits: float | None
    request_id: str | None


def create_app(
    client: aurous.AsyncClient | None = None, *, webhook_secret: str | None = None
) -> FastAPI:
    """The application. ``client`` defaults to an `aurous.AsyncClient` from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One client for the whole process: one connection pool, one pacing state.
        async with client or aurous.AsyncClient() as shared:
            app.state.aurous = shared
            yield

    app = FastAPI(title="aurous web backend example", lifespan=lifespan)
    receiver = create_receiver(webhook_secret, path="/aurous")
    app.mount("/webhooks", receiver)
    app.state.webhook_events = receiver.state.event_log

    @app.post("/images", response_model=ImageResult)
    async def create_image(body: ImageRequest, request: Request) -> ImageResult:
        shared: aurous.AsyncClient = request.app.state.aurous
        try:
            # Typed arguments, checked by mypy; ``size=None`` is not sent (the API's default).
            generation = await shared.images.create_and_wait(
                prompt=body.prompt, size=body.size, raise_on_failure=True, timeout=120
            )
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
            request_id=generation._request_id,
        )

    @app.exception_handler(aurous.APIConnectionError)
    async def unavailable(request: Request, exc: aurous.APIConnectionError) -> JSONResponse:
        return JSONResponse({"detail": "the image service cannot be reached"}, status_code=503)

    return app


app = create_app()
"""For ``uvicorn fastapi_app:app`` (the client is created from the environment at startup)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the aurous web-backend example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
