"""Read-only commands print tables (plain text off a terminal) or the API's JSON."""

from __future__ import annotations

import pytest

from .conftest import FAST, Runner, Served


def test_balance_table(served: Served) -> None:
    result = served.run("balance")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["field", "value"]
    assert ["available", "1000", "credits"] in [line.split() for line in lines]
    assert ["billing", "mode", "metered"] in [line.split() for line in lines]
    assert "\x1b" not in result.output


def test_pricing_table_lists_image_and_video_rates(served: Served) -> None:
    result = served.run("pricing")

    assert result.returncode == 0, result.stderr
    rows = {line.split("  ")[0].strip(): line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["image"][1] == "1"
    assert rows["video"][1] == "0.5"
    assert rows["video 1080p"][2] == "x2.5"


def test_loras_json_after_the_command_parses(served: Served) -> None:
    result = served.run("loras", "--json")  # a global option after the command

    assert result.returncode == 0, result.stderr
    slugs = [lora["slug"] for lora in result.json()]
    assert "golden-hour-photography" in slugs


def test_balance_json_is_the_api_object(served: Served, inproc: Runner) -> None:
    result = inproc(*served.args, "--json", "balance")

    assert result.returncode == 0, result.stderr
    assert result.json() == served.emulator.client().balance.retrieve().to_dict()


def test_loras_tables(served: Served, inproc: Runner) -> None:
    images = inproc(*served.args, "loras")
    videos = inproc(*served.args, "loras", "--video")

    assert images.returncode == videos.returncode == 0
    slugs = [lora.slug for lora in served.emulator.client().loras.list()]
    assert slugs
    assert all(slug in images.stdout for slug in slugs if slug)
    assert "seedance-1-pro" in videos.stdout


def test_team_and_usage(served: Served, inproc: Runner) -> None:
    inproc(*served.args, "-q", "generate", *FAST, "one", "--no-wait")

    team = inproc(*served.args, "--json", "team")
    usage = inproc(*served.args, "usage", "--since", "1h", "--bucket", "1h")
    events = inproc(*served.args, "--json", "usage", "--since", "1h", "--events")

    assert team.json()["name"] == "Acme Studio"
    assert usage.returncode == 0, usage.stderr
    totals = [line.split() for line in usage.stdout.splitlines() if line.startswith("total")]
    assert totals == [["total", "1", "1", "0", "0", "1", "1", "0"]]
    assert [row["status"] for row in events.json()] == ["completed"]


def test_estimate_shows_the_breakdown(served: Served, inproc: Runner) -> None:
    image = inproc(*served.args, "--json", "estimate", "a fox", "--count", "3", "--enhance")
    video = inproc(
        *served.args,
        "estimate",
        "waves",
        "--video-lora",
        "seedance-1-pro",
        "--resolution",
        "1080p",
        "--duration",
        "5",
    )

    assert image.json()["estimated_cost"]["breakdown"] == {"base": 3, "enhance": 3}
    assert ["estimated", "cost", "6.25", "credits"] in [
        line.split() for line in video.stdout.splitlines()
    ]


def test_list_get_wait_and_cancel(served: Served, inproc: Runner) -> None:
    gid = inproc(*served.args, "generate", *FAST, "a lighthouse", "--no-wait").stdout.strip()

    listed = inproc(*served.args, "--json", "list", "--limit", "5")
    got = inproc(*served.args, "get", gid)
    waited = inproc(*served.args, "wait", *FAST, gid)
    cancel = inproc(*served.args, "cancel", gid)

    assert [g["id"] for g in listed.json()] == [gid]
    assert got.returncode == 0
    assert ["id", gid] in [line.split()[:2] for line in got.stdout.splitlines()]
    assert waited.returncode == 0
    assert waited.stdout.startswith(f"{gid} · succeeded")
    # Instant mode finished it on the first read: cancelling a finished generation is refused.
    assert cancel.returncode == 1
    assert "code: generation_not_cancellable" in cancel.stderr


def test_download_of_an_existing_generation(
    served: Served, inproc: Runner, tmp_path: object
) -> None:
    gid = inproc(*served.args, "generate", *FAST, "a lighthouse", "--no-wait").stdout.strip()
    inproc(*served.args, "wait", *FAST, gid)

    result = inproc(*served.args, "--json", "download", gid, "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    [path] = result.json()["paths"]
    assert path.endswith(".png")
    again = inproc(*served.args, "download", gid, "--out", str(tmp_path))
    replaced = inproc(*served.args, "download", gid, "--out", str(tmp_path), "--overwrite")
    assert again.returncode == 1
    assert "already exists (add --overwrite to replace it)" in again.stderr
    assert replaced.returncode == 0
    assert replaced.stdout.strip() == path


def test_video_estimate_from_a_first_frame_alone(served: Served, inproc: Runner) -> None:
    # The API accepts a video with a prompt or a first frame; the price depends on neither.
    frame = "https://example.com/frame.png"
    base = ["--video-lora", "seedance-1-pro", "--resolution", "1080p", "--duration", "5"]

    from_frame = inproc(*served.args, "--json", "estimate", *base, "--first-frame", frame)
    from_prompt = inproc(*served.args, "--json", "estimate", "waves", *base)

    assert from_frame.returncode == 0, from_frame.stderr
    assert from_frame.json()["estimated_cost"]["amount"] == 6.25
    assert from_frame.json() == from_prompt.json()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--video-lora", "seedance-1-pro", "--duration", "5"],
            "a video estimate needs a PROMPT or --first-frame",
        ),
        (["--count", "2"], "an image estimate needs a PROMPT"),
        (["a fox", "--duration", "5"], "--duration: only for video estimates"),
        (
            ["waves", "--video-lora", "seedance-1-pro", "--count", "2", "--size", "2k_1_1"],
            "--size, --count: only for image estimates",
        ),
        (
            ["--video-lora", "seedance-1-pro", "--first-frame", "frame.png"],
            "--first-frame frame.png: give a file_… id or an https:// URL",
        ),
    ],
)
def test_estimate_names_what_is_missing_or_misplaced(
    inproc: Runner, args: list[str], message: str
) -> None:
    result = inproc("--emulator", "estimate", *args)

    assert result.returncode == 2
    assert message in result.stderr
    assert "NOT the real Aurous API" not in result.stderr  # refused before any request
