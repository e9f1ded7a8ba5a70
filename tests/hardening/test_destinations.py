"""The router transfers only to destinations written in the menu file, with only its headers.

Why: a phone menu that can be steered into dialling an arbitrary number is toll fraud
waiting to happen. Whatever a caller presses, whenever, however transfers end, every
`TransferTo` of a call on the bundled `menus.yaml` must name a target the file
itself writes (with directory patterns expanded to every extension they admit), and
carry only SIP headers the file writes.

The allowed sets are computed from the file's raw YAML (plain `yaml.safe_load`, not
the router's loader), so a loader or navigator that invented a target or a header
would be caught, not mirrored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from router.core.events import (
    CallEnded,
    CallStarted,
    DigitPressed,
    Event,
    Play,
    PlaybackFinished,
    TimerFired,
    TransferFailed,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.loader import load_menu_file
from router.core.model import MenuFile
from router.core.navigator import CallCaps, CallState, Navigator

MENUS = Path(__file__).resolve().parents[2] / "menus.yaml"
SCHEMES = ("tel:", "sip:", "sips:")


def _expand(pattern: str) -> list[str]:
    """Every extension a directory pattern admits: `5001`, `6xxx`, `5100-5199`."""
    if "-" in pattern:
        low, high = pattern.split("-")
        return [f"{n:0{len(low)}d}" for n in range(int(low), int(high) + 1)]
    out = [""]
    for char in pattern:
        out = [o + d for o in out for d in ("0123456789" if char in "xX" else char)]
    return out


def written_targets(raw: dict[str, Any]) -> set[str]:
    """Every transfer target the file's text names, names resolved, patterns expanded."""
    destinations: dict[str, str] = {}
    for name, value in (raw.get("destinations") or {}).items():
        destinations[name] = value if isinstance(value, str) else value["to"]
    targets = set(destinations.values())

    def resolve(target: str) -> str:
        return target if target.startswith(SCHEMES) else destinations[target]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "transfer" and isinstance(value, str):
                    targets.add(resolve(value))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(raw.get("menus"))
    walk(raw.get("defaults"))
    walk(raw.get("destinations"))
    for entries in (raw.get("directories") or {}).values():
        for pattern, value in entries.items():
            template = resolve(value if isinstance(value, str) else value["to"])
            for extension in _expand(str(pattern)):
                targets.add(template.replace("{ext}", extension))
    return targets


def written_headers(raw: object) -> set[tuple[str, str]]:
    """Every (name, value) pair under any `headers:` key of the file."""
    found: set[tuple[str, str]] = set()
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key == "headers" and isinstance(value, dict):
                found.update((str(k), str(v)) for k, v in value.items())
            else:
                found |= written_headers(value)
    elif isinstance(raw, list):
        for item in raw:
            found |= written_headers(item)
    return found


RAW = yaml.safe_load(MENUS.read_text())
TARGETS = written_targets(RAW)
HEADERS = written_headers(RAW)
MENU_FILE: MenuFile = load_menu_file(MENUS).menu_file
CAPS = CallCaps()


def test_the_allowed_sets_are_what_the_file_says() -> None:
    """The oracle itself: 100 range extensions, 1000 pattern ones, 2 fixed, 6 destinations."""
    assert len([t for t in TARGETS if t.startswith("sip:51")]) == 100
    assert len([t for t in TARGETS if t.startswith("tel:+15105556")]) == 1000
    assert {"tel:+15105550100", "sip:alice@pbx.example.com", "sip:bob@pbx.example.com"} <= TARGETS
    assert ("X-Routed-By", "menu-router") in HEADERS and ("X-Topic", "orders") in HEADERS


numbers = st.sampled_from([None, *(n for n in MENU_FILE.entries if n != "default")]) | st.text(
    "+0123456789", max_size=16
)
EST = timezone(timedelta(hours=-5))
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
).map(lambda at: at.astimezone(EST)) | st.builds(
    lambda weeks, minutes: (
        datetime(2026, 12, 1, 9, tzinfo=EST) + timedelta(weeks=weeks, minutes=minutes)
    ),
    st.integers(0, 3),
    st.integers(0, 8 * 60 - 1),
)
"""Any time, or a Tuesday in office hours (most times are after hours, whose menus
offer one transfer only)."""
keys_and_waits = st.lists(
    st.sampled_from([*Key, *"....~~~~"]) | st.from_regex(r"[56][0-9]{1,3}", fullmatch=True),
    max_size=120,
)
"""A caller: keys (all sixteen), runs of digits like extensions, `.` waiting for a
time-out, `~` hearing a prompt out."""
results = st.lists(
    st.sampled_from([200, 200, 200, 486, 600, 408, 480, 487, 403, 404, 488, 603, 500, 503, None]),
    min_size=1,
    max_size=8,
)
"""How transfers end, in turn (200: success); cycled."""


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    number=numbers,
    at=moments,
    script=keys_and_waits,
    answers=results,
    patience=st.lists(st.booleans(), min_size=1, max_size=16),
    gaps=st.lists(st.floats(0.0, 4.0), min_size=1, max_size=16),
)
def test_every_transfer_goes_where_the_file_says(
    number: str | None,
    at: datetime,
    script: list[str],
    answers: list[int | None],
    patience: list[bool],
    gaps: list[float],
) -> None:
    nav = Navigator(MENU_FILE, caps=CAPS)
    now = 0.0
    playing: int | None = None
    pending = False
    transfers = 0
    extensions = 0
    turn = 0

    def feed(event: Event) -> None:
        nonlocal playing, transfers, pending, extensions
        for effect in nav.handle(event):
            if isinstance(effect, Play):
                playing = effect.play_id
            elif isinstance(effect, TransferTo):
                transfers += 1
                pending = True
                assert effect.target in TARGETS, effect.target
                extensions += effect.destination is None
                for header in effect.settings.headers.items():
                    assert header in HEADERS, header

    def far_end(always: bool) -> None:
        """Prompts end and transfers are answered, now or (if impatient) later."""
        nonlocal playing, pending, turn
        while nav.state is not CallState.ENDED:
            turn += 1
            if not (always or patience[turn % len(patience)]):
                return
            if pending:
                pending = False
                status = answers[transfers % len(answers) - 1]
                feed(TransferSucceeded(now) if status == 200 else TransferFailed(status, "x", now))
            elif playing is not None:
                play, playing = playing, None
                feed(PlaybackFinished(play, now))
            else:
                return

    feed(CallStarted(number, at, now))
    for i, step in enumerate(script):
        far_end(always=False)
        if nav.state is CallState.ENDED:
            break
        now += gaps[i % len(gaps)]
        if step == ".":
            armed = nav.next_deadline()
            assert armed is not None  # CALL_LIMIT is armed for the whole call
            now = max(now, armed[1])
            feed(TimerFired(armed[0], now))
        elif step == "~":
            far_end(always=True)
        else:
            for symbol in step:
                feed(DigitPressed(Key(symbol), now))
                now += 0.3
    # then the caller goes quiet and hears everything out: the call must still end,
    # within the caps, on a transfer to a written target or a hangup
    for _ in range(10_000):
        far_end(always=True)
        if nav.state is CallState.ENDED:
            break
        armed = nav.next_deadline()
        assert armed is not None, nav.state
        now = max(now, armed[1])
        feed(TimerFired(armed[0], now))
    assert nav.state is CallState.ENDED
    assert transfers <= CAPS.max_transfers
    assert nav.handle(CallEnded(now)) == []
    event(f"transfers: {transfers}")
    event(f"ended: {nav.end_reason}")
    event(f"dialled an extension: {extensions > 0}")
