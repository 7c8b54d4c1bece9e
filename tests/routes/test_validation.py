"""Arguments refused before anything is sent: a ValueError or TypeError naming the parameters.

The ``api`` router declares no routes and refuses unmocked requests, so any request made would
fail the test; each test also checks that nothing was recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import respx

from aurous._types import NOT_GIVEN

from ..conftest import Runner

_ID = "char_01KRX8ED80MGJ5N55BA73RARM1"

VALUE_ERRORS: list[tuple[str, Callable[[Any], Any], tuple[str, ...]]] = [
    (
        "characters.create both flows",
        lambda c: c.characters.create(
            name="A", upload_ids=["upl_01KRX8AR20K4JY7JD5M1NWXS5Y"], generate=True, attributes={}
        ),
        ("upload_ids", "generate"),
    ),
    (
        "characters.create no flow",
        lambda c: c.characters.create(name="A"),
        ("upload_ids", "generate"),
    ),
    (
        "characters.create generate=False only",
        lambda c: c.characters.create(name="A", generate=False),
        ("upload_ids", "generate"),
    ),
    (
        "characters.create synthesize without attributes",
        lambda c: c.characters.create(name="A", generate=True),
        ("generate", "attributes"),
    ),
    (
        "characters.create synthesize with empty attributes",
        lambda c: c.characters.create(name="A", generate=True, attributes={}),
        ("attributes",),
    ),
    (
        "characters.update nothing to change",
        lambda c: c.characters.update(_ID),
        ("name", "attributes"),
    ),
    (
        "uploads.init mismatched types",
        lambda c: c.characters.uploads.init(
            filename="a.png", extension="png", content_type="image/jpeg"
        ),
        ("content_type", "extension"),
    ),
    (
        "uploads.init type not derivable",
        lambda c: c.characters.uploads.init(filename="portrait"),
        ("extension",),
    ),
    ("files.retrieve empty id", lambda c: c.files.retrieve(" "), ("file_id",)),
    (
        "webhook_endpoints.delete empty id",
        lambda c: c.webhook_endpoints.delete(""),
        ("endpoint_id",),
    ),
    ("characters.save empty id", lambda c: c.characters.save(""), ("character_id",)),
    (
        "images.create size with width",
        lambda c: c.images.create(prompt="p", size="2k_1_1", width=2048, height=2048),
        ("size", "width"),
    ),
    (
        "images.create width without height",
        lambda c: c.images.create(prompt="p", width=2048),
        ("width", "height"),
    ),
    (
        "images.estimate lora_id with loras",
        lambda c: c.images.estimate(prompt="p", lora_id="x", loras=[{"lora": "y"}]),
        ("lora_id", "loras"),
    ),
    (
        "images.list both cursors",
        lambda c: c.images.list(starting_after="img_a", ending_before="img_b"),
        ("starting_after", "ending_before"),
    ),
    (
        "videos.create neither prompt nor frame",
        lambda c: c.videos.create(video_lora_id="seedance-1-pro"),
        ("prompt", "first_frame_url"),
    ),
]

TYPE_ERRORS: list[tuple[str, Callable[[Any], Any], tuple[str, ...]]] = [
    (
        "files.create file of a wrong type",
        lambda c: c.files.create(file=123, purpose="reference"),
        ("file",),
    ),
    (
        "files.create text file object",
        lambda c: c.files.create(file=_TextFile(), purpose="reference"),
        ("file", "binary"),
    ),
    (
        "files.create purpose not a str",
        lambda c: c.files.create(file=b"x", purpose=1),
        ("purpose",),
    ),
    ("files.create missing purpose", lambda c: c.files.create(file=b"x"), ("purpose",)),
    (
        "files.create metadata not a mapping",
        lambda c: c.files.create(file=b"x", purpose="reference", metadata="{}"),
        ("metadata",),
    ),
    (
        "webhook_endpoints.create events as a bare string",
        lambda c: c.webhook_endpoints.create(url="https://x.dev/h", events="image.completed"),
        ("events",),
    ),
    (
        "webhook_endpoints.update url=None",
        lambda c: c.webhook_endpoints.update("we_1", url=None),
        ("url",),
    ),
    (
        "webhook_endpoints.update is_active not a bool",
        lambda c: c.webhook_endpoints.update("we_1", is_active="yes"),
        ("is_active",),
    ),
    (
        "webhook_endpoints.test missing event_type",
        lambda c: c.webhook_endpoints.test("we_1"),
        ("event_type",),
    ),
    (
        "characters.regenerate_ref pose not a str",
        lambda c: c.characters.regenerate_ref(_ID, pose=1),
        ("pose",),
    ),
    (
        "characters.create upload_ids as a bare string",
        lambda c: c.characters.create(name="A", upload_ids="upl_01KRX8AR20K4JY7JD5M1NWXS5Y"),
        ("upload_ids",),
    ),
    (
        "characters.resynthesize unknown keyword",
        lambda c: c.characters.resynthesize(_ID, force=True),
        ("force",),
    ),
    ("characters.retrieve id not a str", lambda c: c.characters.retrieve(42), ("character_id",)),
    ("usage.list missing start_time", lambda c: c.usage.list(), ("start_time",)),
    (
        "usage.list start_time a number",
        lambda c: c.usage.list(start_time=1716163200),
        ("start_time",),
    ),
    (
        "usage.list_events limit a str",
        lambda c: c.usage.list_events(start_time="2026-05-20T00:00:00Z", limit="10"),
        ("limit",),
    ),
    (
        "images.create unknown keyword",
        lambda c: c.images.create(prompt="p", sizes="2k"),
        ("sizes",),
    ),
    ("images.create missing prompt", lambda c: c.images.create(size="2k_1_1"), ("prompt",)),
    (
        "videos.estimate duration a str",
        lambda c: c.videos.estimate(prompt="p", duration="5"),
        ("duration",),
    ),
]


class _TextFile:
    def read(self) -> str:
        return "not bytes"


def _ids(cases: list[tuple[str, Any, Any]]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(("name", "call", "names"), VALUE_ERRORS, ids=_ids(VALUE_ERRORS))
def test_value_errors_name_the_params_and_send_nothing(
    run: Runner, api: respx.Router, name: str, call: Any, names: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError) as caught:
        run(call)
    for param in names:
        assert param in str(caught.value)
    assert not api.calls


@pytest.mark.parametrize(("name", "call", "names"), TYPE_ERRORS, ids=_ids(TYPE_ERRORS))
def test_type_errors_name_the_params_and_send_nothing(
    run: Runner, api: respx.Router, name: str, call: Any, names: tuple[str, ...]
) -> None:
    with pytest.raises(TypeError) as caught:
        run(call)
    for param in names:
        assert param in str(caught.value)
    assert not api.calls


def test_not_given_is_accepted_explicitly(run: Runner, api: respx.Router) -> None:
    from ..conftest import fixture
    from .conftest import json_of, respond

    endpoint = fixture("webhook_endpoint")
    route = api.patch(f"/v1/webhook_endpoints/{endpoint['id']}").mock(
        return_value=respond(200, endpoint)
    )
    run(lambda c: c.webhook_endpoints.update(endpoint["id"], url=NOT_GIVEN, is_active=False))
    assert json_of(route.calls.last.request) == {"is_active": False}
