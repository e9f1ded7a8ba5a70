"""The sample menu file built in code, and a call driver, shared by the core and admin tests.

tests/conftest.py hands them out as fixtures (`menu_file`, `make_call`, `render`,
`loader`, `menus_yaml`). The menu file is built from the model directly, so the tests
need neither the loader nor any file on disk; the driver passes time in explicitly, so
nothing sleeps.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Any

from router.admin.simulate import note_words
from router.core.errors import MenuFileError, Problem
from router.core.events import (
    CancelTimer,
    Disconnect,
    Effect,
    Event,
    Note,
    Play,
    StartTimer,
    StopPlayback,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import (
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
    Messages,
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
from router.core.navigator import CallCaps
from router.core.simulation import ScriptedTransfer, SimulatedCall

# --- the sample menu file --------------------------------------------------------------

MONDAY_NOON = datetime(2025, 1, 6, 11, 0, tzinfo=UTC)
"""12:00 in Paris on a Monday: the office is open."""

OFFICE_NUMBER = "+15552220000"
SUPPORT_NUMBER = "+15551110000"


def say(text: str) -> Prompt:
    return Prompt(text)


OPERATOR = Transfer("tel:+15550000000", destination="operator")
SALES = Transfer(
    "sip:sales@pbx.example.com",
    destination="sales",
    settings=TransferSettings(announce=say("Connecting you to sales.")),
    on_failure=FailurePolicy(
        busy=Repeat(say("Sales is busy.")),
        no_answer=Repeat(say("Sales did not answer.")),
        rejected=Repeat(say("Sales cannot take calls.")),
        error=Repeat(say("Sales is unavailable.")),
    ),
)
SUPPORT_DESK = Transfer("sip:desk@pbx.example.com", destination="desk")
VOICEMAIL = Transfer("sip:voicemail@pbx.example.com", destination="voicemail")

MAIN_POLICY = FailurePolicy(
    busy=Say(say("That line is busy.")),
    no_answer=Transfer(
        OPERATOR.target, destination="operator", message=say("No answer; the operator.")
    ),
    rejected=GoTo("support", message=say("That line refused the call.")),
    error=Hangup(say("Something went wrong. Goodbye.")),
)

STAFF = Directory(
    "staff",
    (
        DirectoryEntry("4xxx", Transfer("sip:{ext}@pbx.example.com")),
        DirectoryEntry("50", Transfer("tel:+15550000050", destination="front")),
        DirectoryEntry("500-549", Transfer("sip:{ext}@pbx.example.com")),
    ),
)
LAB = Directory("lab", (DirectoryEntry("3xx", Transfer("sip:lab{ext}@pbx.example.com")),))

MAIN = Menu(
    name="main",
    greeting=say("Welcome. 1 sales, 2 support, 0 operator, or an extension."),
    prompt=say("1 sales, 2 support, 0 operator."),
    options=MappingProxyType(
        {
            Key.D1: SALES,
            Key.D2: GoTo("support"),
            Key.D0: OPERATOR,
            Key.D7: Say(say("We are open nine to five.")),
            Key.D8: Hangup(),
            Key.D9: Hangup(say("Goodbye.")),
            Key.STAR: Repeat(),
        }
    ),
    directory="staff",
    on_limit=OPERATOR,
    on_transfer_failure=MAIN_POLICY,
)
SUPPORT = Menu(
    name="support",
    greeting=say("Support. 1 the desk, 2 questions, star back, pound top."),
    prompt=say("1 desk, 2 questions."),
    options=MappingProxyType(
        {
            Key.D1: SUPPORT_DESK,
            Key.D2: GoTo("faq", message=say("Questions.")),
            Key.STAR: Back(),
            Key.POUND: Top(),
        }
    ),
    timeouts=Timeouts(first_digit_s=4.0, inter_digit_s=2.0),
    limits=Limits(invalid=2, no_input=2),
    messages=Messages(invalid=say("Not valid."), no_input=say("Nothing heard.")),
    on_limit=Hangup(say("Goodbye from support.")),
    on_transfer_failure=MAIN_POLICY,
)
FAQ = Menu(
    name="faq",
    greeting=say("Questions. 1 hours, 3 the lab or a lab extension, 0 top."),
    prompt=say("1 hours, 3 lab."),
    options=MappingProxyType(
        {
            Key.D1: Say(say("Nine to five.")),
            Key.D3: GoTo("lab"),
            Key.D0: Top(say("Back to the start.")),
            Key.STAR: Back(),
        }
    ),
    directory="lab",
    on_limit=Back(),
    on_transfer_failure=MAIN_POLICY,
)
LAB_MENU = Menu(
    name="lab",
    greeting=say("The lab."),
    prompt=say("The lab."),
    options=MappingProxyType({Key.STAR: Back(), Key.D2: GoTo("support")}),
    on_limit=Top(),
    on_transfer_failure=MAIN_POLICY,
)
CLOSED = Menu(
    name="closed",
    greeting=say("We are closed. 1 for voicemail."),
    prompt=say("1 for voicemail."),
    options=MappingProxyType({Key.D1: VOICEMAIL}),
    on_limit=Hangup(say("Goodbye.")),
    on_transfer_failure=MAIN_POLICY,
)

OFFICE = Schedule(
    "office",
    "Europe/Paris",
    {day: ((time(9), time(17)),) for day in (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU)},
    holidays=(date(2025, 12, 25),),
)


def sample_file() -> MenuFile:
    """Every construct the navigator knows, in one small file."""
    return MenuFile(
        path="menus.yaml",
        version="test",
        menus={m.name: m for m in (MAIN, SUPPORT, FAQ, LAB_MENU, CLOSED)},
        entries={
            "default": Entry("default", "main"),
            SUPPORT_NUMBER: Entry(SUPPORT_NUMBER, "support"),
            OFFICE_NUMBER: Entry(OFFICE_NUMBER, "main", schedule="office", closed="closed"),
        },
        destinations={
            "operator": OPERATOR,
            "sales": SALES,
            "desk": SUPPORT_DESK,
            "voicemail": VOICEMAIL,
        },
        directories={"staff": STAFF, "lab": LAB},
        schedules={"office": OFFICE},
    )


# --- a call driver ---------------------------------------------------------------------


def render(effects: Sequence[Effect], *, notes: bool = False) -> list[str]:
    """Effects as short strings, so a table can spell out what a step must produce."""
    out: list[str] = []
    for e in effects:
        match e:
            case Play():
                text = "|".join(p.text or p.audio or "" for p in e.prompts)
                out.append(("play:" if e.interruptible else "announce:") + text)
            case StopPlayback():
                out.append("stop")
            case StartTimer():
                out.append(f"arm:{e.timer.value}@{e.deadline:g}")
            case CancelTimer():
                out.append(f"cancel:{e.timer.value}")
            case TransferTo():
                out.append(f"transfer:{e.target}")
            case Disconnect():
                out.append(f"hangup:{e.reason.value}")
            case Note():
                if notes:
                    out.append(f"note:{note_words(e)}")
    return out


_ANSWERS = {
    "ok": ScriptedTransfer(True),
    "busy": ScriptedTransfer(False, 486, "busy"),
    "noanswer": ScriptedTransfer(False, 408, "noanswer"),
    "rejected": ScriptedTransfer(False, 603, "rejected"),
    "error": ScriptedTransfer(False, None, "error"),
}


class Call(SimulatedCall):
    """The core's simulated call, a step at a time (nothing is answered by itself), with
    a tiny script language."""

    def __init__(self, menu_file: MenuFile, caps: CallCaps) -> None:
        super().__init__(menu_file, caps=caps, instant=False)
        self.last: list[Effect] = []

    def send(self, event: Event) -> list[Effect]:
        self.last = self.feed(event)
        return self.last

    def start(self, dialled: str | None = None, at: datetime = MONDAY_NOON) -> list[Effect]:
        self.last = super().start(dialled, at)
        return self.last

    def step(self, token: str) -> list[Effect]:
        """One script token.

        A keypad symbol presses it half a second later; `~` finishes the latest Play;
        `.` fires the earliest armed timer at its deadline; `ok`, `busy`, `noanswer`,
        `rejected`, `error` answer a transfer; `end` is the caller hanging up.
        """
        if token == "~":
            self.last = self.finish_prompt()
        elif token == ".":
            fired = self.wait()
            assert fired is not None, "no timer armed"
            self.last = fired
        elif token in _ANSWERS:
            self.last = self.answer(_ANSWERS[token])
        elif token == "end":
            self.last = self.hang_up()
        else:
            key = Key.parse(token)
            assert key is not None and len(token) == 1, f"bad token {token!r}"
            self.last = self.press(key, 0.5)
        return self.last

    def run(self, script: str) -> list[Effect]:
        for token in script.split():
            self.step(token)
        return self.last


@dataclass
class FakeLoader:
    """Stands in for `router.core.loader`: hands out one MenuFile, or refuses it."""

    menu_file: MenuFile
    problems: list[Problem] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def load_menu_file(self, path: str, **options: object) -> Any:
        """As the loader's; its options (`max_bytes`, the speech `engine`) change nothing."""
        self.paths.append(str(path))
        if self.problems:
            raise MenuFileError(self.problems)
        return types.SimpleNamespace(menu_file=self.menu_file, warnings=[])


SMALL_YAML = """\
version: 1
defaults:
  on_limit: {transfer: operator}
destinations:
  operator: "tel:+15550000000"
  sales: {to: "sip:sales@pbx.example.com", say: "Connecting you to sales."}
directories:
  staff:
    "4xxx": "sip:{ext}@pbx.example.com"
numbers:
  default: {menu: main}
menus:
  main:
    greeting: "Welcome. 1 sales, 2 support, 0 operator."
    directory: staff
    options:
      "1": {transfer: sales}
      "2": {menu: support}
      "0": {transfer: operator}
  support:
    greeting: "Support. Star to go back."
    options:
      "*": back
      "#": {hangup: "Goodbye."}
"""
