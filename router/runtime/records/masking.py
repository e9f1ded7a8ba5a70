"""Callers' numbers kept out of records, metrics and logs: masked to their last digits."""

from __future__ import annotations

import re

__all__ = ["destination_label", "mask_digits", "mask_number"]

_PHONE_DIGITS = re.compile(r"\d{7,}")


def mask_number(number: str | None, *, keep: int = 4) -> str | None:
    """`+15105550123` -> `*******0123`: enough to recognise a call, not to dial back."""
    if not number:
        return number
    if keep <= 0:
        return "*" * len(number)
    if len(number) <= keep:
        return "*" * len(number)
    return "*" * (len(number) - keep) + number[-keep:]


def mask_digits(text: str) -> str:
    """Mask every run of 7+ digits (a phone number) in free text: identities, room names."""
    return _PHONE_DIGITS.sub(lambda m: mask_number(m.group()) or "", text)


def destination_label(destination: str | None, target: str) -> str:
    """How records, metrics and logs name a transfer, bounded by the menu file and free of
    dialled digits: the destination's name or directory entry (`staff:6xxx`), else the
    URI the file wrote with any phone number masked."""
    return destination or mask_digits(target)
