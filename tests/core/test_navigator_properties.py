"""Properties of the navigator over generated menu files and callers.

For any valid menu file and any caller (keys, silences, prompts heard to the end or
cut short, transfers that succeed or fail in any way), the call ends with a Disconnect
within a bounded number of steps, only ever transfers to targets the file names, and
never takes a transition outside the state table.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from functools import partial
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from router.core.events import (
    CallStarted,
    DigitPressed,
    Disconnect,
    Effect,
    Event,
    Play,
    PlaybackFinished,
    TimerFired,
    TransferFailed,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import (
    Action,
    Back,
    Directory,
    DirectoryEntry,
    Entry,
    FailurePolicy,
    GoTo,
    Hangup,
    Limits,
    Menu,
    MenuFile,
    Prompt,
    Repeat,
    Say,
    Schedule,
    Timeouts,
    Top,
    Transfer,
    TransferSettings,
    Weekday,
)
from router.core.navigator import CallCaps, CallState, Navigator

CAPS = CallCaps(max_keys=30, max_transfers=3, max_call_s=120.0)
MIN_TIMEOUT_S = 0.5
MAX_STEPS = (
    4 * (CAPS.max_keys + 1)
    + 8 * (CAPS.max_transfers + 1)
    + int(4 * CAPS.max_call_s / MIN_TIMEOUT_S)
)
"""Keys, transfers and time-outs are all capped; each costs a few events at most."""

TARGETS = ["tel:+15550000001", "tel:+15550000002", "sip:desk@pbx.example.com"]
EXT_TARGETS = ["sip:{ext}@pbx.example.com", "tel:+1555000{ext}"]

COMMON_KEYS = [Key.D0, Key.D1, Key.D2, Key.D3, Key.STAR, Key.POUND]
keys = st.sampled_from(COMMON_KEYS) | st.sampled_from(list(Key))
"""Mostly a few keys, so that callers often press one the menu offers."""

prompts = st.sampled_from([None, Prompt(), Prompt("hello"), Prompt(audio="menu.wav")])


def actions(names: list[str], depth: int = 1) -> st.SearchStrategy[Action]:
    simple: list[st.SearchStrategy[Action]] = [
        st.builds(GoTo, st.sampled_from(names), prompts),
        st.builds(Back, prompts),
        st.builds(Top, prompts),
        st.builds(Repeat, prompts),
        st.builds(Say, prompts.map(lambda p: p or Prompt())),
        st.builds(Hangup, prompts),
        transfers(names, depth),
    ]
    return st.one_of(simple)


def transfers(names: list[str], depth: int) -> st.SearchStrategy[Transfer]:
    return st.builds(
        Transfer,
        target=st.sampled_from(TARGETS),
        destination=st.sampled_from([None, "somewhere"]),
        settings=st.builds(TransferSettings, announce=prompts),
        on_failure=st.none() if depth == 0 else st.none() | policies(names, depth - 1),
        message=prompts,
    )


def policies(names: list[str], depth: int) -> st.SearchStrategy[FailurePolicy]:
    a = actions(names, depth)
    return st.builds(FailurePolicy, busy=a, no_answer=a, rejected=a, error=a)


@st.composite
def patterns(draw: st.DrawFn) -> str:
    length = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["exact", "x", "range", "odd range"]))
    if kind == "odd range":  # bounds of different lengths: the model still answers
        return f"{draw(st.integers(0, 99))}-{draw(st.integers(0, 999))}"
    if kind == "range":
        low = draw(st.integers(0, 10**length - 1))
        high = draw(st.integers(low, 10**length - 1))
        return f"{low:0{length}d}-{high:0{length}d}"
    chars = "0123456789" + ("x" if kind == "x" else "")
    return draw(st.text(chars, min_size=length, max_size=length))


@st.composite
def directories(draw: st.DrawFn, max_size: int = 4) -> Directory:
    entries = draw(
        st.lists(
            st.builds(
                DirectoryEntry,
                patterns(),
                st.builds(Transfer, st.sampled_from(TARGETS + EXT_TARGETS)),
            ),
            min_size=1,
            max_size=max_size,
        )
    )
    return Directory("staff", tuple(entries))


@st.composite
def dialled(draw: st.DrawFn, directory: Directory) -> str:
    """Digits near the directory: an extension of some entry, a prefix of one, or any."""
    entry = draw(st.sampled_from(directory.entries))
    if "-" in entry.pattern:
        low, high = entry.pattern.split("-")
        number = f"{draw(st.integers(int(low), max(int(low), int(high)))):0{len(low)}d}"
    else:
        number = "".join(
            draw(st.sampled_from("0123456789")) if c == "x" else c for c in entry.pattern
        )
    near = number[: draw(st.integers(1, len(number)))]
    return draw(st.just(near) | st.text("0123456789", min_size=1, max_size=5))


@given(data=st.data(), directory=directories(max_size=8))
def test_extension_index_answers_as_the_model(data: st.DataObject, directory: Directory) -> None:
    index = directory.index
    for _ in range(5):
        digits = data.draw(dialled(directory))
        match, entry = index.entry(digits)
        found = entry.resolve(digits, directory.name) if entry is not None else None
        assert (match, found) == directory.lookup(digits), digits


@st.composite
def menu_files(draw: st.DrawFn) -> MenuFile:
    names = [f"m{i}" for i in range(draw(st.integers(1, 4)))]
    directory = draw(st.none() | directories())
    menus: dict[str, Menu] = {}
    for name in names:
        menus[name] = Menu(
            name=name,
            greeting=draw(prompts) or Prompt("greeting"),
            prompt=draw(prompts) or Prompt(),
            options=MappingProxyType(
                {k: draw(actions(names)) for k in draw(st.lists(keys, unique=True, max_size=6))}
            ),
            directory=directory.name if directory and draw(st.booleans()) else None,
            timeouts=Timeouts(
                first_digit_s=draw(st.floats(MIN_TIMEOUT_S, 10.0)),
                inter_digit_s=draw(st.floats(MIN_TIMEOUT_S, 5.0)),
            ),
            limits=Limits(invalid=draw(st.integers(1, 4)), no_input=draw(st.integers(1, 4))),
            on_limit=draw(actions(names)),
            on_transfer_failure=draw(st.none() | policies(names, 1)),
        )
    entries = {
        "default": Entry("default", draw(st.sampled_from(names))),
        "+15551110000": Entry(
            "+15551110000",
            draw(st.sampled_from(names)),
            schedule="office",
            closed=draw(st.sampled_from(names)),
        ),
    }
    office = Schedule("office", "Europe/Paris", {Weekday.MON: ((time(9), time(17)),)})
    return MenuFile(
        path="generated.yaml",
        version="gen",
        menus=menus,
        entries=entries,
        directories={directory.name: directory} if directory else {},
        schedules={"office": office},
    )


def _transfers_in(action: Action) -> Iterator[Transfer]:
    if isinstance(action, Transfer):
        yield action
        if action.on_failure:
            for kind_action in (
                action.on_failure.busy,
                action.on_failure.no_answer,
                action.on_failure.rejected,
                action.on_failure.error,
            ):
                yield from _transfers_in(kind_action)


def named_targets(file: MenuFile) -> tuple[set[str], list[tuple[re.Pattern[str], DirectoryEntry]]]:
    """The literal targets the file names, and a matcher per directory template."""
    literal: set[str] = set()
    for menu in file.menus.values():
        acts = [*menu.options.values(), menu.on_limit]
        if menu.on_transfer_failure:
            p = menu.on_transfer_failure
            acts += [p.busy, p.no_answer, p.rejected, p.error]
        for a in acts:
            literal.update(t.target for t in _transfers_in(a))
    templates = []
    for directory in file.directories.values():
        for entry in directory.entries:
            if "{ext}" in entry.action.target:
                regex = re.escape(entry.action.target).replace(r"\{ext\}", r"(\d+)")
                templates.append((re.compile(regex + "$"), entry))
            else:
                literal.add(entry.action.target)
    return literal, templates


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    file=menu_files(),
    dialled=st.sampled_from([None, "+15551110000", "+19999999999"]),
    at=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
    ),
    data=st.data(),
)
def test_every_call_ends_and_reaches_only_named_targets(
    file: MenuFile, dialled: str | None, at: datetime, data: st.DataObject
) -> None:
    errors = _Errors()
    logger = logging.getLogger("router.navigator")
    logger.addHandler(errors)
    try:
        _walk(file, dialled, at, data)
    finally:
        logger.removeHandler(errors)
    assert errors.messages == []


def _walk(file: MenuFile, dialled: str | None, at: datetime, data: st.DataObject) -> None:
    literal, templates = named_targets(file)
    inputs: list[Key | None] = data.draw(st.lists(keys | st.none(), max_size=50), label="inputs")
    nav = Navigator(file, caps=CAPS)
    now = 0.0
    pending: list[Callable[[float], Event]] = []  # answers, made at the time they are given
    effects: list[Effect] = nav.handle(CallStarted(dialled, at, now))
    for _ in range(MAX_STEPS):
        for effect in effects:
            if isinstance(effect, Play):
                assert effect.prompts and all(effect.prompts)
                pending.append(partial(PlaybackFinished, effect.play_id))
            elif isinstance(effect, TransferTo):
                assert effect.target in literal or any(
                    (m := rx.match(effect.target)) and entry.matches(m.group(1))
                    for rx, entry in templates
                ), effect.target
                status = data.draw(st.sampled_from([200, 486, 408, 603, None]), label="result")
                if status == 200:
                    pending.append(TransferSucceeded)
                else:
                    pending.append(partial(TransferFailed, status, "failed"))
            elif isinstance(effect, Disconnect):
                assert nav.state is CallState.ENDED
                assert nav.handle(DigitPressed(Key.D1, now)) == []
                event(f"ended: {effect.reason.value}")
                return
        assert nav.state is not CallState.ENDED
        if pending and (not inputs or data.draw(st.booleans(), label="answer first")):
            effects = nav.handle(pending.pop(0)(now))
        elif inputs and (key := inputs.pop(0)) is not None:
            now += data.draw(st.floats(0.0, 2.0), label="pause")
            effects = nav.handle(DigitPressed(key, now))
        else:
            armed = nav.next_deadline()
            assert armed is not None, f"stuck in {nav.state} with no timer armed"
            now = max(now, armed[1])
            effects = nav.handle(TimerFired(armed[0], now))
    pytest.fail(f"the call did not end within {MAX_STEPS} steps (state {nav.state})")
