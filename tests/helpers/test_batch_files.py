"""Requests from files (``aurous.read_requests``), results to files (``aurous.write_results``) and
templated download names (``file_name=``)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous._batch._names import FileNameTemplate

from .conftest import Harness


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- reading requests ------------------------------------------------------------------------------


def test_text_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "prompts.txt", "# a comment\n\na red fox\n  a blue whale  \n\n#x\nend")
    requests = aurous.read_requests(path)
    assert requests == [{"prompt": "a red fox"}, {"prompt": "a blue whale"}, {"prompt": "end"}]
    assert requests.lines == [3, 4, 7]
    assert requests.format == "text"
    assert requests.path == str(path)


def test_jsonl_file_with_malformed_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "run.jsonl",
        '{"prompt": "fine", "count": 2}\n'
        "\n"
        "[1, 2]\n"
        '{"promt": "typo"}\n'
        "{not json\n"
        '{"prompt": "x", "count": "2"}\n'
        '"just a string"\n'
        '{"prompt": "x", "size": "2k_1_1", "width": 1024, "height": 1024}\n'
        '{"prompt": "also fine", "idempotency_key": "k1"}\n'
        '{"prompt": "same key", "idempotency_key": "k1"}\n',
    )
    with pytest.raises(aurous.RequestFileError) as caught:
        aurous.read_requests(path)
    error = caught.value
    assert isinstance(error, ValueError)
    assert [line for line, _ in error.errors] == [3, 4, 5, 6, 7, 8, 10]
    messages = dict(error.errors)
    assert "must be a JSON object of create parameters, not an array" in messages[3]
    assert "'promt'" in messages[4]
    assert "did you mean 'prompt'" in messages[4]
    assert "not valid JSON" in messages[5]
    assert "count must be int" in messages[6]
    assert "not a str" in messages[7]
    assert "size cannot be combined" in messages[8]
    assert "also on line 9" in messages[10]
    assert error.count == 7
    text = str(error)
    assert text.startswith(f"{path}: 7 bad lines")
    assert "  line 4: " in text


def test_csv_file_converts_cells_to_the_parameter_types(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "prompts.csv",
        "prompt,count,enhance_prompt,guidance_scale,seed,reference_image_urls,loras,size\n"
        '"a fox, at dusk",2,yes,7.5,42,https://x.test/a.png|https://x.test/b.png,,2k_16_9\n'
        'plain,,FALSE,,,"[""file_1""]","[{""lora"": ""lora_x"", ""weight"": 0.5}]",\n'
        ",,,,,,,\n"
        "last,1,1,3,0,,,\n",
    )
    requests = aurous.read_requests(path)
    assert requests == [
        {
            "prompt": "a fox, at dusk",
            "count": 2,
            "enhance_prompt": True,
            "guidance_scale": 7.5,
            "seed": 42,
            "reference_image_urls": ["https://x.test/a.png", "https://x.test/b.png"],
            "size": "2k_16_9",
        },
        {
            "prompt": "plain",
            "enhance_prompt": False,
            "reference_image_urls": ["file_1"],
            "loras": [{"lora": "lora_x", "weight": 0.5}],
        },
        {"prompt": "last", "count": 1, "enhance_prompt": True, "guidance_scale": 3.0, "seed": 0},
    ]
    assert requests.lines == [2, 3, 5]
    videos = aurous.read_requests(
        io.StringIO("prompt,duration,camera_fixed,resolution\nwaves,4,true,720p\n"),
        format="csv",
        media="video",
    )
    assert videos == [
        {"prompt": "waves", "duration": 4, "camera_fixed": True, "resolution": "720p"}
    ]


def test_csv_file_with_malformed_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        "prompt,count,enhance_prompt,guidance_scale,loras\n"
        "ok,1,,,\n"
        "x,two,maybe,,\n"
        "y,1,,nan,\n"
        'z,,,,"[not json"\n'
        "w,1,,,,extra\n"
        ",3,,,\n",
    )
    with pytest.raises(aurous.RequestFileError) as caught:
        aurous.read_requests(path)
    errors = dict(caught.value.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "count: 'two' is not an integer" in errors[3]
    assert "enhance_prompt: 'maybe' is not a boolean" in errors[3]
    assert "guidance_scale: 'nan' is not a finite number" in errors[4]
    assert "loras: " in errors[5]
    assert "not valid JSON" in errors[5]
    assert "6 cells, but the header has 5 columns" in errors[6]
    assert "missing required argument" in errors[7]
    assert "'prompt'" in errors[7]

    header = _write(tmp_path, "header.csv", "promt,count,count\nx,1,2\n")
    with pytest.raises(aurous.RequestFileError) as caught:
        aurous.read_requests(header)
    assert caught.value.errors == [
        (1, "unknown column 'promt' (did you mean 'prompt'?)"),
        (1, "column 'count' appears more than once"),
    ]


def test_multiline_csv_cells_keep_their_starting_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.csv", 'prompt,count\n"two\nlines",1\nnext,x\n')
    with pytest.raises(aurous.RequestFileError) as caught:
        aurous.read_requests(path)
    assert [line for line, _ in caught.value.errors] == [4]


def test_errors_are_collected_up_to_a_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, "many.jsonl", "[]\n" * 50)
    with pytest.raises(aurous.RequestFileError) as caught:
        aurous.read_requests(path, max_errors=5)
    assert len(caught.value.errors) == 5
    assert caught.value.count == 50
    assert str(caught.value).endswith("… and 45 more")


def test_format_and_encoding(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format='jsonl', 'csv' or 'text'"):
        aurous.read_requests(_write(tmp_path, "prompts.dat", "x\n"))
    assert aurous.read_requests(_write(tmp_path, "p.dat", "x\n"), format="text") == [
        {"prompt": "x"}
    ]
    with pytest.raises(ValueError, match="format="):
        aurous.read_requests(io.StringIO("x\n"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffprompt\nsaved by a spreadsheet\n".encode())
    assert aurous.read_requests(bom) == [{"prompt": "saved by a spreadsheet"}]
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"fine\ncaf\xe9\n")
    with pytest.raises(aurous.RequestFileError) as caught:
        aurous.read_requests(latin)
    assert caught.value.errors == [(2, "not UTF-8 text")]
    with pytest.raises(aurous.RequestFileError, match="a video needs a prompt"):
        aurous.read_requests(io.StringIO('{"resolution": "720p"}\n'), format="jsonl", media="video")


def test_requests_read_from_a_file_run_as_a_batch(h: Harness, tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", "prompt,count\none,1\ntwo,2\n")
    results = h(h.client.images.batch(aurous.read_requests(path)))
    assert [len(r.generation.outputs) for r in results if r.generation] == [1, 2]


# ---- writing results ----------------------------------------------------------------------------


def test_results_round_trip(h: Harness, tmp_path: Path) -> None:
    requests: list[Any] = [
        "fine",
        {"prompt": "two, with a comma", "count": 2},
        "broken [fail]",
        {"prompt": "not started", "count": 4},
    ]
    results = h(
        h.client.images.batch(requests, concurrency=1, max_credits=4, download_to=tmp_path / "out")
    )
    assert [r.status for r in results] == ["succeeded", "succeeded", "failed", "not_started"]
    for suffix in ("csv", "jsonl"):
        path = aurous.write_results(results, tmp_path / f"results.{suffix}")
        rows = aurous.read_results(path)
        assert [row["index"] for row in rows] == [0, 1, 2, 3]
        assert [row["status"] for row in rows] == [r.status for r in results]
        assert [row["not_started"] for row in rows] == [False, False, False, True]
        assert [row["skipped"] for row in rows] == [False] * 4
        assert [row["request"] for row in rows] == [r.request for r in results]
        assert [row["idempotency_key"] for row in rows] == [r.idempotency_key for r in results]
        assert [row["generation_id"] for row in rows] == [
            r.generation.id if r.generation else None for r in results
        ]
        assert [row["generation_status"] for row in rows] == [
            "succeeded",
            "succeeded",
            "failed",
            None,
        ]
        assert [row["credits"] for row in rows] == [1, 2, 0, None]
        assert [row["paths"] for row in rows] == [[str(p) for p in r.paths] for r in results]
        assert rows[0]["error"] is None
        assert rows[2]["error"]["class"] == "GenerationFailedError"
        assert rows[3]["error"] == {
            "class": "BudgetExceededError",
            "message": str(results[3].error),
        }
    header = (tmp_path / "results.csv").read_text().splitlines()[0]
    assert header == (
        "index,status,not_started,skipped,generation_id,generation_status,credits,"
        "idempotency_key,paths,error,request"
    )
    first = json.loads((tmp_path / "results.jsonl").read_text().splitlines()[0])
    assert first["request"] == {"prompt": "fine"}
    with pytest.raises(ValueError, match="format='jsonl' or 'csv'"):
        aurous.write_results(results, tmp_path / "results.txt")


# ---- file name templates ----------------------------------------------------------------------------


def test_templated_file_names(h: Harness, tmp_path: Path) -> None:
    out = tmp_path / "out"
    requests: list[Any] = ["one", {"prompt": "two", "count": 2}]
    results = h(h.client.images.batch(requests, download_to=out, file_name="{index:05d}-{n}-{id}"))
    names = [[p.name for p in r.paths] for r in results]
    ids = [r.generation.id for r in results if r.generation]
    assert names == [[f"00000-0-{ids[0]}.png"], [f"00001-0-{ids[1]}.png", f"00001-1-{ids[1]}.png"]]
    videos = h(
        h.client.videos.batch(
            [{"prompt": "waves", "duration": 2}], download_to=out, file_name="clip-{index}"
        )
    )
    assert [p.name for p in videos[0].paths] == ["clip-0.mp4"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names[0], *names[1], "clip-0.mp4"])


def test_a_template_without_n_refuses_requests_with_several_images(
    h: Harness, tmp_path: Path
) -> None:
    results = h(
        h.client.images.batch(
            ["one", {"prompt": "two", "count": 2}], download_to=tmp_path, file_name="{index}"
        )
    )
    assert results[0].ok
    assert [p.name for p in results[0].paths] == ["0.png"]
    assert "has no {n}" in str(results[1].error)
    assert len(h.emu.team.generations) == 1


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("out", "needs {index} or {id}"),
        ("{n}", "needs {index} or {id}"),
        ("../{index}", "characters other than"),
        ("sub/{index}", "characters other than"),
        ("/abs/{index}", "characters other than"),
        ("a b {index}", "characters other than"),
        ("{index}\\{n}", "characters other than"),
        ("{id:.4}", "same name"),
        ("{index:.0}", "cannot be rendered"),
        ("{index:>300}", "not a plain file name"),
        ("{index:>8}", "not a plain file name"),
        ("{prompt}-{index}", "unknown field {prompt}"),
        ("{0}", "unknown field"),
        ("{index.real}", "unknown field"),
        ("{id!r}", "no conversion"),
        ("{index:{n}}", "no conversion or nested field"),
        ("{index", "not a valid template"),
        (".{index}", "not starting with '.'"),
    ],
)
def test_templates_that_collide_or_escape_are_refused(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        FileNameTemplate.parse(template)


def test_template_arguments_are_checked_before_anything_is_sent(h: Harness, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs download_to"):
        h(h.client.images.batch(["x"], file_name="{index}"))
    with pytest.raises(ValueError, match=r"same name"):
        h(h.client.videos.batch(["x"], download_to=tmp_path, file_name="{id:.3}"))
    assert h.emu.team.generations == {}
    template = FileNameTemplate.parse("{index:06d}_{id}_{n}")
    assert template.render(7, "img_01AB", 2) == "000007_img_01AB_2"
    assert template.render(7, "img/../x", 0) == "000007_img_.._x_0"
