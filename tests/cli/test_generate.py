"""``aurous generate`` / ``video`` end to end: real files on disk, cost and request id reported."""

from __future__ import annotations

import zlib
from pathlib import Path

from .conftest import FAST, PNG_SIGNATURE, Runner, Served, run_cli


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (16).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80\x40\x20" * 16 for _ in range(16)))
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_generate_with_the_in_process_emulator_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "--emulator",
        "--emulator-speed",
        "20",
        "generate",
        "a lighthouse at dusk",
        "--out",
        f"{out}/",
    )

    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert len(paths) == 1
    assert paths[0].parent == out
    assert paths[0].read_bytes().startswith(PNG_SIGNATURE)
    assert "NOT the real Aurous API" in result.stderr
    assert "cost 1 credit" in result.stderr
    assert "request id req_" in result.stderr
    assert "\x1b" not in result.output


def test_generate_against_the_served_emulator_reports_json(served: Served, tmp_path: Path) -> None:
    result = served.run(
        "--json", "generate", *FAST, "two foxes", "--count", "2", "--size", "2k_16_9",
        "--out", str(tmp_path),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    data = result.json()
    generation = data["generation"]
    assert generation["status"] == "succeeded"
    assert generation["size_preset"] == "2k_16_9"
    assert data["cost"]["amount"] == 2
    assert data["request_id"] == generation["creation_request_id"]
    assert len(data["paths"]) == 2
    for path in data["paths"]:
        assert Path(path).read_bytes().startswith(PNG_SIGNATURE)
    assert served.emulator.generation(generation["id"]).status == "succeeded"
    assert "NOT the real" not in result.stderr


def test_non_tty_progress_is_plain_lines_without_escape_codes(
    served: Served, tmp_path: Path
) -> None:
    result = served.run("generate", *FAST, "a quiet harbour", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.output
    lines = result.stderr.splitlines()
    assert any(line.startswith("Created img_") for line in lines)
    assert any(" succeeded (" in line for line in lines)
    assert not any("\r" in line for line in lines)


def test_quiet_prints_only_the_paths(served: Served, inproc: Runner, tmp_path: Path) -> None:
    result = inproc(
        *served.args, "-q", "generate", *FAST, "a quiet harbour", "--out", str(tmp_path)
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert Path(result.stdout.strip()).read_bytes().startswith(PNG_SIGNATURE)


def test_no_wait_prints_the_id_and_leaves_the_generation_running(
    served: Served, inproc: Runner
) -> None:
    result = inproc(*served.args, "generate", *FAST, "a lighthouse", "--no-wait")

    assert result.returncode == 0, result.stderr
    gid = result.stdout.strip()
    assert gid.startswith("img_")
    assert served.emulator.generation(gid) is not None


def test_failed_generation_exits_1_with_the_reason_and_request_id(
    served: Served, tmp_path: Path
) -> None:
    result = served.run("generate", *FAST, "[fail] a broken lighthouse", "--out", str(tmp_path))

    assert result.returncode == 1
    assert "ended failed: internal_error" in result.stderr
    assert "request id req_" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_video_uploads_a_local_first_frame(served: Served, tmp_path: Path) -> None:
    frame = tmp_path / "frame.png"
    frame.write_bytes(_tiny_png())
    out = tmp_path / "videos"

    result = served.run(
        "--json",
        "video",
        *FAST,
        "waves at night",
        "--lora",
        "seedance-1-pro",
        "--duration",
        "2",
        "--first-frame",
        str(frame),
        "--out",
        str(out),
    )

    assert result.returncode == 0, result.stderr
    data = result.json()
    assert data["generation"]["inference_type"] == "i2v"
    assert "Uploaded" in result.stderr
    assert "file_" in result.stderr
    [path] = data["paths"]
    assert Path(path).parent == out
    assert Path(path).stat().st_size > 0


def test_video_first_frame_that_does_not_exist_is_a_usage_error(
    served: Served, inproc: Runner
) -> None:
    result = inproc(
        *served.args,
        "video",
        *FAST,
        "waves",
        "--lora",
        "seedance-1-pro",
        "--first-frame",
        "nope.png",
    )

    assert result.returncode == 2
    assert "--first-frame: no such file: nope.png" in result.stderr
