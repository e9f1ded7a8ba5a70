"""The far end's requests inside the dialog, judged before the dialog acts on them.

A request for another dialog is answered 481 and one out of order 500 (RFC 3261
12.2.2); OPTIONS and the like are answered 200 at once, anything unknown 501 with
`Allow` (8.2.1); a REFER is read into a `Refer` (RFC 3515), or refused 400 without
`Refer-To`. Pure functions of the request and the dialog's identity: the dialog sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.stack.sipphone.actions import Refer
from router.stack.sipphone.message import SipRequest

__all__ = ["ALLOW", "ANSWERED_AT_ONCE", "Refusal", "judge", "read_refer"]

ALLOW = "INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS, INFO, UPDATE"
"""The methods the phone takes (its `Allow` header)."""

ANSWERED_AT_ONCE = ("OPTIONS", "INFO", "NOTIFY", "UPDATE", "MESSAGE")
"""Requests answered 200 with nothing else done (a phone's keep-alives and chatter)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the dialog answers with `status` and does not act on."""

    status: int
    note: str | None
    """What the report says of it (None: nothing worth a note)."""


def judge(
    req: SipRequest,
    *,
    call_id: str,
    local_tag: str,
    remote_tag: str | None,
    last_cseq: int | None,
) -> Refusal | None:
    """None if `req` belongs to this dialog and comes in order (RFC 3261 12.2.2); else
    how to refuse it. A CANCEL here has nothing of ours pending: 481 (9.2)."""
    if req.call_id != call_id:
        return Refusal(481, f"{req.method} for an unknown Call-ID {req.call_id}")
    to_tag, from_tag = req.to.tag, req.from_.tag
    if to_tag != local_tag or (remote_tag is not None and from_tag != remote_tag):
        return Refusal(
            481, f"{req.method} with tags that match no dialog (To {to_tag}, From {from_tag})"
        )
    if req.method == "CANCEL":
        return Refusal(481, None)
    number = req.cseq.number
    if last_cseq is not None and number <= last_cseq:
        return Refusal(500, f"{req.method} CSeq {number} not above the last ({last_cseq})")
    return None


def read_refer(req: SipRequest, now: float, status: int) -> Refer | None:
    """The REFER as the report keeps it, to be answered `status`; None without the
    `Refer-To` it must carry (RFC 3515 2.4.1: answered 400)."""
    refer_to = req.header("Refer-To")
    if refer_to is None:
        return None
    return Refer(
        received_at=now,
        refer_to=refer_to,
        referred_by=req.header("Referred-By"),
        x_headers=req.headers_matching("X-"),
        headers=req.headers,
        cseq=req.cseq.number,
        response_status=status,
    )
