"""What mypy sees: typos in keyword arguments and options are caught before anything runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest
from mypy import api as mypy_api

import aurous

ROOT = Path(__file__).resolve().parents[1]


def _mypy(tmp_path: Path, code: str) -> str:
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(code), encoding="utf-8")
    stdout, _, _ = mypy_api.run(
        ["--strict", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml"), str(source)]
    )
    return stdout


@pytest.mark.slow
def test_mypy_catches_typos_in_options_and_parameters(tmp_path: Path) -> None:
    out = _mypy(
        tmp_path,
        """
        import aurous

        client = aurous.Client(api_key="k")
        client.with_options(timeot=3)
        client.images.create(promt="x")
        client.with_options(timeout=3, max_retries=1, max_rate_limit_wait=10)
        """,
    )
    assert 'Unexpected keyword argument "timeot"' in out
    assert '"promt"' in out
    assert 'did you mean "prompt"' in out
    assert out.count("error:") == 2  # the valid with_options call passes


@pytest.mark.slow
def test_mypy_catches_misspelt_public_names(tmp_path: Path) -> None:
    # The lazy packages' __getattr__ is hidden from type checkers: with it, mypy would accept
    # any attribute of aurous.
    out = _mypy(
        tmp_path,
        """
        import aurous
        import aurous.emulator
        import aurous.types

        aurous.Clent
        aurous.types.Generashun
        aurous.emulator.Emulater
        aurous.Client, aurous.types.Generation, aurous.emulator.Emulator, aurous.webhooks.verify
        """,
    )
    assert 'Module has no attribute "Clent"' in out
    assert 'Module has no attribute "Generashun"' in out
    assert 'Module has no attribute "Emulater"' in out
    assert out.count("error:") == 3


def test_a_typo_is_named_with_the_closest_parameter() -> None:
    client = aurous.Client(api_key="k", http_client=httpx.Client())
    with pytest.raises(
        TypeError, match=r"unexpected keyword argument 'promt' \(did you mean 'prompt'\?\)"
    ):
        client.images.create(promt="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^images\.create\(\) got"):
        client.images.create(promt="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^videos\.wait\(\) got .*'max_poll_interval'"):
        client.videos.wait("vid_1", max_pol_interval=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^characters\.uploads\.init\(\)"):
        client.characters.uploads.init(filenme="a.png")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"missing required argument\(s\): 'prompt'"):
        client.images.create(size="2k_1_1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="with_options"):
        client.with_options(timeot=3)  # type: ignore[call-arg]


def test_an_unknown_keyword_without_a_near_name_is_named_plainly() -> None:
    client = aurous.Client(api_key="k", http_client=httpx.Client())
    with pytest.raises(TypeError) as caught:
        client.images.create(prompt="x", zzz=1)  # type: ignore[call-arg]
    assert "unexpected keyword argument 'zzz'" in str(caught.value)
    assert "did you mean" not in str(caught.value)
