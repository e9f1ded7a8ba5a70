"""The test phone's call states and the one table of what moves between them.

:data:`TRANSITIONS` is read by :class:`router.stack.sipphone.dialog.Dialog`, whose
``_fire`` is the only place a call's state changes (RFC 3261 section 13 and 17.1.1 for
the INVITE client's states; the table is drawn in the dialog module's docstring).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

__all__ = ["TRANSITIONS", "PhoneState", "Trigger"]


class PhoneState(enum.StrEnum):
    """Where the call is."""

    IDLE = "idle"
    """Nothing sent yet."""
    CALLING = "calling"
    """INVITE sent, nothing heard back."""
    PROCEEDING = "proceeding"
    """A provisional response (100, 180, 183) arrived: CANCEL is allowed now."""
    CANCELLING = "cancelling"
    """CANCEL sent; waiting for the INVITE's final answer (487)."""
    CONFIRMED = "confirmed"
    """2xx received and ACKed: media flows, keys may be sent."""
    TERMINATING = "terminating"
    """Our BYE is out; waiting for its answer."""
    ENDED = "ended"
    """Over; the outcome is known."""


class Trigger(enum.Enum):
    """What can move the call from one state to another."""

    START = "start"
    """The INVITE is about to be sent."""
    PROVISIONAL = "provisional"
    """A 1xx answer to the INVITE."""
    ACCEPTED = "accepted"
    """The first 2xx answer to the INVITE."""
    REJECTED = "rejected"
    """The first 3xx-6xx answer to the INVITE."""
    CANCEL = "cancel"
    """We hang up while it rings: CANCEL."""
    BYE = "bye"
    """We hang up an answered call: BYE."""
    BYE_ANSWERED = "bye_answered"
    """The far end answered our BYE."""
    REMOTE_BYE = "remote_bye"
    """The far end sent BYE."""
    NO_ANSWER = "no_answer"
    """A timer ran out: the INVITE (timer B), our CANCEL or our BYE got no answer."""
    GIVE_UP = "give_up"
    """We stop without a SIP exchange: hung up before any provisional, closed, no network."""


_S = PhoneState
_T = Trigger

TRANSITIONS: Mapping[PhoneState, Mapping[Trigger, PhoneState]] = {
    _S.IDLE: {_T.START: _S.CALLING, _T.GIVE_UP: _S.ENDED},
    _S.CALLING: {
        _T.PROVISIONAL: _S.PROCEEDING,
        _T.ACCEPTED: _S.CONFIRMED,
        _T.REJECTED: _S.ENDED,
        _T.REMOTE_BYE: _S.ENDED,
        _T.NO_ANSWER: _S.ENDED,
        _T.GIVE_UP: _S.ENDED,
    },
    _S.PROCEEDING: {
        _T.PROVISIONAL: _S.PROCEEDING,
        _T.ACCEPTED: _S.CONFIRMED,
        _T.REJECTED: _S.ENDED,
        _T.CANCEL: _S.CANCELLING,
        _T.REMOTE_BYE: _S.ENDED,
        _T.GIVE_UP: _S.ENDED,
    },
    _S.CANCELLING: {
        _T.PROVISIONAL: _S.CANCELLING,
        _T.ACCEPTED: _S.TERMINATING,
        _T.REJECTED: _S.ENDED,
        _T.REMOTE_BYE: _S.ENDED,
        _T.NO_ANSWER: _S.ENDED,
        _T.GIVE_UP: _S.ENDED,
    },
    _S.CONFIRMED: {
        _T.BYE: _S.TERMINATING,
        _T.REMOTE_BYE: _S.ENDED,
        _T.GIVE_UP: _S.ENDED,
    },
    _S.TERMINATING: {
        _T.BYE_ANSWERED: _S.ENDED,
        _T.REMOTE_BYE: _S.ENDED,
        _T.NO_ANSWER: _S.ENDED,
        _T.GIVE_UP: _S.ENDED,
    },
    _S.ENDED: {},
}
"""state -> trigger -> next state; a trigger missing from a state's row is ignored there."""
