"""Clients that pace alone say once when other clients hold the team's slots, and where the remedy is."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import aurous
from aurous import _pacing
from aurous.emulator import Emulator

HINT = "generation slots"


@pytest.fixture(autouse=True)
def _not_yet_hinted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pacing, "_sharing_hinted", False)


def _hints(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if HINT in r.getMessage()]


def _refused(client: aurous.Client) -> None:
    with pytest.raises(aurous.RateLimitError) as info:
        client.images.create(prompt="one too many", max_retries=0)
    assert info.value.code == "concurrency_limit_exceeded"


def test_a_client_refused_while_others_hold_the_slots_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = Emulator(clock="manual", image_phases=(60.0, 60.0))
    other, this = emu.client(), emu.client()  # two processes' worth: each paces alone
    for n in range(8):
        other.images.create(prompt=f"the other holds {n}")
    for n in range(2):
        this.images.create(prompt=f"this holds {n}")
    with caplog.at_level(logging.WARNING, logger="aurous"):
        _refused(this)
        _refused(this)
        _refused(other)
    hints = _hints(caplog)
    assert len(hints) == 1, hints
    assert "holds 2 of the team's 10 generation slots" in hints[0]
    assert "pacing='file:///dir'" in hints[0]
    assert "AUROUS_PACING_URL" in hints[0]
    assert emu.api_key not in hints[0]
    emu.close()


def test_a_client_alone_at_the_limit_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    emu = Emulator(clock="manual", image_phases=(60.0, 60.0), concurrency_limit=3)
    client = emu.client()
    for n in range(3):
        client.images.create(prompt=f"holds {n}")
    with caplog.at_level(logging.WARNING, logger="aurous"):
        _refused(client)
    assert _hints(caplog) == []
    emu.close()


def test_clients_sharing_a_store_are_not_told_to_share_one(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    emu = Emulator(clock="manual", image_phases=(60.0, 60.0))
    other = emu.client()
    for n in range(9):
        other.images.create(prompt=f"outside the store {n}")
    client = emu.client(pacing=f"file://{tmp_path}")
    client.images.create(prompt="the one slot left")
    with caplog.at_level(logging.WARNING, logger="aurous"):
        _refused(client)
    assert _hints(caplog) == []
    client.close()
    emu.close()
