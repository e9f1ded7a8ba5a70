"""Keypad keys: the sixteen DTMF symbols and their RFC 4733 event codes."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Key"]


class Key(StrEnum):
    """One keypad key. The value is the symbol a caller presses and an admin writes."""

    D0 = "0"
    D1 = "1"
    D2 = "2"
    D3 = "3"
    D4 = "4"
    D5 = "5"
    D6 = "6"
    D7 = "7"
    D8 = "8"
    D9 = "9"
    STAR = "*"
    POUND = "#"
    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def code(self) -> int:
        """The RFC 4733 event code (0-9, `*`=10, `#`=11, A-D=12-15), as in LiveKit's SipDTMF."""
        return _CODES[self]

    @property
    def is_digit(self) -> bool:
        return self.value.isdigit()

    @classmethod
    def from_code(cls, code: int) -> Key | None:
        """The key for an event code, or None for a code no keypad sends (16+ are flash etc.)."""
        return _BY_CODE.get(code)

    @classmethod
    def parse(cls, symbol: str) -> Key | None:
        """The key for a symbol written in a file or sent by LiveKit (`a` is `A`), else None."""
        try:
            return cls(symbol.strip().upper())
        except ValueError:
            return None


_CODES: dict[Key, int] = {k: i for i, k in enumerate(Key)}
_BY_CODE: dict[int, Key] = {i: k for k, i in _CODES.items()}
