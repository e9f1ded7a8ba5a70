"""Untrusted YAML files as node trees: bytes to text to nodes, or the one reason why not.

Shared by every file the router reads from an admin (the menu file, the test file):
a file that cannot be read, too big, binary, not UTF-8, with characters YAML does not
allow, with a YAML syntax error (in the admin's words, with a hint for the usual
causes), hostile (see `router.core.yamlsafe`) or empty is refused with one `Problem`.
What a file of a given kind is called in these sentences is its `FileKind`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import yaml

from router.core.errors import Location, Problem
from router.core.patterns import compiled
from router.core.yamlsafe import ComposeLimits, Node, Scalar, TooBig, compose

__all__ = [
    "MAX_BYTES",
    "MENU_FILE",
    "FileKind",
    "Source",
    "compose_source",
    "decode",
    "read_bytes",
    "too_big",
]

MAX_BYTES = 1_000_000
"""A large real menu file is tens of kilobytes; a megabyte leaves room and stops accidents."""


@dataclass(frozen=True, slots=True)
class FileKind:
    """What a kind of file is called in the sentences that refuse it."""

    noun: str
    """`menu file`, `test file`."""
    usual_name: str
    """The name such files usually have (`menus.yaml`)."""
    first_line: str
    """What such a file starts with (`version: 1`), for the hint on an empty one."""


MENU_FILE = FileKind("menu file", "menus.yaml", "version: 1")


@dataclass(slots=True)
class Source:
    """A file read as far as its node tree: `root` is None when it cannot be used."""

    name: str
    text: str
    root: Node | None
    problems: list[Problem] = field(default_factory=list)
    """Why there is no root; else findings that do not stop reading (custom tags)."""
    syntax_error: bool = False
    """The YAML could not be parsed (a comment may have taken part of a line away)."""


_CONTROL = "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
"""What YAML does not allow in a file: C0 and C1 controls (but tab, newlines, NEL),
surrogates, U+FFFE and U+FFFF (the reader's NON_PRINTABLE class)."""
_ASCII_TEXT = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
"""The ASCII bytes `_CONTROL` allows: an ASCII file of only these is searched in one
`bytes.translate` (a few ms for 4 MB, where the search took 0.17 s)."""


def read_bytes(
    path: str, kind: FileKind = MENU_FILE, max_bytes: int = MAX_BYTES
) -> bytes | Problem:
    """The bytes of an admin's file, or the one reason they cannot be had.

    A file over `max_bytes` is refused (`too_big`) before it is read; a pipe or a
    device (its size 0) is read to one byte past the limit, no further, so memory stays
    bounded whatever the file. A folder, a missing or an unreadable file is a `Problem`
    at 1:1, never an exception."""
    where = Location(path, 1, 1)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                return too_big(where, size, max_bytes, kind)
            data = f.read(max_bytes + 1)
    except IsADirectoryError:
        return Problem(where, f"this is a folder, not a {kind.noun}", code="unreadable")
    except OSError as exc:
        return Problem(where, f"cannot read the file: {exc.strerror or exc}", code="unreadable")
    return data if len(data) <= max_bytes else too_big(where, None, max_bytes, kind)


def too_big(where: Location, size: int | None, limit: int, kind: FileKind = MENU_FILE) -> Problem:
    """The refusal of a file over the size limit (`size` and `limit` in bytes; `size` None
    for a pipe or a device, read only as far as the limit)."""
    said = f"{size:,} bytes" if size is not None else f"over {limit:,} bytes"
    return Problem(
        where,
        f"the file is {said}; {kind.noun}s are limited to {limit:,} bytes",
        hint="is this the right file?",
        code="too-big",
    )


def compose_source(data: bytes, filename: str, kind: FileKind = MENU_FILE) -> Source:
    """The node tree of a file's bytes, or every reason there is none."""
    start = Location(filename, 1, 1)
    decoded = decode(data, filename, kind)
    if isinstance(decoded, Problem):
        return Source(filename, "", None, [decoded])
    try:
        composed = compose(decoded, filename, ComposeLimits())
    except TooBig as exc:
        return Source(filename, decoded, None, [exc.problem])
    except yaml.MarkedYAMLError as exc:
        return Source(filename, decoded, None, [_syntax_problem(exc, filename, decoded)], True)
    except yaml.YAMLError as exc:  # e.g. the reader refusing a character: never a traceback
        return Source(filename, decoded, None, [Problem(start, f"YAML: {exc}", code="yaml-syntax")])
    root = composed.root
    if root is None or (type(root) is Scalar and root.is_null):
        empty = Problem(
            start, "the file is empty", hint=f"start with '{kind.first_line}'", code="empty"
        )
        return Source(filename, decoded, None, [*composed.problems, empty])
    return Source(filename, decoded, root, composed.problems)


def decode(data: bytes, filename: str, kind: FileKind = MENU_FILE) -> str | Problem:
    """UTF-8 text, or the one reason this is not a text file an admin wrote."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(
            Location(filename, 1, 1),
            "the file is UTF-16, not UTF-8",
            hint="save it as UTF-8",
            code="not-utf8",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    if nul >= 0:
        return Problem(
            byte_location(data, nul, filename),
            "this is not a text file (it contains binary data)",
            hint=f"a {kind.noun} is YAML text, usually {kind.usual_name}",
            code="binary",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(
            byte_location(data, exc.start, filename),
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X} here)",
            hint="save it as UTF-8",
            code="not-utf8",
        )
    if data.isascii() and not data.translate(None, _ASCII_TEXT):
        return text  # every byte a printable, a tab or a line break: no search needed
    bad = compiled(_CONTROL).search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        return Problem(
            Location(filename, line, column),
            f"this is not a text file (control character U+{ord(bad.group()):04X})",
            hint=f"a {kind.noun} is YAML text, usually {kind.usual_name}",
            code="binary",
        )
    return text


def byte_location(data: bytes, offset: int, filename: str) -> Location:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Location(filename, data.count(b"\n", 0, offset) + 1, column)


def _syntax_problem(exc: yaml.MarkedYAMLError, filename: str, text: str) -> Problem:
    """A YAML syntax error in the admin's words, with a hint for the usual causes."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line, mark.column) if mark is not None else (0, 0)
    message = f"YAML syntax: {exc.problem or exc.context}"
    hint = None
    if exc.context and exc.context_mark is not None and exc.problem:
        context = exc.context_mark
        hint = f"{exc.context} at line {context.line + 1}, column {context.column + 1}"
    lines = text.splitlines()
    here = lines[line] if line < len(lines) else ""
    if exc.context in ("while scanning an alias", "while scanning an anchor") and exc.context_mark:
        line, column = exc.context_mark.line, exc.context_mark.column
        sign = "*" if exc.context.endswith("alias") else "&"
        message = f"YAML syntax: a bare {sign} starts a YAML {exc.context.rsplit(' ', 1)[1]}"
        hint = f'to use {sign} as a key or a value, quote it: "{sign}"'
    elif "\t" in here[: column + 1] or "'\\t'" in str(exc.problem):
        hint = "indent with spaces, not tabs"
    return Problem(Location(filename, line + 1, column + 1), message, hint=hint, code="yaml-syntax")
