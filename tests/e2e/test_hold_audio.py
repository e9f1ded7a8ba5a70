"""Hold audio over the real stack: between the REFER and the final NOTIFY the caller
hears the destination's hold audio as RTP energy; a destination without it is silent.

A router of its own (agent, number, menu file) on the session's stack.
"""

from __future__ import annotations

import math
import wave
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.stack.sipphone import CallReport, place_call
from tests.e2e.conftest import Stack, router_of_its_own

AGENT = "menu-router-e2e-hold"
NUMBER = "+15550100015"
RATE = 8000
"""The phone records PCMU as 8 kHz samples."""

MENUS = """\
version: 1
defaults:
  timeouts: {first_digit: 20s}
  transfer: {play_dialtone: false}
destinations:
  held:
    to: "tel:+15105550181"
    hold: "Please hold while we connect your call. Thank you for waiting. Please hold."
  silent: "tel:+15105550182"
numbers:
  default: {menu: main}
menus:
  main:
    greeting: "Press 1 or 2."
    options:
      "1": {transfer: held}
      "2": {transfer: silent}
"""


@pytest.fixture(scope="module")
def hold_router(e2e: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with router_of_its_own(
        e2e.stack, tmp_path_factory.mktemp("hold"), AGENT, NUMBER, MENUS
    ) as folder:
        yield folder


def rms_between(report: CallReport, wav: Path, start: float, end: float) -> float:
    """RMS (0..1) of the audio received between two monotonic times; the recording
    starts at the first RTP packet and places audio by RTP timestamp."""
    assert report.audio.first_packet_at is not None
    with wave.open(str(wav), "rb") as w:
        samples = array("h", w.readframes(w.getnframes()))
        rate = w.getframerate()
    first = report.audio.first_packet_at
    window = samples[int((start - first) * rate) : int((end - first) * rate)]
    assert len(window) > rate // 2, "the window holds half a second of audio at least"
    return math.sqrt(sum((s / 32768) ** 2 for s in window) / len(window))


async def transfer_with_a_slow_answer(
    e2e: Stack, key: str, wav: Path
) -> tuple[CallReport, float, float]:
    report = await place_call(
        e2e.uri(NUMBER),
        keys=key,
        caller_id="+15550880001",
        notify_delay_s=4.0,  # the far end rings for 4 s before the final NOTIFY
        record_to=wav,
        timeout_s=40.0,
    )
    assert report.answered and report.refer is not None
    finals = [n for n in report.refer.notifies if n.status >= 200]
    assert finals and finals[-1].status == 200
    return report, report.refer.received_at, finals[-1].sent_at


async def test_hold_audio_is_heard_between_the_refer_and_the_notify(
    e2e: Stack, hold_router: Path
) -> None:
    wav = hold_router / "held.wav"
    report, refer_at, notify_at = await transfer_with_a_slow_answer(e2e, "1", wav)
    assert notify_at - refer_at > 3.0
    rms = rms_between(report, wav, refer_at + 0.5, notify_at - 0.2)
    assert rms > 0.01, f"hold audio heard while the transfer rings (rms {rms:.4f})"


async def test_without_hold_audio_the_caller_hears_silence(e2e: Stack, hold_router: Path) -> None:
    wav = hold_router / "silent.wav"
    report, refer_at, notify_at = await transfer_with_a_slow_answer(e2e, "2", wav)
    rms = rms_between(report, wav, refer_at + 0.5, notify_at - 0.2)
    assert rms < 0.005, f"silence while the transfer rings (rms {rms:.4f})"
