"""``client.characters``: reusable characters and their upload flow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from .._call import Call
from .._operations import ModeT, Namespace, namespace, operation
from .._pagination import CursorPage, PageRequest, page_request, paginated
from .._requests import request
from .._steps import Steps
from .._types import RequestOptions
from ..types import Character, CharacterDeleted, CharacterUpload, UploadClassification
from ..types.literals import Pose, UploadContentType, UploadExtension
from ..types.params import CharacterAttributesParam
from .files import FileInput, read_file_input

__all__ = ["CharacterUploads", "Characters"]

_CONTENT_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


_CHARACTER = "/v1/characters/{character_id}"


def _upload_types(
    filename: str, extension: str | None, content_type: str | None
) -> tuple[str, str]:
    """Derive a missing ``extension``/``content_type`` from the other or the file name."""
    if extension is None and content_type is not None:
        extension = next((e for e, t in _CONTENT_TYPES.items() if t == content_type), None)
    if extension is None:
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        extension = suffix if suffix in _CONTENT_TYPES else None
    if extension is None:
        raise ValueError(
            "extension is required (jpeg, jpg, png or webp) when neither content_type nor the "
            f"filename {filename!r} tells it"
        )
    expected = _CONTENT_TYPES.get(extension.lower())
    if content_type is None:
        if expected is None:
            raise ValueError(f"content_type is required for extension {extension!r}")
        content_type = expected
    elif expected is not None and content_type != expected:
        raise ValueError(
            f"content_type {content_type!r} does not match extension {extension!r} "
            f"(expected {expected!r})"
        )
    return extension, content_type


class CharacterUploads(Namespace[ModeT]):
    """The upload flow of characters: ``client.characters.uploads``.

    ``init`` gets a ticket, ``upload`` PUTs the image bytes to it, ``classify`` (optional) detects
    the pose; then pass the ``upload_id``\\ s to ``characters.create(upload_ids=...)``.
    """

    _path = "characters.uploads"

    @operation
    def init(
        self,
        *,
        filename: str,
        extension: UploadExtension | None = None,
        content_type: UploadContentType | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[CharacterUpload]:
        """Get an upload ticket for one image (URL valid 15 minutes, ``upload_id`` valid 24 h).

        ``extension`` and ``content_type`` must match; either may be left out and is then derived
        from the other or from ``filename``. Not retried automatically once the request may have
        arrived (each call mints a new ticket).

        >>> ticket = client.characters.uploads.init(filename="aurora-front.jpg")

        Args:
            filename: The image's file name; gives the extension and content type when they are left
                out.
            extension: The file extension (``jpg``, ``png`` or ``webp``); must match
                ``content_type``.
            content_type: The image's MIME type; must match ``extension``.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        ext, ctype = _upload_types(filename, extension, content_type)
        return (
            yield from request(
                "POST",
                "/v1/characters/uploads/init",
                CharacterUpload,
                options,
                json={"filename": filename, "extension": ext, "content_type": ctype},
            )
        )

    @operation
    def upload(
        self, ticket: CharacterUpload, file: FileInput, **options: Unpack[RequestOptions]
    ) -> Steps[None]:
        """PUT the image bytes to ``ticket.upload_url`` with exactly ``ticket.upload_headers``.

        ``file`` is a path, bytes, a binary file object or a ``(filename, content, mime)`` tuple.
        The signed URL is its own credential: the API key is never sent with this request.

        Args:
            ticket: The ticket ``uploads.init`` returned.
            file: A path, bytes, a binary file object, or a ``(filename, content, mime)`` tuple.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        _, content, _ = read_file_input(file)
        call: Call[None] = Call(
            "PUT",
            "",
            absolute_url=ticket.upload_url,
            authenticate=False,
            content=content,
            headers=dict(ticket.upload_headers),
            parse=lambda _body: None,
            options=options,
            route="PUT /uploads/{upload_id}/upload",
        )
        yield from call

    @operation
    def classify(
        self, upload_id: str, **options: Unpack[RequestOptions]
    ) -> Steps[UploadClassification]:
        """Detect the pose of an uploaded image (optional and free; unclassified: ``other``).

        Args:
            upload_id: The upload's id (``upl_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "POST",
                "/v1/characters/uploads/classify",
                UploadClassification,
                options,
                json={"upload_id": upload_id},
                retry_safe=True,  # classifies, changes nothing
            )
        )


class Characters(Namespace[ModeT]):
    """Reusable characters, usable as ``character_id`` in image generations."""

    _path = "characters"

    if TYPE_CHECKING:
        uploads: CharacterUploads[ModeT]
    else:
        uploads = namespace(CharacterUploads)
    """The upload flow: ``init`` → ``upload`` → (``classify``) → ``create(upload_ids=...)``."""

    @operation
    def create(
        self,
        *,
        name: str,
        upload_ids: Sequence[str] | None = None,
        generate: bool | None = None,
        attributes: CharacterAttributesParam | None = None,
        client_reference_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[Character]:
        """Create a character from uploads (free, ``ready`` at once) or by synthesis (paid).

        Use exactly one flow: ``upload_ids=[...]`` (1–6 ``upl_…`` ids, ``attributes`` optional), or
        ``generate=True`` with ``attributes`` (4 reference images are rendered; the character is
        ``synthesizing`` until a ``character.completed``/``character.failed`` event). Not retried
        automatically once the request may have arrived, since a retry could create it twice.

        >>> c = client.characters.create(name="Aurora", upload_ids=[ticket.upload_id])
        >>> c = client.characters.create(name="Okafor", generate=True, attributes={"age": 41})

        Args:
            name: The character's display name.
            upload_ids: 1–6 upload ids (``upl_…``) to make the character from (free, ready at once);
                not with ``generate``.
            generate: Synthesize the character's reference images from ``attributes`` (paid).
            attributes: Who the character is (age, build, hair, …); replaces the whole object.
            client_reference_id: An id of your own, returned as given.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        if upload_ids is not None and generate:
            raise ValueError(
                "upload_ids cannot be combined with generate=True; use the upload flow "
                "(upload_ids) or the synthesize flow (generate=True with attributes)"
            )
        if upload_ids is None and not generate:
            raise ValueError(
                "pass upload_ids (upload flow) or generate=True with attributes (synthesize flow)"
            )
        if generate and not attributes:
            raise ValueError("generate=True needs attributes with at least one key")
        body: dict[str, Any] = {"name": name}
        if upload_ids is not None:
            body["upload_ids"] = list(upload_ids)
        if generate is not None:
            body["generate"] = generate
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if client_reference_id is not None:
            body["client_reference_id"] = client_reference_id
        return (yield from request("POST", "/v1/characters", Character, options, json=body))

    @paginated
    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PageRequest[Character]:
        """List the team's characters (deleted ones left out), newest first, paging lazily.

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
            "/v1/characters", page=CursorPage, item=Character, query=query, options=options
        )

    @operation
    def retrieve(self, character_id: str, **options: Unpack[RequestOptions]) -> Steps[Character]:
        """Fetch one character (``char_…``) with fresh ref URLs.

        Args:
            character_id: The character's id (``char_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "GET", _CHARACTER, Character, options, path={"character_id": character_id}
            )
        )

    @operation
    def update(
        self,
        character_id: str,
        *,
        name: str | None = None,
        attributes: CharacterAttributesParam | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[Character]:
        """Rename a character and/or replace its ``attributes`` (the whole object, no merge).

        Args:
            character_id: The character's id (``char_…``).
            name: The character's display name.
            attributes: Who the character is (age, build, hair, …); replaces the whole object.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if not body:
            raise ValueError("update needs name, attributes, or both")
        return (
            yield from request(
                "PATCH",
                _CHARACTER,
                Character,
                options,
                path={"character_id": character_id},
                json=body,
                retry_safe=True,  # sets absolute values
            )
        )

    @operation
    def delete(
        self, character_id: str, **options: Unpack[RequestOptions]
    ) -> Steps[CharacterDeleted]:
        """Delete a character (soft delete; a running synthesis is cancelled without refund).

        Args:
            character_id: The character's id (``char_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "DELETE", _CHARACTER, CharacterDeleted, options, path={"character_id": character_id}
            )
        )

    @operation
    def save(self, character_id: str, **options: Unpack[RequestOptions]) -> Steps[Character]:
        """Accept a character under review (``reviewing`` → ``ready``); a no-op when ``ready``.

        Args:
            character_id: The character's id (``char_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (
            yield from request(
                "POST",
                _CHARACTER + "/save",
                Character,
                options,
                path={"character_id": character_id},
                retry_safe=True,  # saving a saved character changes nothing
            )
        )

    @operation
    def resynthesize(
        self,
        character_id: str,
        *,
        force_all: bool | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[Character]:
        """Render all four reference images again (paid); the character becomes ``synthesizing``.

        The previous refs stay until the run ends. An ``Idempotency-Key`` is generated once per
        call and reused on every retry, so a retry never bills twice. ``force_all`` is accepted by
        the API for forward compatibility and has no effect today.

        Args:
            character_id: The character's id (``char_…``).
            force_all: Accepted for forward compatibility; no effect today.
            idempotency_key: Reuse a key to resume a call safely; by default a UUID4 is generated
                per call and reused on its retries.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        body = {"force_all": force_all} if force_all is not None else None
        return (
            yield from request(
                "POST",
                _CHARACTER + "/resynthesize",
                Character,
                options,
                path={"character_id": character_id},
                json=body,
                idempotent=True,
                idempotency_key=idempotency_key,
            )
        )

    @operation
    def regenerate_ref(
        self,
        character_id: str,
        *,
        pose: Pose,
        prompt_override: str | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[Character]:
        """Render the reference image of one ``pose`` again (paid); replaces that pose's ref.

        An ``Idempotency-Key`` is generated once per call and reused on every retry.
        ``prompt_override`` is accepted by the API for forward compatibility and ignored today.

        Args:
            character_id: The character's id (``char_…``).
            pose: Which reference image to render again.
            prompt_override: Accepted for forward compatibility; ignored today.
            idempotency_key: Reuse a key to resume a call safely; by default a UUID4 is generated
                per call and reused on its retries.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        body: dict[str, Any] = {"pose": pose}
        if prompt_override is not None:
            body["prompt_override"] = prompt_override
        return (
            yield from request(
                "POST",
                _CHARACTER + "/refs/regenerate",
                Character,
                options,
                path={"character_id": character_id},
                json=body,
                idempotent=True,
                idempotency_key=idempotency_key,
            )
        )
