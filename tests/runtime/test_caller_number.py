"""The caller's number the runtime hands the navigator for the file's caller rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from livekit import rtc

from router.runtime.call import SIP, caller_number_of


@dataclass
class _Participant:
    attributes: dict[str, str] = field(default_factory=dict)
    kind: Any = SIP


def number_of(participant: _Participant) -> str | None:
    return caller_number_of(cast(rtc.RemoteParticipant, participant))


def test_a_sip_caller_s_number_is_sip_phone_number() -> None:
    assert number_of(_Participant({"sip.phoneNumber": "+15105550111"})) == "+15105550111"


@pytest.mark.parametrize("attributes", [{}, {"sip.phoneNumber": ""}])
def test_a_sip_caller_without_a_number_is_withheld(attributes: dict[str, str]) -> None:
    assert number_of(_Participant(attributes)) == "anonymous"


def test_anonymous_is_passed_on_for_the_rules_to_read() -> None:
    assert number_of(_Participant({"sip.phoneNumber": "anonymous"})) == "anonymous"


def test_a_browser_caller_is_judged_by_no_rule() -> None:
    browser = _Participant({}, rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD)
    assert number_of(browser) is None
