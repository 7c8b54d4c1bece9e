"""Pure helpers of the CLI, tested in-process."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from aurous.cli._durations import parse_duration, since
from aurous.cli._errors import UsageError
from aurous.cli._output import Column, Output, Table
from aurous.cli.commands.account import default_bucket_width
from aurous.cli.commands.generate import lora_params


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "7", "d", "7y", "-1d", "0m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_since_is_relative_to_now() -> None:
    now = dt.datetime(2026, 5, 20, 10, 0, tzinfo=dt.timezone.utc)
    assert since("36h", now=now) == dt.datetime(2026, 5, 18, 22, 0, tzinfo=dt.timezone.utc)


def test_bucket_width_follows_the_span() -> None:
    widths = [default_bucket_width(parse_duration(s)) for s in ("30m", "12h", "7d", "180d")]
    assert widths == ["15m", "1h", "1d", "7d"]


def test_lora_params() -> None:
    assert lora_params(None) == {}
    assert lora_params(["neon-noir"]) == {"lora_id": "neon-noir"}
    assert lora_params(["a", "b:0.5"]) == {"loras": [{"lora": "a"}, {"lora": "b", "weight": 0.5}]}
    with pytest.raises(UsageError, match="weight"):
        lora_params(["a:heavy"])


def test_plain_table_aligns_numbers_right() -> None:
    stdout = io.StringIO()
    out = Output(stdout=stdout, stderr=io.StringIO())
    table = Table("T", [Column("name"), Column("n", numeric=True)])
    table.add("a", 1)
    table.add("long name", 100)
    out.table(table)

    assert stdout.getvalue().splitlines() == [
        "T",
        "name         n",
        "---------  ---",
        "a            1",
        "long name  100",
    ]


def test_json_mode_keeps_stdout_for_json_only() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(json_mode=True, stdout=stdout, stderr=stderr)
    out.result("human")
    out.table(Table.pairs(None, [("a", 1)]))
    out.info("note")
    out.json({"a": 1})

    assert stdout.getvalue() == '{\n  "a": 1\n}\n'
    assert stderr.getvalue() == "note\n"
    assert not out.live


def test_a_wait_for_a_concurrency_slot_is_not_called_a_rate_limit() -> None:
    from aurous.cli._output import Output
    from aurous.cli._progress import BatchDisplay
    from aurous.types import BatchProgress

    def shown(waiting_for: Any) -> str:
        err = io.StringIO()
        display = BatchDisplay(Output(stderr=err, stdout=io.StringIO()), total=3)
        display.update(
            BatchProgress(
                total=3,
                done=0,
                failed=0,
                in_flight=2,
                rate_limit_waits=1,
                last=None,
                waiting_for_rate_limit=1.0,
                waiting_for=waiting_for,
            )
        )
        return err.getvalue()

    assert "rate limited" not in shown("concurrency")
    assert "free concurrency slot" in shown("concurrency")
    assert "rate limited: waiting 1.0s" in shown("rate_limit")
