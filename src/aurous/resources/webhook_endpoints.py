"""``client.webhook_endpoints``: registered URLs that receive signed events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from .._operations import ModeT, Namespace, operation
from .._pagination import CursorPage, PageRequest, page_request, paginated
from .._requests import request
from .._steps import Steps
from .._types import NOT_GIVEN, NotGiven, RequestOptions
from ..types import WebhookEndpoint, WebhookEndpointDeleted, WebhookTestFire
from ..types.literals import EventSubscription, EventType

__all__ = ["WebhookEndpoints"]


_ENDPOINT = "/v1/webhook_endpoints/{endpoint_id}"


class WebhookEndpoints(Namespace[ModeT]):
    """Webhook endpoints: ``client.webhook_endpoints``.

    The signing secret (``whsec_…``) is returned in full only by `create` and `rotate_secret`;
    every other call shows ``secret=None``, so store it as soon as you get it.
    """

    _path = "webhook_endpoints"

    @operation
    def create(
        self,
        *,
        url: str,
        events: Sequence[EventSubscription],
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[WebhookEndpoint]:
        """Register an ``https://`` URL for the given event types (``"*"`` subscribes to all).

        The response carries the full signing ``secret``: this and `rotate_secret` are the only
        calls that return it, so store it now (e.g. as ``AUROUS_WEBHOOK_SECRET``). Not retried
        automatically once the request may have arrived, since a retry would register twice.

        >>> ep = client.webhook_endpoints.create(url="https://example.com/hook", events=["*"])
        >>> save_secret(ep.secret)

        Args:
            url: The ``https://`` URL that receives the deliveries.
            events: The event types to deliver (``"*"``: all of them); replaces the whole list.
            description: A label of your own (``None`` clears it on update).
            metadata: Key-value pairs of your own, returned as given.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        body: dict[str, Any] = {"url": url, "events": list(events)}
        if description is not None:
            body["description"] = description
        if metadata is not None:
            body["metadata"] = dict(metadata)
        return (
            yield from request(
                "POST",
                "/v1/webhook_endpoints",
                WebhookEndpoint,
                options,
                json=body,
            )
        )

    @paginated
    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PageRequest[WebhookEndpoint]:
        """List the team's endpoints, newest first, paging lazily (``limit`` 1–100 per page).

        Listed endpoints have ``secret=None``; the secret is shown only by create/rotate_secret.

        Args:
            limit: Page size (1–100; the API's default when left out).
            starting_after: A row id: list the rows after it (older ones).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        query = {"limit": limit, "starting_after": starting_after}
        return page_request(
            "/v1/webhook_endpoints",
            page=CursorPage,
            item=WebhookEndpoint,
            query=query,
            options=options,
        )

    @operation
    def retrieve(
        self, endpoint_id: str, **options: Unpack[RequestOptions]
    ) -> Steps[WebhookEndpoint]:
        """Fetch one endpoint (``we_…``); ``secret`` is None (only create/rotate_secret show it).

        Args:
            endpoint_id: The endpoint's id (``we_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "GET", _ENDPOINT, WebhookEndpoint, options, path={"endpoint_id": endpoint_id}
            )
        )

    @operation
    def update(
        self,
        endpoint_id: str,
        *,
        url: str | NotGiven = NOT_GIVEN,
        events: Sequence[EventSubscription] | NotGiven = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        metadata: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        is_active: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Steps[WebhookEndpoint]:
        """Change some fields of an endpoint; arguments left out are kept as they are.

        ``events`` and ``metadata`` replace the whole value; ``description=None`` clears the
        description; ``is_active=True`` re-enables a disabled endpoint and resets its failure count.
        The secret does not change (use `rotate_secret`) and is not returned.

        Args:
            endpoint_id: The endpoint's id (``we_…``).
            url: The ``https://`` URL that receives the deliveries.
            events: The event types to deliver (``"*"``: all of them); replaces the whole list.
            description: A label of your own (``None`` clears it on update).
            metadata: Key-value pairs of your own; replaces the whole object.
            is_active: ``True`` re-enables a disabled endpoint and resets its failure count.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        fields: dict[str, Any] = {
            "url": url,
            "events": events if isinstance(events, NotGiven) else list(events),
            "description": description,
            "metadata": metadata if isinstance(metadata, NotGiven) else dict(metadata),
            "is_active": is_active,
        }
        body = {key: value for key, value in fields.items() if not isinstance(value, NotGiven)}
        return (
            yield from request(
                "PATCH",
                _ENDPOINT,
                WebhookEndpoint,
                options,
                path={"endpoint_id": endpoint_id},
                json=body,
                retry_safe=True,  # sets absolute values
            )
        )

    @operation
    def delete(
        self, endpoint_id: str, **options: Unpack[RequestOptions]
    ) -> Steps[WebhookEndpointDeleted]:
        """Delete an endpoint; never 404 — ``deleted`` is False when nothing matched.

        Args:
            endpoint_id: The endpoint's id (``we_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "DELETE",
                _ENDPOINT,
                WebhookEndpointDeleted,
                options,
                path={"endpoint_id": endpoint_id},
            )
        )

    @operation
    def rotate_secret(
        self, endpoint_id: str, **options: Unpack[RequestOptions]
    ) -> Steps[WebhookEndpoint]:
        """Replace the signing secret; the old one stops signing at once.

        The response carries the new full ``secret`` — like `create`, the only place it is ever
        shown — so store it now, and accept both secrets in your receiver while you switch over
        (``aurous.webhooks.verify`` takes a list). Not retried automatically, since a retry would
        rotate twice and lose the secret of the first rotation.

        Args:
            endpoint_id: The endpoint's id (``we_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "POST",
                _ENDPOINT + "/rotate_secret",
                WebhookEndpoint,
                options,
                path={"endpoint_id": endpoint_id},
            )
        )

    @operation
    def test(
        self, endpoint_id: str, *, event_type: EventType, **options: Unpack[RequestOptions]
    ) -> Steps[WebhookTestFire]:
        """Queue a signed synthetic delivery (``synthetic: true``) of ``event_type``.

        The endpoint must subscribe to ``event_type``; the delivery is made even if the endpoint is
        inactive. Not retried automatically, since a retry would fire twice.

        Args:
            endpoint_id: The endpoint's id (``we_…``).
            event_type: The event type to send a synthetic delivery of; the endpoint must subscribe
                to it.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "POST",
                _ENDPOINT + "/test",
                WebhookTestFire,
                options,
                path={"endpoint_id": endpoint_id},
                json={"event_type": event_type},
            )
        )
