"""The one definition of how a call and a transfer turn out, for records, metrics and
`router report`.

A call ends with one `EndReason` (`router.core.events`); a transfer ends with one
`TransferOutcome`: succeeded, or failed as one of the `FailureKind`s
(`router.core.model`), or unfinished (the call ended while it was out). Metrics label
transfers with `result` and `kind` (`TransferOutcome.labels`), records write `result`
and `kind` on each transfer, and the report reads them back with
`TransferOutcome.of_record`, so the three always count the same thing.

This module imports nothing outside the core: `router report` uses it without LiveKit.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from router.core.events import EndReason
from router.core.model import FailureKind

__all__ = ["GAVE_UP", "EndReason", "TransferOutcome", "TransferResult", "gave_up"]


class TransferResult(StrEnum):
    """A transfer's outcome in three words: a record's `result`, the `result` label of
    `router_transfers_total` (`TransferOutcome.result`)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    """Unfinished (`TransferOutcome.UNFINISHED`): the call ended while it was out."""


class TransferOutcome(StrEnum):
    """How one transfer ended."""

    SUCCEEDED = "succeeded"
    BUSY = FailureKind.BUSY.value
    NO_ANSWER = FailureKind.NO_ANSWER.value
    REJECTED = FailureKind.REJECTED.value
    ERROR = FailureKind.ERROR.value
    UNFINISHED = "unfinished"
    """The call ended before the transfer had an outcome: the caller hung up during it
    (whatever LiveKit then answered: no failure of the destination, as `router simulate`
    says), or the router stopped, or LiveKit went away. A record says `result: pending`,
    metrics do not count it, and `router report` counts the caller as one who gave up."""

    @classmethod
    def of(cls, failure: FailureKind | None) -> TransferOutcome:
        """A success (None) or the failure of this kind."""
        return cls.SUCCEEDED if failure is None else cls(failure.value)

    @property
    def failure(self) -> FailureKind | None:
        """The failure's kind; None for a success or an unfinished transfer."""
        if self in (TransferOutcome.SUCCEEDED, TransferOutcome.UNFINISHED):
            return None
        return FailureKind(self.value)

    @property
    def result(self) -> TransferResult:
        """The record's `result`, the metric's label."""
        if self is TransferOutcome.SUCCEEDED:
            return TransferResult.SUCCEEDED
        if self is TransferOutcome.UNFINISHED:
            return TransferResult.PENDING
        return TransferResult.FAILED

    @property
    def labels(self) -> tuple[str, str]:
        """`(result, kind)` of `router_transfers_total` (kind empty for a success)."""
        failure = self.failure
        return self.result.value, "" if failure is None else failure.value

    @classmethod
    def of_record(cls, transfer: Mapping[str, Any]) -> TransferOutcome | None:
        """The outcome a record's transfer entry (its JSON object) says; None if it says
        nothing valid. A failed one is its `kind`; only a record without a known `kind`
        goes on to `of_failure`."""
        result = transfer.get("result")
        if result == TransferResult.SUCCEEDED:
            return cls.SUCCEEDED
        if result == TransferResult.PENDING:
            return cls.UNFINISHED
        if result != TransferResult.FAILED:
            return None
        kind = transfer.get("kind")
        failed = _FAILED.get(kind) if isinstance(kind, str) else None
        if failed is not None:
            return failed
        return cls.of_failure(kind, transfer.get("detail"), transfer.get("sip_status"))

    @classmethod
    def of_failure(cls, kind: object, detail: object, sip_status: object) -> TransferOutcome:
        """A failed transfer's outcome from a record written before the `kind` field (or
        with a kind this router does not know): the kind `detail` starts with
        (`busy 486: ...`, as the navigator wrote it then), else its SIP status grouped
        (`FailureKind.from_sip_status`). A current record never comes here: its `kind`
        decides (`of_record`)."""
        if not isinstance(kind, str) and isinstance(detail, str):
            kind = detail.split(" ", 1)[0]
        failed = _FAILED.get(kind) if isinstance(kind, str) else None
        if failed is not None:
            return failed
        status = sip_status if isinstance(sip_status, int) else None
        return cls.of(FailureKind.from_sip_status(status))


_FAILED: Mapping[str, TransferOutcome] = {
    kind.value: TransferOutcome(kind.value) for kind in FailureKind
}
"""The outcome of a failed transfer by its record's `kind`."""

GAVE_UP = frozenset({EndReason.CALLER_HANGUP, EndReason.DROPPED})
"""Ends where the caller went away in a menu (hung up, or their line went silent)."""


def gave_up(end: EndReason | str | None) -> bool:
    """Whether a call with this `end` (`CallRecord.end`: text for a reason this router
    does not name, never one it gave up on) was left by its caller rather than ended by
    the router (a transfer, a hang-up the menu made, a limit, a shutdown)."""
    return end in GAVE_UP
