"""Which action follows a failed transfer: the transfer's own policy, the menu's, a fallback."""

from __future__ import annotations

from router.core.model import Action, FailureKind, FailurePolicy, Menu, Prompt, Repeat, Transfer

__all__ = ["FALLBACK_POLICY", "after_failure"]

_FALLBACK_MESSAGE = Prompt("Sorry, that line is not available right now.")
FALLBACK_POLICY = FailurePolicy(
    busy=Repeat(_FALLBACK_MESSAGE),
    no_answer=Repeat(_FALLBACK_MESSAGE),
    rejected=Repeat(_FALLBACK_MESSAGE),
    error=Repeat(_FALLBACK_MESSAGE),
)
"""Used only if the loader left a menu without a policy: back to the menu, never silence."""


def after_failure(transfer: Transfer | None, menu: Menu, kind: FailureKind) -> Action:
    """The action for a transfer that failed as `kind`: the transfer's `on_failure`, else
    the menu's `on_transfer_failure`, else FALLBACK_POLICY (each already inherited by the
    loader, so the first one present decides)."""
    policy = (
        (transfer.on_failure if transfer else None) or menu.on_transfer_failure or FALLBACK_POLICY
    )
    return policy.for_kind(kind)
