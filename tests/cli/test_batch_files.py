"""``aurous batch`` reads its requests as ``aurous.read_requests`` does (JSONL, CSV, text): every
bad line is reported with its number before anything is sent; defaults, ``--results``, ``--name``.

The checks run the command in-process (`inproc`) against a served emulator; the ones that must
prove nothing was sent point it at a port where nothing listens: any request would fail the
command with a connection error (exit 1), not the usage error (exit 2) they expect.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import aurous

from .conftest import FAST, PNG_SIGNATURE, Runner, Served

NOWHERE = ["--base-url", "http://127.0.0.1:9", "--api-key", "ak_test_nothing_listens"]
"""Global options of a CLI that cannot send anything (port 9: discard, never served here)."""


def _lines_reported(stderr: str, file: Path) -> list[int]:
    prefix = f"{file}:"
    return [
        int(line[len(prefix) :].split(":", 1)[0])
        for line in stderr.splitlines()
        if line.startswith(prefix) and line[len(prefix) :].split(":", 1)[0].isdigit()
    ]


BAD_FILES = {
    "prompts.jsonl": (
        "\n".join(
            [
                '{"prompt": "a fox"}',
                '{"prompt": ',  # 2: not JSON
                '["a list"]',  # 3: not an object
                "",
                '{"prompt": "a whale", "sise": "2k_1_1"}',  # 5: unknown parameter
                '{"prompt": "a cat", "count": "two"}',  # 6: wrong type
            ]
        ),
        [2, 3, 5, 6],
    ),
    "prompts.csv": (
        "prompt,count,enhance_prompt\n"
        "a fox,1,false\n"
        "a whale,two,false\n"  # 3: not an integer
        "a cat,1,maybe\n"  # 4: not a boolean
        '"a multi-line\nprompt",1,true\n'  # 5-6: fine, numbered by its first line
        "a dog,1,true,extra\n",  # 7: one cell too many
        [3, 4, 7],
    ),
    "prompts.txt": (
        "# one prompt per line\n"
        "a fox\n"
        '{"prompt": "a whale", "size": "2k_16_9"}\n'  # 3: a JSON object in a text file
        "\n"
        "{not json: a prompt with braces}\n"
        '  {"prompt": "a cat"}\n',  # 6: indented, still an object
        [3, 6],
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_every_bad_line_is_reported_with_its_number_and_nothing_is_sent(
    inproc: Runner, tmp_path: Path, name: str
) -> None:
    text, bad = BAD_FILES[name]
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")

    result = inproc(*NOWHERE, "batch", *FAST, str(file))

    assert result.returncode == 2, result.output
    assert f"Error: {file}: {len(bad)} bad lines; nothing was sent" in result.stderr
    assert _lines_reported(result.stderr, file) == bad
    assert "could not reach" not in result.output
    assert result.stdout == ""


def test_bad_lines_as_json(inproc: Runner, tmp_path: Path) -> None:
    file = tmp_path / "prompts.jsonl"
    file.write_text(BAD_FILES["prompts.jsonl"][0])

    result = inproc(*NOWHERE, "--json", "batch", str(file))

    assert result.returncode == 2
    error = result.json()["error"]
    assert error["type"] == "usage"
    assert error["count"] == 4
    assert [entry["line"] for entry in error["lines"]] == [2, 3, 5, 6]
    assert "did you mean 'size'?" in error["lines"][2]["message"]


def test_a_bad_csv_header_is_line_1(inproc: Runner, tmp_path: Path) -> None:
    file = tmp_path / "prompts.csv"
    file.write_text("prompt,sise\na fox,2k_1_1\n")

    result = inproc(*NOWHERE, "batch", str(file))

    assert result.returncode == 2
    assert f"{file}:1: unknown column 'sise' (did you mean 'size'?)" in result.stderr


def test_many_bad_lines_are_counted_past_the_limit(inproc: Runner, tmp_path: Path) -> None:
    file = tmp_path / "prompts.jsonl"
    file.write_text("\n".join(["{broken"] * 25))

    result = inproc(*NOWHERE, "batch", str(file))

    assert result.returncode == 2
    assert "25 bad lines" in result.stderr
    assert _lines_reported(result.stderr, file) == list(range(1, 21))
    assert "… and 5 more" in result.stderr


def test_a_bad_line_and_a_json_line_of_a_text_file_are_reported_together(
    inproc: Runner, tmp_path: Path
) -> None:
    file = tmp_path / "prompts.txt"
    file.write_bytes(b'a fox\n{"prompt": "a whale"}\nbad \xff byte\n')

    result = inproc(*NOWHERE, "batch", str(file))

    assert result.returncode == 2
    assert _lines_reported(result.stderr, file) == [2, 3]
    assert f"{file}:3: not UTF-8 text" in result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("prompts.list", "pass --format jsonl|csv|text"),
        ("missing.jsonl", "no such file"),
        ("empty.txt", "holds no requests"),
    ],
)
def test_files_that_cannot_be_read_are_usage_errors(
    inproc: Runner, tmp_path: Path, name: str, message: str
) -> None:
    if name != "missing.jsonl":
        (tmp_path / name).write_text("# nothing but a comment\n" if name == "empty.txt" else "x\n")

    result = inproc(*NOWHERE, "batch", str(tmp_path / name))

    assert result.returncode == 2
    assert message in result.stderr


def _dry_run(inproc: Runner, served: Served, *args: str, stdin: bytes | None = None) -> Any:
    result = inproc(*served.args, "--json", "batch", *args, "--dry-run", stdin=stdin)
    assert result.returncode == 0, result.output
    return result.json()


def test_format_overrides_the_extension_and_stdin_is_text(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    file = tmp_path / "prompts.list"
    file.write_text('{"prompt": "a fox", "count": 2}\n{"prompt": "a whale"}\n')

    assert _dry_run(inproc, served, str(file), "--format", "jsonl")["outputs"] == 3
    piped = _dry_run(inproc, served, "-", stdin=b"a fox\n# a comment\na whale\na cat\n")
    assert piped["requests"] == 3
    assert served.emulator.team.generations == {}


def test_defaults_fill_what_a_line_leaves_out(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    file = tmp_path / "prompts.csv"
    file.write_text(
        "prompt,size,count,lora_id,width,height\n"
        "plain,,,,,\n"
        "own size,2k_1_1,1,,,\n"
        "own lora,,,acme-ink-wash,,\n"
        "custom size,,,,1024,1536\n"
    )

    result = inproc(
        *served.args,
        "--json",
        "batch",
        *FAST,
        str(file),
        "--no-download",
        "--size",
        "2k_16_9",
        "--count",
        "2",
        "--lora",
        "neon-noir",
    )

    assert result.returncode == 0, result.output
    requests = [r["request"] for r in result.json()["results"]]
    assert requests == [
        {"prompt": "plain", "size": "2k_16_9", "count": 2, "lora_id": "neon-noir"},
        {"prompt": "own size", "size": "2k_1_1", "count": 1, "lora_id": "neon-noir"},
        {"prompt": "own lora", "lora_id": "acme-ink-wash", "size": "2k_16_9", "count": 2},
        {
            "prompt": "custom size",
            "width": 1024,
            "height": 1536,
            "count": 2,
            "lora_id": "neon-noir",
        },
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--video", "--size", "2k_1_1"], "--size is a default for image requests"),
        (["--resolution", "720p"], "--resolution is a default for video requests"),
        (["--video-lora", "x"], "--video-lora is a default for video batches: add --video"),
        (["--video", "--lora", "a", "--lora", "b"], "a video has one LoRA"),
    ],
)
def test_defaults_of_the_other_media_are_refused(
    inproc: Runner, tmp_path: Path, args: list[str], message: str
) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text("a fox\n")

    result = inproc(*NOWHERE, "batch", str(file), *args)

    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_results_file_has_a_row_per_request(
    inproc: Runner, served: Served, tmp_path: Path, suffix: str
) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text("a fox\n[fail] a broken one\na whale\n")
    results = tmp_path / "reports" / f"results.{suffix}"

    result = inproc(
        *served.args, "batch", *FAST, str(file), "--out", str(tmp_path), "--results", str(results)
    )

    assert result.returncode == 1, result.output
    assert f"Results: {results}" in result.stderr
    rows = aurous.read_results(results)
    assert [row["status"] for row in rows] == ["succeeded", "failed", "succeeded"]
    assert [row["request"]["prompt"] for row in rows] == ["a fox", "[fail] a broken one", "a whale"]
    ok = rows[0]
    assert ok["generation_id"].startswith("img_")
    assert ok["credits"] == 1
    assert ok["idempotency_key"]
    [path] = ok["paths"]
    assert Path(path).read_bytes().startswith(PNG_SIGNATURE)
    assert rows[1]["error"]["class"] == "GenerationFailedError"
    if suffix == "csv":
        with results.open(newline="") as handle:
            header = next(csv.reader(handle))
        assert header[:2] == ["index", "status"]
    else:
        assert json.loads(results.read_text().splitlines()[0])["index"] == 0


def test_a_results_file_needs_a_known_extension(inproc: Runner, tmp_path: Path) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text("a fox\n")

    result = inproc(*NOWHERE, "batch", str(file), "--results", str(tmp_path / "results.xlsx"))

    assert result.returncode == 2
    assert "--results" in result.stderr
    assert "must end in .csv or .jsonl" in result.stderr


def test_name_template_names_the_downloads(inproc: Runner, served: Served, tmp_path: Path) -> None:
    file = tmp_path / "prompts.jsonl"
    file.write_text('{"prompt": "a fox"}\n{"prompt": "two whales", "count": 2}\n')
    out = tmp_path / "out"

    result = inproc(
        *served.args, "batch", *FAST, str(file), "--out", str(out), "--name", "{index:05d}-{n}"
    )

    assert result.returncode == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["00000-0.png", "00001-0.png", "00001-1.png"]


@pytest.mark.parametrize(
    ("template", "extra", "message"),
    [
        ("{n}", [], "--name '{n}' needs {index} or {id}"),
        ("{index}/{n}", [], "--name '{index}/{n}': '/' has characters other than"),
        ("{prompt}", [], "unknown field {prompt}"),
        ("{id:.4}", [], "can give two outputs the same name"),
        ("{index}", ["--no-download"], "cannot go with --no-download"),
        ("{index}", [], "has no {n}, but line 2 of"),
    ],
)
def test_bad_name_templates_are_usage_errors_before_anything_is_sent(
    inproc: Runner, tmp_path: Path, template: str, extra: list[str], message: str
) -> None:
    file = tmp_path / "prompts.jsonl"
    file.write_text('{"prompt": "a fox"}\n{"prompt": "two whales", "count": 2}\n')

    result = inproc(*NOWHERE, "batch", str(file), "--name", template, *extra)

    assert result.returncode == 2, result.output
    assert message in result.stderr
    assert "could not reach" not in result.output


def test_stdin_that_is_not_utf8_is_a_usage_error(inproc: Runner) -> None:
    result = inproc(*NOWHERE, "batch", "-", stdin=b"a fox\n\xff\n")

    assert result.returncode == 2
    assert "<stdin> is not UTF-8 text" in result.stderr
